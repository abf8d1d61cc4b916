// SPDX-License-Identifier: GPL-2.0
/*
 * deny: reset through the real XDP program (BPF_PROG_TEST_RUN): a Modbus
 * write refused on a `deny: reset` flow comes back as a RST (XDP_TX) that
 * the client's stack accepts, read back byte by byte: MACs, addresses and
 * ports swapped, IPv4 header and TCP checksums right (IPv4 and IPv6), seq
 * = the request's ACK number, ack = its end, RST|ACK, no data, trimmed;
 * the VLAN tag kept, in the frame or put back from the NIC's metadata.
 * The connection is forgotten, and never answered twice: no RST for a
 * retransmission, for a segment that carries RST itself, in monitor mode,
 * or on a flow with the default `deny: drop`.
 *
 * CG_RESET_DUMP=1 prints each RST as a hex dump (TAP comments), for
 * text2pcap and tshark.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "ics.h"
#include "gate.h"
#include "harness.h"
#include "loader.h"

CG_TEST_GLOBALS;

static const char *policy_text =
	"version: 1\n"
	"name: reset-test\n"
	"zones:\n"
	"  business:\n"
	"    interfaces: [biz0]\n"
	"    networks: [198.18.10.0/24, \"2001:2:0:10::/64\"]\n"
	"  business-tagged:\n"
	"    interfaces: [biz1]\n"
	"    vlans: [200]\n"
	"    networks: [198.18.11.0/24]\n"
	"  control:\n"
	"    interfaces: [crane0]\n"
	"    networks: [198.18.20.0/24, \"2001:2:0:20::/64\"]\n"
	"flows:\n"
	"  - name: hmi-drop\n"
	"    from: 198.18.10.9\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"    modbus: read-only\n"
	"  - name: hmi-reset\n"
	"    from: [business, business-tagged]\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"    modbus: read-only\n"
	"    deny: reset\n";

#define F_DROP 0
#define F_RESET 1

static char ifnames[3][CG_IFNAME_MAX] = {"biz0", "biz1", "crane0"};

static const uint8_t rd[] = {0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1};
static const uint8_t wr[] = {0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, 0x2a};

#define ISN 1000u
#define RSP_ISN 4999u

struct conv {
	const char *client, *server, *ifname;
	uint16_t sport;
	uint16_t vlan;		    /* in the frame, 0: none */
	const struct cg_rx_tag *rx; /* a tag the NIC stripped, or NULL */
	uint32_t next;		    /* the client's next sequence number */
};

struct out {
	struct cg_event ev;
	int action;
	uint8_t buf[CG_FRAME_MAX];
	size_t len; /* of buf: the frame as the program left it */
	uint8_t in[CG_FRAME_MAX];
	size_t in_len; /* the frame sent */
};

static struct cg_gate *g;

/* Run a frame (the station MAC set) and keep what came out. */
static int run(const struct conv *cv, const char *ifname, uint8_t *frame,
	       size_t len, struct out *o)
{
	size_t meta = cv && cv->rx && !strcmp(ifname, cv->ifname)
			      ? sizeof(*cv->rx)
			      : 0;

	cg_frame_station_mac(frame, len);
	memcpy(o->in, frame, len);
	o->in_len = len;
	return cg_gate_test_run_out(
		g, if_nametoindex(ifname), meta ? cv->rx : NULL, meta, frame,
		len, o->buf, sizeof(o->buf), &o->len, &o->ev, &o->action);
}

/* A segment of the conversation: from the client, or from the server. */
static size_t seg(const struct conv *cv, bool from_client, uint8_t flags,
		  uint32_t seq, uint32_t ack, const uint8_t *pl, size_t n,
		  uint8_t *buf)
{
	struct cg_frame_spec s;

	if (from_client)
		cg_frame_tcp(&s, cv->client, cv->server, cv->sport, 502, flags);
	else
		cg_frame_tcp(&s, cv->server, cv->client, 502, cv->sport, flags);
	s.tcp_seq = seq;
	s.tcp_ack = ack;
	s.payload = pl;
	s.payload_len = n;
	if (from_client && cv->vlan) {
		s.n_tags = 1;
		s.tags[0].tci = cv->vlan;
	}
	return cg_frame_build(&s, buf, CG_FRAME_MAX);
}

