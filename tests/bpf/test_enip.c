// SPDX-License-Identifier: GPL-2.0
/*
 * `enip: read-only | any` (README step 12, cranegate-policy(5) "ICS
 * function classes") on the real XDP program (BPF_PROG_TEST_RUN): every
 * encapsulation command read-only admits and some it refuses, every CIP
 * service of the class and the writes, control and unknown services it
 * refuses, on unconnected (SendRRData) and connected (SendUnitData)
 * messages, Unconnected_Send and Multiple_Service_Packet nesting up to
 * and past its bounds, and every framing failure. Every request also goes
 * through the reference evaluator (user/policy/reference.c), which must
 * give the same reason and name the same CIP service.
 *
 * Then the well-formed requests are written to a pcap and read back with
 * tshark: the encapsulation command (enip.command) and the first CIP
 * service (cip.sc) Wireshark reports must be the ones the test meant
 * (skipped without tshark). CG_ENIP_PCAP=FILE keeps the pcap. Last, the
 * CIP request of ../shared/captures/cip_stop_plc.pcap (a Stop sent to a
 * Logix PLC) is carried in a stream of its own: refused.
 */
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cip.h"
#include "frames.h"
#include "gate.h"
#include "harness.h"
#include "reference.h"

CG_TEST_GLOBALS;

#define PLC "198.18.20.40"
#define SRC_RO "198.18.10.30"
#define SRC_ANY "198.18.10.31"
#define SRC_RULES "198.18.10.32"

static const char *policy_text =
	"version: 1\n"
	"name: enip\n"
	"zones:\n"
	"  business: {interfaces: [biz0], networks: [198.18.10.0/24]}\n"
	"  control: {interfaces: [crane0], networks: [198.18.20.0/24]}\n"
	"flows:\n"
	"  - name: read-only\n"
	"    from: " SRC_RO "\n"
	"    to: " PLC "\n"
	"    proto: tcp\n"
	"    ports: [44818]\n"
	"    enip: read-only\n"
	"  - name: any\n"
	"    from: " SRC_ANY "\n"
	"    to: " PLC "\n"
	"    proto: tcp\n"
	"    ports: [44818]\n"
	"    enip: any\n"
	"  - name: rules\n"
	"    from: " SRC_RULES "\n"
	"    to: " PLC "\n"
	"    proto: tcp\n"
	"    ports: [44818]\n"
	"    enip:\n"
	"      allow:\n"
	"        - services: [read]\n"
	"        - services: [0x4D]\n"
	"          classes: [0x6B]\n"
	"        - services: [control]\n"
	"          classes: [0x8E, 0x300]\n"
	"        - services: [connection, 0x10]\n"
	"          classes: [0x06, 0xF5]\n";

enum { F_RO, F_ANY, F_RULES };

static char ifnames[2][CG_IFNAME_MAX] = {"biz0", "crane0"};

#define MAX_CASES 200
#define NO_FN 0xffff

/*
 * One request. `cmd` and `sc`: what tshark must read back (wf only; sc
 * -1 when the packet carries no CIP request); `fn`: the service the event
 * must name.
 */
struct en_case {
	char name[96];
	int flow;
	bool pass;
	bool wf;
	int cmd, sc;
	unsigned fn;
	uint8_t payload[2048];
	size_t len;
};

static struct en_case cases[MAX_CASES];
static int n_cases;

static struct en_case *add(int flow, bool pass, const char *name, unsigned fn)
{
	struct en_case *c = &cases[n_cases++];

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s: %s",
		 flow == F_RO	 ? "read-only"
		 : flow == F_ANY ? "any"
				 : "rules",
		 name);
	c->flow = flow;
	c->pass = pass;
	c->fn = flow == F_ANY ? NO_FN : fn; /* any: framing only, no CIP */
	c->sc = -1;
	return c;
}

/* A CIP request in a SendRRData (or SendUnitData when `connected`). */
static struct en_case *cip_case(int flow, bool pass, const char *name,
				const uint8_t *cip, size_t n, bool connected,
				unsigned fn)
{
	struct en_case *c = add(flow, pass, name, fn);

	c->len = connected ? cg_enip_unit(c->payload, sizeof(c->payload), 7,
					  cip, n)
			   : cg_enip_rr(c->payload, sizeof(c->payload), cip, n);
	c->wf = true;
	c->cmd = connected ? 0x70 : 0x6f;
	c->sc = cip[0];
	return c;
}

/* A service on an object: class `cls`, instance 1, a few bytes of data. */
static void svc_case(int flow, bool pass, const char *name, uint8_t svc,
		     int cls, bool connected)
{
	static const uint8_t data[4] = {1, 0, 1, 0};
	uint8_t cip[64];
	size_t n = cg_cip_request(cip, sizeof(cip), svc, cls, data, 4);

	cip_case(flow, pass, name, cip, n, connected, svc);
}

/* A service on a tag (Read Tag: element count 1). */
static void tag_case(int flow, bool pass, const char *name, uint8_t svc,
		     bool connected)
{
	static const uint8_t data[6] = {1, 0, 0, 0, 0, 0};
	uint8_t cip[64];
	size_t n = cg_cip_tag_request(cip, sizeof(cip), svc, "Hoist_Speed",
				      data, svc == 0x4c ? 2 : 6);

	cip_case(flow, pass, name, cip, n, connected, svc);
}

/* An encapsulation command with `dlen` bytes of data. */
static void cmd_case(int flow, bool pass, const char *name, uint16_t cmd,
		     size_t dlen)
{
	static const uint8_t data[8] = {1, 0, 0, 0};
	struct en_case *c = add(flow, pass, name, NO_FN);

	c->len = cg_enip_encap(c->payload, sizeof(c->payload), cmd, 0, data,
			       dlen);
	c->wf = true;
	c->cmd = cmd;
}

/* A raw payload, built by the caller (malformed cases). */
static struct en_case *raw_case(int flow, bool pass, const char *name,
				const uint8_t *p, size_t n, unsigned fn)
{
	struct en_case *c = add(flow, pass, name, fn);

	memcpy(c->payload, p, n);
	c->len = n;
	return c;
}

static size_t tag_read(uint8_t *b, size_t cap)
{
	static const uint8_t one[2] = {1, 0};

	return cg_cip_tag_request(b, cap, 0x4c, "Trolley_Pos", one, 2);
}

static size_t tag_write(uint8_t *b, size_t cap)
{
	static const uint8_t v[8] = {0xc4, 0, 1, 0, 0x2a, 0, 0, 0};

	return cg_cip_tag_request(b, cap, 0x4d, "Trolley_Pos", v, 8);
}

/* A Multiple_Service_Packet of `n` requests, write at index `w` (or -1). */
static size_t msp_of(uint8_t *b, size_t cap, size_t n, long w)
{
	uint8_t reqs[32][64];
	const uint8_t *rp[32];
	size_t lens[32], i;

	for (i = 0; i < n && i < 32; i++) {
		lens[i] = (long)i == w ? tag_write(reqs[i], 64)
				       : tag_read(reqs[i], 64);
		rp[i] = reqs[i];
	}
	return cg_cip_msp(b, cap, rp, lens, n);
}