/* SYN, SYN-ACK, then a read: the connection is open and synchronized. */
static bool handshake(struct conv *cv, const char *what)
{
	uint8_t buf[CG_FRAME_MAX];
	struct out *o = calloc(1, sizeof(*o));
	char name[160];
	size_t len;
	bool ok = true;

	len = seg(cv, true, CG_TCP_SYN, ISN, 0, NULL, 0, buf);
	run(cv, cv->ifname, buf, len, o);
	snprintf(name, sizeof(name), "%s: the SYN opens", what);
	ok &= ASSERT_EQ(o->ev.reason, CG_R_ALLOWED, name);
	len = seg(cv, false, CG_TCP_SYN | CG_TCP_ACK, RSP_ISN, ISN + 1, NULL, 0,
		  buf);
	run(cv, "crane0", buf, len, o);
	snprintf(name, sizeof(name), "%s: the SYN-ACK is a reply", what);
	ok &= ASSERT_EQ(o->ev.reason, CG_R_REPLY, name);
	cv->next = ISN + 1;
	len = seg(cv, true, CG_TCP_ACK | CG_TCP_PSH, cv->next, RSP_ISN + 1, rd,
		  sizeof(rd), buf);
	run(cv, cv->ifname, buf, len, o);
	snprintf(name, sizeof(name), "%s: a read passes", what);
	ok &= ASSERT_EQ(o->action, XDP_PASS, name);
	cv->next += sizeof(rd);
	free(o);
	return ok;
}

/* The one's-complement sum of n bytes, as 16-bit big-endian words. */
static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/*
 * Is `o->buf` (after `skip` bytes of metadata) the RST that answers the
 * request in `o->in`? One assertion per fact.
 */
static void check_rst(const struct out *o, size_t skip, const char *what,
		      uint16_t want_vlan)
{
	const uint8_t *q = o->in, *r = o->buf + skip;
	size_t rlen = o->len - skip, ql3 = 14, rl3 = 14;
	size_t iph, qth, rth, qdata;
	uint32_t s;
	int fam;
	char n[200];

#define A_EQ(a, b, fact)                                                       \
	do {                                                                   \
		snprintf(n, sizeof(n), "%s: %s", what, fact);                  \
		ASSERT_EQ(a, b, n);                                            \
	} while (0)

	if (getenv("CG_RESET_DUMP"))
		cg_frame_hexdump(stdout, "# ", o->buf + skip, o->len - skip);
	A_EQ(o->action, XDP_TX, "sent back out (XDP_TX)");
	A_EQ(o->ev.verdict, CG_V_DROP, "the verdict stays drop");
	A_EQ(o->ev.reason, CG_R_ICS_DENIED, "the reason stays ics-denied");
	A_EQ(!!(o->ev.flags & CG_EV_RESET), 1, "the event notes the reset");
	A_EQ(o->ev.flow, F_RESET, "the event names the flow");
	if (o->action != XDP_TX)
		return;
	if (q[12] == 0x81 && q[13] == 0)
		ql3 = 18;
	if (r[12] == 0x81 && r[13] == 0)
		rl3 = 18;
	A_EQ(rl3 == 18 ? (r[14] << 8 | r[15]) & 0xfff : 0, want_vlan,
	     "on the request's VLAN");
	A_EQ(memcmp(r, q + 6, 6), 0, "to the requester's MAC");
	A_EQ(memcmp(r + 6, q, 6), 0, "from the MAC it was sent to");
	fam = r[rl3] >> 4;
	iph = fam == 4 ? 20 : 40;
	qth = ql3 + iph;
	rth = rl3 + iph;
	A_EQ(rlen, rth + 20, "trimmed to its headers");
	if (rlen < rth + 20)
		return;
	A_EQ(r[rl3 - 2] << 8 | r[rl3 - 1], fam == 4 ? 0x0800 : 0x86dd,
	     "its ethertype");
	if (fam == 4) {
		qdata = (q[ql3 + 2] << 8 | q[ql3 + 3]) - 20 -
			(q[qth + 12] >> 4) * 4;
		A_EQ(memcmp(r + rl3 + 12, q + ql3 + 16, 4), 0,
		     "from the address the request went to");
		A_EQ(memcmp(r + rl3 + 16, q + ql3 + 12, 4), 0,
		     "to the requester's address");
		A_EQ(r[rl3], 0x45, "IPv4 without options");
		A_EQ(r[rl3 + 2] << 8 | r[rl3 + 3], 40, "IPv4 total length");
		A_EQ(r[rl3 + 9], 6, "IPv4 protocol TCP");
		A_EQ(fold(sum16(0, r + rl3, 20)), 0xffff,
		     "IPv4 header checksum");
		s = sum16(0, r + rl3 + 12, 8);
	} else {
		qdata = (q[ql3 + 4] << 8 | q[ql3 + 5]) - (q[qth + 12] >> 4) * 4;
		A_EQ(memcmp(r + rl3 + 8, q + ql3 + 24, 16), 0,
		     "from the address the request went to");
		A_EQ(memcmp(r + rl3 + 24, q + ql3 + 8, 16), 0,
		     "to the requester's address");
		A_EQ(r[rl3 + 4] << 8 | r[rl3 + 5], 20, "IPv6 payload length");
		A_EQ(r[rl3 + 6], 6, "IPv6 next header TCP");
		s = sum16(0, r + rl3 + 8, 32);
	}
	s += 6 + 20; /* the pseudo-header's protocol and TCP length */
	A_EQ(fold(sum16(s, r + rth, 20)), 0xffff, "TCP checksum");
	A_EQ(r[rth] << 8 | r[rth + 1], q[qth + 2] << 8 | q[qth + 3],
	     "from the server's port");
	A_EQ(r[rth + 2] << 8 | r[rth + 3], q[qth] << 8 | q[qth + 1],
	     "to the client's port");
	A_EQ(be32(r + rth + 4), be32(q + qth + 8),
	     "seq = the request's ACK number (the client's RCV.NXT)");
	A_EQ(be32(r + rth + 8), be32(q + qth + 4) + (uint32_t)qdata,
	     "ack = the request's end");
	A_EQ(r[rth + 13], CG_TCP_RST | CG_TCP_ACK, "flags RST|ACK");
	A_EQ(r[rth + 12] >> 4, 5, "no options");
#undef A_EQ
}