static void build_cases(void)
{
	uint8_t a[2048], b[2048], x[2048];
	size_t na, nb, nx;
	struct en_case *c;
	static const uint8_t stop_req[6] = {0x07, 0x02, 0x20, 0x8e, 0x24, 0x01};
	int i;

	/* Encapsulation commands. */
	cmd_case(F_RO, true, "ListServices (0x04)", 0x0004, 0);
	cmd_case(F_RO, true, "ListIdentity (0x63)", 0x0063, 0);
	cmd_case(F_RO, true, "ListInterfaces (0x64)", 0x0064, 0);
	cmd_case(F_RO, true, "RegisterSession (0x65)", 0x0065, 4);
	cmd_case(F_RO, true, "UnRegisterSession (0x66)", 0x0066, 0);
	cmd_case(F_RO, false, "NOP (0x00)", 0x0000, 0);
	cmd_case(F_RO, false, "IndicateStatus (0x72)", 0x0072, 0);
	cmd_case(F_RO, false, "Cancel (0x73)", 0x0073, 0);
	cmd_case(F_RO, false, "unknown command 0x00C8", 0x00c8, 4);
	cmd_case(F_ANY, true, "unknown command 0x00C8", 0x00c8, 4);

	/* Services read-only admits, unconnected and connected. */
	for (i = 0; i < 2; i++) {
		bool cn = i == 1;

		svc_case(F_RO, true,
			 cn ? "c: Get_Attributes_All (0x01)"
			    : "Get_Attributes_All (0x01)",
			 0x01, 0x01, cn);
		svc_case(F_RO, true,
			 cn ? "c: Get_Attribute_List (0x03)"
			    : "Get_Attribute_List (0x03)",
			 0x03, 0x01, cn);
		svc_case(F_RO, true,
			 cn ? "c: Get_Attribute_Single (0x0E)"
			    : "Get_Attribute_Single (0x0E)",
			 0x0e, 0x01, cn);
		svc_case(F_RO, true,
			 cn ? "c: Get_Instance_Attribute_List (0x55)"
			    : "Get_Instance_Attribute_List (0x55)",
			 0x55, 0x6b, cn);
		tag_case(F_RO, true,
			 cn ? "c: Read Tag (0x4C)" : "Read Tag (0x4C)", 0x4c,
			 cn);
		tag_case(F_RO, true,
			 cn ? "c: Read Tag Fragmented (0x52)"
			    : "Read Tag Fragmented (0x52)",
			 0x52, cn);
		tag_case(F_RO, false,
			 cn ? "c: Write Tag (0x4D)" : "Write Tag (0x4D)", 0x4d,
			 cn);
		tag_case(F_RO, false,
			 cn ? "c: Write Tag Fragmented (0x53)"
			    : "Write Tag Fragmented (0x53)",
			 0x53, cn);
		tag_case(F_RO, false,
			 cn ? "c: Read-Modify-Write (0x4E) on a tag"
			    : "Read-Modify-Write (0x4E) on a tag",
			 0x4e, cn);
	}
	svc_case(F_RO, true, "Read Tag Fragmented (0x52) on class 0x6B", 0x52,
		 0x6b, false);
	svc_case(F_RO, true, "Forward_Open (0x54) on class 0x06", 0x54, 0x06,
		 false);
	svc_case(F_RO, true, "Large_Forward_Open (0x5B) on class 0x06", 0x5b,
		 0x06, false);
	svc_case(F_RO, true, "Forward_Close (0x4E) on class 0x06", 0x4e, 0x06,
		 false);
	{
		static const uint8_t fo16[9] = {0x54, 3,    0x21, 0, 6,
						0,    0x24, 1,	  0};

		cip_case(F_RO, true, "Forward_Open on class 0x06 (16-bit)",
			 fo16, sizeof(fo16), false, 0x54);
	}
	svc_case(F_RO, false, "Forward_Open (0x54) on class 0x02", 0x54, 0x02,
		 false);
	svc_case(F_RO, false, "Forward_Open with no class in the path", 0x54,
		 CG_CIP_NO_CLASS, false);
	svc_case(F_RO, false, "Large_Forward_Open on class 0x01", 0x5b, 0x01,
		 false);
	/* Writes, control, create/delete, vendor and unknown services. */
	svc_case(F_RO, false, "Set_Attributes_All (0x02)", 0x02, 0x01, false);
	svc_case(F_RO, false, "Set_Attribute_List (0x04)", 0x04, 0x01, false);
	svc_case(F_RO, false, "Set_Attribute_Single (0x10)", 0x10, 0xf5, false);
	svc_case(F_RO, false, "Reset (0x05) of the identity", 0x05, 0x01,
		 false);
	svc_case(F_RO, false, "Start (0x06)", 0x06, 0x8e, false);
	svc_case(F_RO, false, "Stop (0x07)", 0x07, 0x8e, false);
	svc_case(F_RO, false, "c: Stop (0x07)", 0x07, 0x8e, true);
	svc_case(F_RO, false, "Create (0x08)", 0x08, 0x04, false);
	svc_case(F_RO, false, "Delete (0x09)", 0x09, 0x04, false);
	svc_case(F_RO, false, "Apply_Attributes (0x0D)", 0x0d, 0xf5, false);
	svc_case(F_RO, false, "vendor service 0x4B", 0x4b, 0x6b, false);
	svc_case(F_RO, false, "unknown service 0x32", 0x32, 0x01, false);
	svc_case(F_RO, false, "0x52 with no class and no tag", 0x52,
		 CG_CIP_NO_CLASS, false);
	svc_case(F_RO, false, "Set_Attribute_Single on a 16-bit class 0x300",
		 0x10, 0x300, false);
	svc_case(F_ANY, true, "Set_Attribute_Single (0x10)", 0x10, 0xf5, false);
	svc_case(F_ANY, true, "Stop (0x07)", 0x07, 0x8e, false);
	tag_case(F_ANY, true, "Write Tag (0x4D)", 0x4d, false);
	/* Responses pass. */
	a[0] = 0xcc;
	a[1] = 0;
	a[2] = 0;
	a[3] = 0;
	cip_case(F_RO, true, "a Read Tag response (0xCC)", a, 4, false, 0xcc)
		->sc = 0x4c; /* tshark: cip.sc 0x4c, and cip.rr says response */

	/* Unconnected_Send: the request it carries is judged. */
	na = tag_read(a, sizeof(a));
	nb = cg_cip_unconnected_send(b, sizeof(b), a, na);
	cip_case(F_RO, true, "Unconnected_Send of Read Tag", b, nb, false,
		 0x4c);
	na = tag_write(a, sizeof(a));
	nb = cg_cip_unconnected_send(b, sizeof(b), a, na);
	cip_case(F_RO, false, "Unconnected_Send of Write Tag", b, nb, false,
		 0x4d);
	nb = cg_cip_unconnected_send(b, sizeof(b), stop_req, 6);
	cip_case(F_RO, false, "Unconnected_Send of Stop", b, nb, false, 0x07);
	na = cg_cip_request(a, sizeof(a), 0x54, 0x06, (const uint8_t[]){0}, 1);
	nb = cg_cip_unconnected_send(b, sizeof(b), a, na);
	cip_case(F_RO, true, "Unconnected_Send of Forward_Open", b, nb, false,
		 0x54);
	/* Unconnected_Send in Unconnected_Send: depth 2 is a leaf. */
	na = tag_read(a, sizeof(a));
	nb = cg_cip_unconnected_send(b, sizeof(b), a, na);
	nx = cg_cip_unconnected_send(x, sizeof(x), b, nb);
	cip_case(F_RO, true, "Unconnected_Send in Unconnected_Send of Read Tag",
		 x, nx, false, 0x4c);
	na = tag_write(a, sizeof(a));
	nb = cg_cip_unconnected_send(b, sizeof(b), a, na);
	nx = cg_cip_unconnected_send(x, sizeof(x), b, nb);
	cip_case(F_RO, false,
		 "Unconnected_Send in Unconnected_Send of Write Tag", x, nx,
		 false, 0x4d);
	/* Three levels: the third container is refused, whatever it holds. */
	na = tag_read(a, sizeof(a));
	nb = cg_cip_unconnected_send(b, sizeof(b), a, na);
	nx = cg_cip_unconnected_send(x, sizeof(x), b, nb);
	nb = cg_cip_unconnected_send(b, sizeof(b), x, nx);
	cip_case(F_RO, false, "three nested Unconnected_Sends of Read Tag", b,
		 nb, false, 0x52);
	/* The embedded size: larger than what follows. */
	na = tag_read(a, sizeof(a));
	nb = cg_cip_unconnected_send(b, sizeof(b), a, na);
	b[8] = (uint8_t)(nb - 9); /* one past what follows it */
	b[9] = 0;
	cip_case(F_RO, false, "Unconnected_Send whose size overruns", b, nb,
		 false, 0x52)
		->wf = false;

	/* Multiple_Service_Packet: every request in it. */
	nb = msp_of(b, sizeof(b), 3, -1);
	cip_case(F_RO, true, "MSP of 3 Read Tags", b, nb, false, 0x4c);
	nb = msp_of(b, sizeof(b), 3, 1);
	cip_case(F_RO, false, "MSP of 3 with a Write Tag second", b, nb, false,
		 0x4d);
	nb = msp_of(b, sizeof(b), 3, 2);
	cip_case(F_RO, false, "MSP of 3 with a Write Tag last", b, nb, false,
		 0x4d);
	nb = msp_of(b, sizeof(b), 16, -1);
	cip_case(F_RO, true, "MSP of 16 Read Tags (the limit)", b, nb, false,
		 0x4c);
	nb = msp_of(b, sizeof(b), 17, -1);
	cip_case(F_RO, false, "MSP of 17 Read Tags (past the limit)", b, nb,
		 false, 0x0a);
	nb = msp_of(b, sizeof(b), 16, 15);
	cip_case(F_RO, false, "MSP of 16 with a Write Tag last", b, nb, false,
		 0x4d);
	nb = msp_of(b, sizeof(b), 0, -1);
	cip_case(F_RO, true, "MSP of none", b, nb, false, 0x0a);
	svc_case(F_RO, false, "MSP whose one offset points into its count",
		 0x0a, 0x02, false);
	/* Offsets: decreasing, pointing into the offsets, past the end. */
	nb = msp_of(b, sizeof(b), 2, -1);
	b[8] = b[10];
	b[9] = b[11];
	b[10] = 8;
	b[11] = 0;
	cip_case(F_RO, false, "MSP with decreasing offsets", b, nb, false, 0x0a)
		->wf = false;
	nb = msp_of(b, sizeof(b), 2, -1);
	b[8] = 2;
	cip_case(F_RO, false, "MSP with an offset into its offsets", b, nb,
		 false, 0x0a)
		->wf = false;
	nb = msp_of(b, sizeof(b), 2, -1);
	b[10] = 0xff;
	b[11] = 0x0f;
	cip_case(F_RO, false, "MSP with an offset past its end", b, nb, false,
		 0x0a)
		->wf = false;
	nb = msp_of(b, sizeof(b), 2, -1);
	b[10] = b[8];
	b[11] = b[9];
	cip_case(F_RO, false, "MSP with two equal offsets", b, nb, false, 0x0a)
		->wf = false;
	/* Nesting: US of MSP, MSP of US, and one level too deep. */
	nb = msp_of(b, sizeof(b), 2, -1);
	nx = cg_cip_unconnected_send(x, sizeof(x), b, nb);
	cip_case(F_RO, true, "Unconnected_Send of an MSP of Read Tags", x, nx,
		 false, 0x4c);
	nb = msp_of(b, sizeof(b), 2, 0);
	nx = cg_cip_unconnected_send(x, sizeof(x), b, nb);
	cip_case(F_RO, false, "Unconnected_Send of an MSP with a Write Tag", x,
		 nx, false, 0x4d);
	{
		uint8_t r1[128], r2[128];
		const uint8_t *rp[2] = {r1, r2};
		size_t l[2];

		na = tag_write(a, sizeof(a));
		l[0] = tag_read(r1, sizeof(r1));
		l[1] = cg_cip_unconnected_send(r2, sizeof(r2), a, na);
		nb = cg_cip_msp(b, sizeof(b), rp, l, 2);
		cip_case(F_RO, false, "MSP of a read and a US of Write Tag", b,
			 nb, false, 0x4d);
		na = tag_read(a, sizeof(a));
		l[1] = cg_cip_unconnected_send(r2, sizeof(r2), a, na);
		nb = cg_cip_msp(b, sizeof(b), rp, l, 2);
		cip_case(F_RO, true, "MSP of a read and a US of Read Tag", b,
			 nb, false, 0x4c);
		/* US of (MSP of (US of read)): the inner US at depth 2. */
		nx = cg_cip_unconnected_send(x, sizeof(x), b, nb);
		cip_case(F_RO, false, "US of an MSP holding a US (too deep)", x,
			 nx, false, 0x52);
		/* MSP of 16 US of Read Tag: 33 requests, past the queue. */
		{
			uint8_t us[16][128];
			const uint8_t *up[16];
			size_t ul[16];
			int k;

			na = tag_read(a, sizeof(a));
			for (k = 0; k < 16; k++) {
				ul[k] = cg_cip_unconnected_send(us[k], 128, a,
								na);
				up[k] = us[k];
			}
			nb = cg_cip_msp(b, sizeof(b), up, ul, 16);
			cip_case(F_RO, false,
				 "MSP of 16 US of Read Tag (33 requests)", b,
				 nb, false, 0x52);
			nb = cg_cip_msp(b, sizeof(b), up, ul, 15);
			cip_case(F_RO, true,
				 "MSP of 15 US of Read Tag (31 requests)", b,
				 nb, false, 0x4c);
		}
	}

	/* Several encapsulation packets in one segment. */
	c = add(F_RO, true, "RegisterSession and a Read Tag in one segment",
		0x4c);
	c->len = cg_enip_encap(c->payload, sizeof(c->payload), 0x65, 0,
			       (const uint8_t[]){1, 0, 0, 0}, 4);
	na = tag_read(a, sizeof(a));
	c->len += cg_enip_rr(c->payload + c->len, sizeof(c->payload) - c->len,
			     a, na);
	c = add(F_RO, false, "a Read Tag then a Write Tag in one segment",
		0x4d);
	c->len = cg_enip_rr(c->payload, sizeof(c->payload), a, na);
	nb = tag_write(b, sizeof(b));
	c->len += cg_enip_rr(c->payload + c->len, sizeof(c->payload) - c->len,
			     b, nb);
	c = add(F_RO, true, "4 Read Tag packets (the limit)", 0x4c);
	for (i = 0; i < 4; i++)
		c->len += cg_enip_rr(c->payload + c->len,
				     sizeof(c->payload) - c->len, a, na);
	c = add(F_RO, false, "5 Read Tag packets (past the limit)", NO_FN);
	for (i = 0; i < 5; i++)
		c->len += cg_enip_rr(c->payload + c->len,
				     sizeof(c->payload) - c->len, a, na);
	c = add(F_ANY, false, "any: 5 packets (past the limit)", NO_FN);
	for (i = 0; i < 5; i++)
		c->len += cg_enip_rr(c->payload + c->len,
				     sizeof(c->payload) - c->len, a, na);

	/* Framing. */
	na = tag_read(a, sizeof(a));
	nb = cg_enip_rr(b, sizeof(b), a, na);
	raw_case(F_RO, false, "a header cut at 23 bytes", b, 23, NO_FN);
	raw_case(F_ANY, false, "any: a header cut at 23 bytes", b, 23, NO_FN);
	raw_case(F_RO, false, "a packet one byte short of its length", b,
		 nb - 1, NO_FN);
	raw_case(F_ANY, false, "any: a packet one byte short of its length", b,
		 nb - 1, NO_FN);
	memcpy(x, b, nb);
	x[nb] = 0x6f;
	raw_case(F_RO, false, "a byte after the packet", x, nb + 1, NO_FN);
	raw_case(F_ANY, false, "any: a byte after the packet", x, nb + 1,
		 NO_FN);
	memcpy(x, b, nb);
	x[2] = 0xff;
	x[3] = 0xff;
	raw_case(F_RO, false, "a length of 65535", x, nb, NO_FN);
	/* CPF. */
	memcpy(x, b, nb);
	x[24 + 6] = 9;
	raw_case(F_RO, false, "9 CPF items (limit 8)", x, nb, NO_FN);
	memcpy(x, b, nb);
	x[24 + 6] = 1;
	raw_case(F_RO, false, "an item count of 1 for 2 items", x, nb, NO_FN);
	memcpy(x, b, nb);
	x[24 + 6] = 3;
	raw_case(F_RO, false, "an item count of 3 for 2 items", x, nb, NO_FN);
	memcpy(x, b, nb);
	x[24 + 8 + 4 + 2]++; /* the data item's length */
	raw_case(F_RO, false, "a data item longer than the packet", x, nb,
		 NO_FN);
	memcpy(x, b, nb);
	x[24 + 8 + 4 + 2]--;
	raw_case(F_RO, false, "a data item one byte short", x, nb, NO_FN);
	memcpy(x, b, nb);
	x[24 + 8] = 0x91; /* the address item's type */
	raw_case(F_RO, false, "an unknown item type 0x0091", x, nb, NO_FN);
	memcpy(x, b, nb);
	x[24 + 8] = 0xb2; /* the null address item becomes a data item */
	raw_case(F_RO, false, "two data items", x, nb, NO_FN);
	memcpy(x, b, nb);
	x[24 + 8 + 4] = 0x00; /* the data item becomes a null item */
	x[24 + 8 + 5] = 0x00;
	raw_case(F_RO, false, "no data item", x, nb, NO_FN);
	c = add(F_RO, false, "SendRRData of 7 bytes (no CPF)", NO_FN);
	c->len = cg_enip_encap(c->payload, sizeof(c->payload), 0x6f, 1,
			       (const uint8_t[8]){0}, 7);
	c = add(F_RO, false, "a connected data item of its sequence alone",
		NO_FN);
	c->len = cg_enip_unit(c->payload, sizeof(c->payload), 1, NULL, 0);
	/* CIP. */
	cip_case(F_RO, false, "a CIP request of 1 byte", a, 1, false, NO_FN)
		->wf = false;
	memcpy(x, a, na);
	x[1] = 0x7f;
	cip_case(F_RO, false, "a CIP path longer than the request", x, na,
		 false, 0x4c)
		->wf = false;
	cip_case(F_RO, false, "c: a CIP request of 1 byte", a, 1, true, NO_FN)
		->wf = false;

	/* allow: rules. Rule 1: class read anywhere; rule 2: Write Tag
	 * (0x4D) on class 0x6B only; rule 3: control on 0x8E and 0x300;
	 * rule 4: connection and Set_Attribute_Single (0x10) on 0x06, 0xF5. */
	tag_case(F_RULES, true, "Read Tag (class read)", 0x4c, false);
	tag_case(F_RULES, true, "c: Read Tag Fragmented (class read)", 0x52,
		 true);
	svc_case(F_RULES, true, "Get_Attribute_Single (class read)", 0x0e, 0x01,
		 false);
	tag_case(F_RULES, false, "Write Tag on a tag (no class: not rule 2)",
		 0x4d, false);
	svc_case(F_RULES, true, "Write Tag on class 0x6B (rule 2)", 0x4d, 0x6b,
		 false);
	svc_case(F_RULES, false, "Write Tag on class 0x6C", 0x4d, 0x6c, false);
	svc_case(F_RULES, false, "Write Tag Fragmented on class 0x6B", 0x53,
		 0x6b, false);
	svc_case(F_RULES, true, "Stop on class 0x8E (rule 3)", 0x07, 0x8e,
		 false);
	svc_case(F_RULES, true, "Reset on class 0x300 (16-bit, rule 3)", 0x05,
		 0x300, false);
	svc_case(F_RULES, false, "Stop on class 0x01", 0x07, 0x01, false);
	svc_case(F_RULES, true, "Forward_Open on class 0x06 (rule 4)", 0x54,
		 0x06, false);
	svc_case(F_RULES, true, "Forward_Close on class 0x06 (rule 4)", 0x4e,
		 0x06, false);
	tag_case(F_RULES, false, "Read-Modify-Write on a tag (class write)",
		 0x4e, false);
	svc_case(F_RULES, false, "Forward_Open on class 0xF5 (class other)",
		 0x54, 0xf5, false);
	svc_case(F_RULES, true, "Set_Attribute_Single on class 0xF5 (rule 4)",
		 0x10, 0xf5, false);
	svc_case(F_RULES, false, "Set_Attribute_Single on class 0xF6", 0x10,
		 0xf6, false);
	svc_case(F_RULES, false, "Set_Attribute_List on class 0xF5", 0x04, 0xf5,
		 false);
	svc_case(F_RULES, false, "unknown service 0x32 (class other)", 0x32,
		 0x01, false);
	cmd_case(F_RULES, false, "IndicateStatus (0x72)", 0x0072, 0);
	cmd_case(F_RULES, true, "ListIdentity (0x63)", 0x0063, 0);
	/* Carriers: what they carry is judged, each request on its own. */
	{
		uint8_t r1[128], r2[128];
		const uint8_t *rp[2] = {r1, r2};
		size_t l[2];

		l[0] = tag_read(r1, sizeof(r1));
		l[1] = cg_cip_request(r2, sizeof(r2), 0x4d, 0x6b,
				      (const uint8_t[]){1, 0}, 2);
		nb = cg_cip_msp(b, sizeof(b), rp, l, 2);
		cip_case(F_RULES, true, "MSP of a read and a Write Tag on 0x6B",
			 b, nb, false, 0x4d);
		l[1] = tag_write(r2, sizeof(r2));
		nb = cg_cip_msp(b, sizeof(b), rp, l, 2);
		cip_case(F_RULES, false,
			 "MSP of a read and a Write Tag on a tag", b, nb, false,
			 0x4d);
		na = cg_cip_request(a, sizeof(a), 0x07, 0x8e, NULL, 0);
		nx = cg_cip_unconnected_send(x, sizeof(x), a, na);
		cip_case(F_RULES, true, "Unconnected_Send of Stop on 0x8E", x,
			 nx, false, 0x07);
		na = cg_cip_request(a, sizeof(a), 0x07, 0x8f, NULL, 0);
		nx = cg_cip_unconnected_send(x, sizeof(x), a, na);
		cip_case(F_RULES, false, "Unconnected_Send of Stop on 0x8F", x,
			 nx, false, 0x07);
		nb = msp_of(b, sizeof(b), 17, -1);
		cip_case(F_RULES, false, "MSP of 17 reads (past the limit)", b,
			 nb, false, 0x0a);
	}

	/* The Stop request of cip_stop_plc.pcap, as it was sent. */
	cip_case(F_RO, false, "the capture's Stop (0x07 on class 0x8E)",
		 stop_req, 6, true, 0x07);
	cip_case(F_ANY, true, "the capture's Stop (0x07 on class 0x8E)",
		 stop_req, 6, true, 0x07);
}

/* The opener's next sequence number per source port (0: no SYN yet). */
static uint32_t next_seq[65536];

struct ctx {
	struct cg_gate *g;
	struct cg_refeval *ref;
};

/* Run a frame through the program and the reference; both must say. */
static void judge(struct ctx *c, const char *name, uint8_t *buf, size_t len,
		  unsigned reason, unsigned flow, const struct en_case *m)
{
	struct cg_ref_result rr;
	struct cg_event ev = {};
	char what[200];
	int action;

	cg_frame_station_mac(buf, len);
	snprintf(what, sizeof(what), "%s: test run", name);
	if (!ASSERT_OK(cg_gate_test_run(c->g, if_nametoindex("biz0"), buf, len,
					&ev, &action),
		       what))
		return;
	snprintf(what, sizeof(what), "%s: %s", name, cg_reason_names[reason]);
	ASSERT_EQ(ev.reason, reason, what);
	snprintf(what, sizeof(what), "%s: flow", name);
	ASSERT_EQ(ev.flow, flow, what);
	cg_ref_eval(c->ref, "biz0", buf, len, &rr);
	snprintf(what, sizeof(what), "%s: the reference agrees", name);
	ASSERT_EQ(rr.reason, reason, what);
	if (m) {
		snprintf(what, sizeof(what),
			 "%s: the event names enip service %#x", name, m->fn);
		ASSERT_TRUE(ev.ics_proto == CG_ICS_PROTO_ENIP &&
				    ev.function == m->fn,
			    what);
		if (ev.function != m->fn)
			printf("# event function %#x\n", ev.function);
		snprintf(what, sizeof(what),
			 "%s: the reference names the same service", name);
		ASSERT_EQ(rr.function, ev.function, what);
	}
}