/* A write on a deny: reset flow: the RST, then the connection is gone. */
static void test_reset_conv(struct conv *cv, const char *what,
			    uint16_t want_vlan)
{
	struct out *o = calloc(1, sizeof(*o));
	uint8_t buf[CG_FRAME_MAX];
	char n[160];
	size_t len;

	if (!o || !handshake(cv, what))
		goto out;
	len = seg(cv, true, CG_TCP_ACK | CG_TCP_PSH, cv->next, RSP_ISN + 1, wr,
		  sizeof(wr), buf);
	if (!ASSERT_OK(run(cv, cv->ifname, buf, len, o), "test run"))
		goto out;
	check_rst(o, cv->rx && o->action == XDP_TX ? sizeof(*cv->rx) : 0, what,
		  want_vlan);

	/* Forgotten: the server's next segment is no reply any more. */
	len = seg(cv, false, CG_TCP_ACK, RSP_ISN + 1, cv->next, NULL, 0, buf);
	run(cv, "crane0", buf, len, o);
	snprintf(n, sizeof(n),
		 "%s: the connection is forgotten (server's ACK "
		 "is no-rule)",
		 what);
	ASSERT_EQ(o->ev.reason, CG_R_NO_RULE, n);
	/* The write again (a retransmission): dropped, never a second RST. */
	len = seg(cv, true, CG_TCP_ACK | CG_TCP_PSH, cv->next, RSP_ISN + 1, wr,
		  sizeof(wr), buf);
	run(cv, cv->ifname, buf, len, o);
	snprintf(n, sizeof(n), "%s: the write again is dropped, no second RST",
		 what);
	ASSERT_EQ(o->action, XDP_DROP, n);
out:
	free(o);
}

static void test_reset(void)
{
	static const struct cg_rx_tag rx = {
		.magic = CG_RX_TAG_MAGIC, .tci = 200, .present = 1};
	struct conv v4 = {"198.18.10.5", "198.18.20.30", "biz0", 40000};
	struct conv v6 = {"2001:2:0:10::5", "2001:2:0:20::30", "biz0", 40001};
	struct conv tagged = {"198.18.11.5", "198.18.20.30", "biz1", 40002,
			      200};
	struct conv stripped = {
		"198.18.11.6", "198.18.20.30", "biz1", 40003, 0, &rx};

	test_reset_conv(&v4, "reset IPv4", 0);
	test_reset_conv(&v6, "reset IPv6", 0);
	test_reset_conv(&tagged, "reset VLAN 200 in the frame", 200);
	test_reset_conv(&stripped, "reset VLAN 200 stripped by the NIC", 200);
}