static void run_payload(struct ctx *c, const char *name, int flow,
			uint16_t sport, const uint8_t *p, size_t n, bool pass,
			const struct en_case *m)
{
	const char *src = flow == F_RO	  ? SRC_RO
			  : flow == F_ANY ? SRC_ANY
					  : SRC_RULES;
	uint8_t buf[CG_FRAME_MAX];
	struct cg_frame_spec s;
	size_t len;

	if (!next_seq[sport]) {
		cg_frame_tcp(&s, src, PLC, sport, CG_ENIP_TEST_PORT,
			     CG_TCP_SYN);
		s.tcp_seq = 1000;
		len = cg_frame_build(&s, buf, sizeof(buf));
		judge(c, "SYN", buf, len, CG_R_ALLOWED, (unsigned)flow, NULL);
		next_seq[sport] = 1001;
	}
	cg_frame_tcp(&s, src, PLC, sport, CG_ENIP_TEST_PORT,
		     CG_TCP_ACK | CG_TCP_PSH);
	s.tcp_seq = next_seq[sport];
	s.payload = p;
	s.payload_len = n;
	len = cg_frame_build(&s, buf, sizeof(buf));
	judge(c, name, buf, len, pass ? CG_R_ALLOWED : CG_R_ICS_DENIED,
	      (unsigned)flow, m);
	if (pass)
		next_seq[sport] += (uint32_t)n;
}

/*
 * A request split over two segments: each segment's new data must be
 * whole packets, so the first half is refused and nothing of it reaches
 * the PLC; the whole request then passes (a read) or is refused (a write).
 */
static void run_split(struct ctx *c)
{
	uint8_t a[256], p[512];
	size_t na, n, cut;
	uint16_t sport = 41000;

	na = tag_read(a, sizeof(a));
	n = cg_enip_rr(p, sizeof(p), a, na);
	for (cut = 1; cut < n; cut += 13) {
		char name[96];

		snprintf(name, sizeof(name),
			 "split Read Tag: the first %zu bytes", cut);
		run_payload(c, name, F_RO, sport, p, cut, false, NULL);
	}
	run_payload(c, "split Read Tag: then whole", F_RO, sport, p, n, true,
		    NULL);
	na = tag_write(a, sizeof(a));
	n = cg_enip_rr(p, sizeof(p), a, na);
	run_payload(c, "split Write Tag: the header alone", F_RO, sport, p, 24,
		    false, NULL);
	run_payload(c, "split Write Tag: all but the last byte", F_RO, sport, p,
		    n - 1, false, NULL);
	run_payload(c, "split Write Tag: whole", F_RO, sport, p, n, false,
		    NULL);
	run_payload(c, "any: split Write Tag: the header alone", F_ANY,
		    sport + 1, p, 24, false, NULL);
	run_payload(c, "any: split Write Tag: whole", F_ANY, sport + 1, p, n,
		    true, NULL);
}