/* What is never answered with a RST. */
static void test_no_reset(void)
{
	struct out *o = calloc(1, sizeof(*o));
	struct conv cv = {"198.18.10.6", "198.18.20.30", "biz0", 40010};
	struct conv drop = {"198.18.10.9", "198.18.20.30", "biz0", 40011};
	uint8_t buf[CG_FRAME_MAX];
	size_t len;

	if (!o)
		return;
	/* A write in a segment that itself carries RST: no RST for a RST. */
	if (handshake(&cv, "RST|ACK with a write")) {
		len = seg(&cv, true, CG_TCP_RST | CG_TCP_ACK, cv.next,
			  RSP_ISN + 1, wr, sizeof(wr), buf);
		run(&cv, "biz0", buf, len, o);
		ASSERT_EQ(o->ev.reason, CG_R_ICS_DENIED,
			  "RST|ACK with a write: ics-denied");
		ASSERT_EQ(o->action, XDP_DROP,
			  "RST|ACK with a write: dropped, not answered");
		ASSERT_EQ(o->ev.flags & CG_EV_RESET, 0,
			  "RST|ACK with a write: the event notes no reset");
	}
	/* deny: drop (the default) keeps today's behaviour. */
	if (handshake(&drop, "deny: drop")) {
		len = seg(&drop, true, CG_TCP_ACK | CG_TCP_PSH, drop.next,
			  RSP_ISN + 1, wr, sizeof(wr), buf);
		run(&drop, "biz0", buf, len, o);
		ASSERT_EQ(o->ev.reason, CG_R_ICS_DENIED,
			  "deny: drop: the write is ics-denied");
		ASSERT_EQ(o->action, XDP_DROP, "deny: drop: dropped");
		ASSERT_EQ(o->ev.flow, F_DROP, "deny: drop: its flow");
		len = seg(&drop, true, CG_TCP_ACK | CG_TCP_PSH, drop.next,
			  RSP_ISN + 1, rd, sizeof(rd), buf);
		run(&drop, "biz0", buf, len, o);
		ASSERT_EQ(o->action, XDP_PASS,
			  "deny: drop: the connection stays, the next read "
			  "passes");
	}
	free(o);
}

/* Monitor mode passes what would drop: nothing to answer. */
static void test_monitor(void)
{
	struct cg_diags d = {.file = "test.yaml"};
	struct cg_gate_opts opts = {.record = true};
	struct cg_policy *p = NULL;
	struct cg_compiled *cp = NULL;
	struct cg_gate *live = g;
	struct out *o = calloc(1, sizeof(*o));
	struct conv cv = {"198.18.10.7", "198.18.20.30", "biz0", 40020};
	uint8_t buf[CG_FRAME_MAX];
	size_t n = strlen(policy_text) + 32, len;
	char *text = malloc(n);
	int err;

	if (!o || !text)
		goto out;
	snprintf(text, n, "mode: monitor\n%s", policy_text);
	err = cg_policy_parse("test.yaml", text, strlen(text), &p, &d);
	if (!err)
		err = cg_compile(p, &cp, &d);
	cg_diags_free(&d);
	if (!ASSERT_OK(err, "monitor: policy compiles") ||
	    !ASSERT_OK(cg_gate_load(cp, &opts, &g), "monitor: loads"))
		goto out;
	if (handshake(&cv, "monitor")) {
		len = seg(&cv, true, CG_TCP_ACK | CG_TCP_PSH, cv.next,
			  RSP_ISN + 1, wr, sizeof(wr), buf);
		run(&cv, "biz0", buf, len, o);
		ASSERT_EQ(o->ev.reason, CG_R_MONITOR,
			  "monitor: the write passes as monitor");
		ASSERT_EQ(o->action, XDP_PASS, "monitor: passed, no RST");
	}
	cg_gate_free(g);
out:
	g = live;
	cg_compiled_free(cp);
	cg_policy_free(p);
	free(text);
	free(o);
}