/* ---- tshark ---------------------------------------------------------- */

static int write_pcap(const char *path)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d;
	int i;

	if (!p)
		return -1;
	d = pcap_dump_open(p, path);
	if (!d) {
		pcap_close(p);
		return -1;
	}
	for (i = 0; i < n_cases; i++) {
		uint8_t frame[CG_FRAME_MAX];
		struct pcap_pkthdr h = {0};
		struct cg_frame_spec s;

		cg_frame_tcp(&s, SRC_RO, PLC, (uint16_t)(50000 + i),
			     CG_ENIP_TEST_PORT, CG_TCP_PSH | CG_TCP_ACK);
		s.payload = cases[i].payload;
		s.payload_len = cases[i].len;
		h.caplen = h.len =
			(uint32_t)cg_frame_build(&s, frame, sizeof(frame));
		h.ts.tv_sec = 1700000000 + i;
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}

static void check_tshark(const char *pcap)
{
	char cmd[1024], line[2048], what[200];
	bool seen[MAX_CASES] = {false};
	FILE *f;
	int k;

	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r %s -d tcp.port==%d,enip -T fields "
		 "-E separator=/t -E occurrence=f -e frame.number "
		 "-e enip.command -e cip.sc 2>/dev/null",
		 pcap, CG_ENIP_TEST_PORT);
	f = popen(cmd, "r");
	if (!ASSERT_TRUE(f, "run tshark"))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *col[3] = {line, NULL, NULL}, *p;
		const struct en_case *m;
		int i;

		line[strcspn(line, "\r\n")] = 0;
		p = strchr(line, '\t');
		if (!p)
			continue;
		*p++ = 0;
		col[1] = p;
		p = strchr(p, '\t');
		col[2] = p ? (*p = 0, p + 1) : (char *)"";
		i = atoi(col[0]) - 1;
		if (i < 0 || i >= n_cases)
			continue;
		seen[i] = true;
		m = &cases[i];
		if (!m->wf)
			continue;
		snprintf(what, sizeof(what), "tshark: %s: enip.command %#x",
			 m->name, m->cmd);
		ASSERT_EQ(strtol(col[1], NULL, 0), m->cmd, what);
		snprintf(what, sizeof(what), "tshark: %s: cip.sc", m->name);
		ASSERT_EQ(*col[2] ? strtol(col[2], NULL, 0) : -1, m->sc, what);
	}
	pclose(f);
	for (k = 0; k < n_cases; k++) {
		snprintf(what, sizeof(what), "tshark: %.96s: frame read",
			 cases[k].name);
		ASSERT_TRUE(seen[k], what);
	}
}

int main(void)
{
	struct cg_diags d = {.file = "test.yaml"};
	struct cg_gate_opts o = {.record = true};
	struct cg_policy *p = NULL;
	struct cg_compiled *cp = NULL;
	struct ctx c = {};
	char pcap[] = "/tmp/cranegate-enip-XXXXXX";
	const char *keep = getenv("CG_ENIP_PCAP");
	int err, i, fd;

	build_cases();
	if (!ASSERT_OK(cg_sandbox_enter(ifnames, 2), "private namespace"))
		return cg_test_done();
	err = cg_policy_parse("test.yaml", policy_text, strlen(policy_text), &p,
			      &d);
	if (!err)
		err = cg_compile(p, &cp, &d);
	cg_diags_print(&d, stdout);
	cg_diags_free(&d);
	if (!ASSERT_OK(err, "policy parses and compiles"))
		goto out;
	if (!ASSERT_OK(cg_gate_load(cp, &o, &c.g), "instance loads (verifier)"))
		goto out;
	c.ref = cg_ref_new(p);
	if (!ASSERT_TRUE(c.ref, "reference evaluator"))
		goto out;
	/* A few connections per flow; refused requests leave the stream
	 * where it was, so the next request continues it. */
	for (i = 0; i < n_cases; i++)
		run_payload(&c, cases[i].name, cases[i].flow,
			    (uint16_t)(40000 + (i % 4) * 4 + cases[i].flow),
			    cases[i].payload, cases[i].len, cases[i].pass,
			    &cases[i]);
	run_split(&c);

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		printf("ok %d - tshark dissection # SKIP tshark is not "
		       "installed (tests/lib/deps.sh installs it)\n",
		       ++cg_test_n);
		goto out;
	}
	fd = mkstemp(pcap);
	if (!ASSERT_TRUE(fd >= 0, "temporary pcap"))
		goto out;
	close(fd);
	if (ASSERT_OK(write_pcap(keep ? keep : pcap), "write the pcap"))
		check_tshark(keep ? keep : pcap);
	unlink(pcap);
out:
	cg_ref_free(c.ref);
	cg_gate_free(c.g);
	cg_compiled_free(cp);
	cg_policy_free(p);
	return cg_test_done();
}