/*
 * With a shadow policy (apply --shadow): the live instance hands the
 * request to the shadow untouched, and the shadow sends the live
 * instance's RST; with the shadow slot empty, the live instance sends it.
 */
static struct cg_gate *load_pinned(const char *pin_root, unsigned slot,
				   struct cg_policy **pp,
				   struct cg_compiled **cp)
{
	struct cg_diags d = {.file = "test.yaml"};
	struct cg_gate_opts o = {
		.pin_root = pin_root, .record = true, .slot = slot};
	struct cg_gate *out = NULL;
	int err;

	err = cg_policy_parse("test.yaml", policy_text, strlen(policy_text), pp,
			      &d);
	if (!err)
		err = cg_compile(*pp, cp, &d);
	cg_diags_free(&d);
	if (!err)
		err = cg_gate_load(*cp, &o, &out);
	return err ? NULL : out;
}

static void test_shadow(void)
{
	struct cg_gate *plain = g, *live = NULL, *shadow = NULL;
	struct cg_policy *p1 = NULL, *p2 = NULL;
	struct cg_compiled *c1 = NULL, *c2 = NULL;
	struct conv cv = {"198.18.10.8", "198.18.20.30", "biz0", 40030};
	struct conv cv2 = {"198.18.10.8", "198.18.20.30", "biz0", 40031};
	struct cg_live l = {.slot = CG_SLOT_A, .shadow = 1};
	struct cg_event sev = {};
	struct cg_env env = {};
	char pin_root[PATH_MAX / 2], path[PATH_MAX];
	uint8_t buf[CG_FRAME_MAX];
	struct out *o = calloc(1, sizeof(*o));
	int lock = -1, progs = -1, lfd = -1, fd;
	uint32_t zero = 0, slot;
	size_t len, i;

	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/cgt_reset_%d",
		 (int)getpid());
	env.pin_root = pin_root;
	if (!o || !ASSERT_OK(cg_lock(&env, &lock), "shadow: private pin root"))
		goto out;
	live = load_pinned(pin_root, CG_SLOT_A, &p1, &c1);
	shadow = load_pinned(pin_root, CG_SLOT_SHADOW, &p2, &c2);
	snprintf(path, sizeof(path), "%s/progs", pin_root);
	progs = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/live", pin_root);
	lfd = bpf_obj_get(path);
	if (!ASSERT_TRUE(live && shadow && progs >= 0 && lfd >= 0,
			 "shadow: live and shadow instances load, pinned"))
		goto out;
	slot = CG_SLOT_A;
	fd = cg_gate_prog_fd(live);
	bpf_map_update_elem(progs, &slot, &fd, BPF_ANY);
	slot = CG_SLOT_SHADOW;
	fd = cg_gate_prog_fd(shadow);
	bpf_map_update_elem(progs, &slot, &fd, BPF_ANY);
	bpf_map_update_elem(lfd, &zero, &l, BPF_ANY);
	g = live;
	if (handshake(&cv, "shadow")) {
		len = seg(&cv, true, CG_TCP_ACK | CG_TCP_PSH, cv.next,
			  RSP_ISN + 1, wr, sizeof(wr), buf);
		run(&cv, "biz0", buf, len, o);
		ASSERT_OK(cg_gate_last_event(shadow, &sev),
			  "shadow: its own record of the last frame");
		/* The read before it was allowed; the write, judged after the
		 * live instance forgot the connection, is `stream` to it. */
		ASSERT_EQ(sev.sport == cv.sport ? sev.would : CG_R_MAX,
			  CG_R_STREAM,
			  "shadow: the shadow judged the request as it came");
		ASSERT_EQ(!!(o->ev.flags & CG_EV_RESET), 1,
			  "shadow: the live event notes the reset");
		ASSERT_EQ(o->action, XDP_TX,
			  "shadow: the live instance's RST is sent (XDP_TX)");
		ASSERT_EQ(o->len, 54, "shadow: ... trimmed to 54 bytes");
		ASSERT_EQ(o->len >= 54 ? o->buf[47] : 0,
			  CG_TCP_RST | CG_TCP_ACK, "shadow: ... RST|ACK");
		ASSERT_EQ(o->len >= 54 ? memcmp(o->buf, o->in + 6, 6) : 1, 0,
			  "shadow: ... to the requester");
	}
	slot = CG_SLOT_SHADOW;
	bpf_map_delete_elem(progs, &slot);
	if (handshake(&cv2, "shadow slot empty")) {
		len = seg(&cv2, true, CG_TCP_ACK | CG_TCP_PSH, cv2.next,
			  RSP_ISN + 1, wr, sizeof(wr), buf);
		run(&cv2, "biz0", buf, len, o);
		check_rst(o, 0, "shadow slot empty", 0);
	}
out:
	g = plain;
	if (progs >= 0)
		close(progs);
	if (lfd >= 0)
		close(lfd);
	cg_gate_free(live);
	cg_gate_free(shadow);
	cg_compiled_free(c1);
	cg_compiled_free(c2);
	cg_policy_free(p1);
	cg_policy_free(p2);
	for (i = 0; i < cg_n_state_maps; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_root,
			 cg_state_maps[i]);
		unlink(path);
	}
	rmdir(pin_root);
	if (lock >= 0)
		cg_unlock(lock);
	free(o);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * What answering costs: the median time of one run of a refused write,
 * answered (deny: reset) and dropped (deny: drop), each on a connection
 * of its own (the answer forgets it), one BPF_PROG_TEST_RUN per sample.
 * Reported, not asserted: this machine's timing is noisy.
 */
#define COST_SAMPLES 301

static void cost(const char *client, uint16_t sport0, uint32_t *med)
{
	static uint32_t t[COST_SAMPLES];
	uint8_t buf[CG_FRAME_MAX], outb[256];
	struct xdp_md ctx = {.ingress_ifindex = if_nametoindex("biz0")};
	struct conv cv = {client, "198.18.20.30", "biz0", 0};
	struct out *o = calloc(1, sizeof(*o));
	size_t len;
	int i, n = 0;

	for (i = 0; o && i < COST_SAMPLES; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .data_out = outb,
			    .data_size_out = sizeof(outb), .repeat = 1);

		cv.sport = sport0 + i;
		len = seg(&cv, true, CG_TCP_SYN, ISN, 0, NULL, 0, buf);
		run(&cv, "biz0", buf, len, o);
		len = seg(&cv, false, CG_TCP_SYN | CG_TCP_ACK, RSP_ISN, ISN + 1,
			  NULL, 0, buf);
		run(&cv, "crane0", buf, len, o);
		len = seg(&cv, true, CG_TCP_ACK | CG_TCP_PSH, ISN + 1,
			  RSP_ISN + 1, wr, sizeof(wr), buf);
		cg_frame_station_mac(buf, len);
		ctx.data_end = len;
		opts.data_in = buf;
		opts.data_size_in = len;
		if (!bpf_prog_test_run_opts(cg_gate_prog_fd(g), &opts))
			t[n++] = opts.duration;
	}
	qsort(t, n, sizeof(*t), u32_cmp);
	*med = n ? t[n / 2] : 0;
	free(o);
}

static void test_cost(void)
{
	uint32_t reset, drop;

	cost("198.18.10.5", 20000, &reset);
	cost("198.18.10.9", 21000, &drop);
	printf("# cost of a refused write, median of %d single runs: "
	       "answered with a RST %u ns, dropped %u ns\n",
	       COST_SAMPLES, reset, drop);
	ASSERT_TRUE(reset > 0 && drop > 0, "cost: the runs were timed");
}

int main(void)
{
	struct cg_diags d = {.file = "test.yaml"};
	struct cg_gate_opts opts = {.record = true};
	struct cg_policy *p = NULL;
	struct cg_compiled *cp = NULL;
	int err;

	if (!ASSERT_OK(cg_sandbox_enter(ifnames, 3), "private namespace"))
		return cg_test_done();
	err = cg_policy_parse("test.yaml", policy_text, strlen(policy_text), &p,
			      &d);
	if (!err)
		err = cg_compile(p, &cp, &d);
	cg_diags_print(&d, stdout);
	cg_diags_free(&d);
	if (ASSERT_OK(err, "policy parses and compiles") &&
	    ASSERT_OK(cg_gate_load(cp, &opts, &g),
		      "instance loads (verifier)")) {
		test_reset();
		test_no_reset();
		test_monitor();
		test_shadow();
		test_cost();
	}
	cg_gate_free(g);
	cg_compiled_free(cp);
	cg_policy_free(p);
	return cg_test_done();
}
