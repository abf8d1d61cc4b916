// SPDX-License-Identifier: GPL-2.0
/*
 * `modbus: allow:` rules (README step 12) on the real XDP program
 * (BPF_PROG_TEST_RUN): every function class, each range boundary (first
 * and last address, one past either end), FC 23's two ranges, the
 * protocol's quantity limits, byte counts that disagree with quantities,
 * units, and several rules in one list. Every request also goes through
 * the reference evaluator (user/policy/reference.c), which must agree.
 *
 * The crafted requests are then written to a pcap, one connection each,
 * and read back with tshark: the unit id, function code, addresses and
 * quantities Wireshark's Modbus/TCP dissector reports must be the ones the
 * test meant (skipped when tshark is missing). CG_MB_PCAP=FILE keeps the
 * pcap.
 */
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frames.h"
#include "gate.h"
#include "harness.h"
#include "ics.h"
#include "reference.h"

CG_TEST_GLOBALS;

#define PLC "198.18.20.30"
#define SRC_RULES "198.18.10.20"
#define SRC_MULTI "198.18.10.21"

static const char *policy_text =
	"version: 1\n"
	"name: modbus-rules\n"
	"zones:\n"
	"  business: {interfaces: [biz0], networks: [198.18.10.0/24]}\n"
	"  control: {interfaces: [crane0], networks: [198.18.20.0/24]}\n"
	"flows:\n"
	"  - name: rules\n"
	"    from: " SRC_RULES "\n"
	"    to: " PLC "\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"    modbus:\n"
	"      allow:\n"
	"        - functions: [read]\n"
	"        - functions: [6, 16]\n"
	"          units: [1]\n"
	"          addresses: [100-119, 200]\n"
	"        - functions: [23]\n"
	"          units: [2]\n"
	"          addresses: [1000-1009, 2000-2003]\n"
	"        - functions: [diagnostics]\n"
	"          units: [3]\n"
	"        - functions: [program]\n"
	"          units: [4]\n"
	"        - functions: [other]\n"
	"          units: [5]\n"
	"        - functions: [5, 15]\n"
	"          units: [1]\n"
	"          addresses: [0-15]\n"
	"        - functions: [write]\n"
	"          units: [9]\n"
	"  - name: multi\n"
	"    from: " SRC_MULTI "\n"
	"    to: " PLC "\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"    modbus:\n"
	"      allow:\n"
	"        - {functions: [3], addresses: [0-9]}\n"
	"        - {functions: [3], addresses: [10-19]}\n"
	"        - {functions: [16], units: [7], addresses: [50-59, 60-69]}\n"
	"        - {functions: [other], units: [5]}\n"
	"        - {functions: [read], addresses: [300-310]}\n";

enum { F_RULES, F_MULTI };

static char ifnames[2][CG_IFNAME_MAX] = {"biz0", "crane0"};

#define MAX_CASES 128

/*
 * One request: its fields, the bytes built from them, and the verdict.
 * `wf`: laid out as the protocol says (tshark must read the fields back);
 * byte-count and length tricks are not.
 */
struct mb_case {
	char name[96];
	int flow;
	uint8_t unit, fc;
	uint16_t start, qty, start2, qty2;
	bool wf;
	bool pass;
	uint8_t payload[600];
	size_t len;
};

static struct mb_case cases[MAX_CASES];
static int n_cases;

static struct mb_case *add(int flow, bool pass, const char *name)
{
	struct mb_case *c = &cases[n_cases++];

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s: %s",
		 flow == F_RULES ? "rules" : "multi", name);
	c->flow = flow;
	c->pass = pass;
	return c;
}

/* A request with addresses, its byte count right. */
static void addr_case(int flow, bool pass, const char *name, uint8_t unit,
		      uint8_t fc, uint16_t start, uint16_t qty, uint16_t start2,
		      uint16_t qty2)
{
	struct mb_case *c = add(flow, pass, name);
	uint8_t bc = cg_modbus_byte_count(fc, qty, qty2);

	c->unit = unit;
	c->fc = fc;
	c->start = start;
	c->qty = qty;
	c->start2 = start2;
	c->qty2 = qty2;
	c->wf = true;
	c->len = cg_modbus_addr_request(c->payload, sizeof(c->payload), 1, unit,
					fc, start, qty, start2, qty2, bc, bc);
}

/* A write whose byte count or length is wrong. */
static void bc_case(int flow, const char *name, uint8_t unit, uint8_t fc,
		    uint16_t start, uint16_t qty, uint16_t start2,
		    uint16_t qty2, uint8_t bc, size_t n_data)
{
	struct mb_case *c = add(flow, false, name);

	c->unit = unit;
	c->fc = fc;
	c->len = cg_modbus_addr_request(c->payload, sizeof(c->payload), 1, unit,
					fc, start, qty, start2, qty2, bc,
					n_data);
}

/* A request without addresses (cg_modbus_request's body for `fc`). */
static void fn_case(int flow, bool pass, const char *name, uint8_t unit,
		    uint8_t fc, uint8_t mei)
{
	struct mb_case *c = add(flow, pass, name);

	c->unit = unit;
	c->fc = fc;
	c->len = cg_modbus_request(c->payload, sizeof(c->payload), 1, unit, fc,
				   mei);
}

static void build_cases(void)
{
	struct mb_case *c;
	size_t n;

	/* Class read (rule 1): any unit, any address, within the limits. */
	addr_case(F_RULES, true, "3: 125 registers", 7, 3, 0, 125, 0, 0);
	addr_case(F_RULES, false, "3: 126 registers (limit 125)", 7, 3, 0, 126,
		  0, 0);
	addr_case(F_RULES, false, "3: 0 registers", 7, 3, 0, 0, 0, 0);
	addr_case(F_RULES, true, "4: 125 input registers", 7, 4, 10, 125, 0, 0);
	addr_case(F_RULES, false, "4: 126 input registers", 7, 4, 10, 126, 0,
		  0);
	addr_case(F_RULES, true, "1: 2000 coils", 7, 1, 0, 2000, 0, 0);
	addr_case(F_RULES, false, "1: 2001 coils (limit 2000)", 7, 1, 0, 2001,
		  0, 0);
	addr_case(F_RULES, true, "2: 2000 inputs", 7, 2, 0, 2000, 0, 0);
	addr_case(F_RULES, false, "2: 2001 inputs", 7, 2, 0, 2001, 0, 0);
	addr_case(F_RULES, true, "3: the last register", 7, 3, 65535, 1, 0, 0);
	addr_case(F_RULES, false, "3: past address 65535", 7, 3, 65535, 2, 0,
		  0);
	fn_case(F_RULES, true, "7: read exception status", 8, 7, 0);
	fn_case(F_RULES, true, "43/14: device identification", 8, 43, 14);
	fn_case(F_RULES, false, "43/13: not class read (unit 8)", 8, 43, 13);

	/* Rule 2: 6 and 16 on unit 1 within 100-119 and 200. */
	addr_case(F_RULES, true, "6: first address 100", 1, 6, 100, 7, 0, 0);
	addr_case(F_RULES, true, "6: last address 119", 1, 6, 119, 7, 0, 0);
	addr_case(F_RULES, false, "6: 120, one past", 1, 6, 120, 7, 0, 0);
	addr_case(F_RULES, false, "6: 99, one before", 1, 6, 99, 7, 0, 0);
	addr_case(F_RULES, true, "6: the single address 200", 1, 6, 200, 7, 0,
		  0);
	addr_case(F_RULES, false, "6: 201", 1, 6, 201, 7, 0, 0);
	addr_case(F_RULES, false, "6: unit 2", 2, 6, 105, 7, 0, 0);
	addr_case(F_RULES, false, "6: unit 255", 255, 6, 105, 7, 0, 0);
	addr_case(F_RULES, true, "16: 100-119 whole", 1, 16, 100, 20, 0, 0);
	addr_case(F_RULES, false, "16: 101-120", 1, 16, 101, 20, 0, 0);
	addr_case(F_RULES, false, "16: 99-100", 1, 16, 99, 2, 0, 0);
	addr_case(F_RULES, false, "16: 199-200", 1, 16, 199, 2, 0, 0);
	addr_case(F_RULES, true, "16: 200 alone", 1, 16, 200, 1, 0, 0);
	addr_case(F_RULES, false, "16: 119-200 spans the gap", 1, 16, 119, 82,
		  0, 0);
	addr_case(F_RULES, false, "22: not in rule 2 (unit 1)", 1, 22, 100, 0,
		  0, 0);
	addr_case(F_RULES, false, "5: unit 1, 16 (rule 7 ends at 15)", 1, 5, 16,
		  0xff00, 0, 0);
	addr_case(F_RULES, true, "5: unit 1, 15", 1, 5, 15, 0xff00, 0, 0);
	addr_case(F_RULES, true, "15: 0-15", 1, 15, 0, 16, 0, 0);
	addr_case(F_RULES, false, "15: 0-16", 1, 15, 0, 17, 0, 0);

	/* Byte counts and lengths. */
	bc_case(F_RULES, "16: byte count 3 for 2 registers", 1, 16, 100, 2, 0,
		0, 3, 3);
	bc_case(F_RULES, "16: byte count 4, 3 bytes of values", 1, 16, 100, 2,
		0, 0, 4, 3);
	bc_case(F_RULES, "16: byte count 4, 5 bytes of values", 1, 16, 100, 2,
		0, 0, 4, 5);
	bc_case(F_RULES, "15: byte count 1 for 10 coils", 1, 15, 0, 10, 0, 0, 1,
		1);
	bc_case(F_RULES, "23: byte count 2 for 2 registers", 2, 23, 1000, 1,
		2000, 2, 2, 2);
	c = add(F_RULES, false, "6: a byte after the value");
	c->unit = 1;
	c->fc = 6;
	c->len = cg_modbus_adu(c->payload, sizeof(c->payload), 1, 1, 6,
			       (const uint8_t[]){0, 100, 0, 7, 0}, 5);
	c = add(F_RULES, false, "3: a byte short");
	c->len = cg_modbus_adu(c->payload, sizeof(c->payload), 1, 7, 3,
			       (const uint8_t[]){0, 0, 0}, 3);

	/* Class write without addresses (rule 8, unit 9): limits only. */
	addr_case(F_RULES, true, "16: 123 registers", 9, 16, 0, 123, 0, 0);
	addr_case(F_RULES, false, "16: 124 registers (limit 123)", 9, 16, 0,
		  124, 0, 0);
	addr_case(F_RULES, true, "15: 1968 coils", 9, 15, 0, 1968, 0, 0);
	addr_case(F_RULES, false, "15: 1969 coils (limit 1968)", 9, 15, 0, 1969,
		  0, 0);
	addr_case(F_RULES, true, "22: mask write", 9, 22, 40000, 0, 0, 0);
	addr_case(F_RULES, true, "23: 125 read, 121 written", 9, 23, 0, 125,
		  500, 121);
	addr_case(F_RULES, false, "23: 126 read", 9, 23, 0, 126, 500, 1);
	addr_case(F_RULES, false, "23: 122 written (limit 121)", 9, 23, 0, 1,
		  500, 122);
	fn_case(F_RULES, true, "21: write file record", 9, 21, 0);
	fn_case(F_RULES, false, "8: diagnostics on unit 9", 9, 8, 0);

	/* FC 23, rule 3: both ranges must fit, each in one range. */
	addr_case(F_RULES, true, "23: read 1000-1009, write 2000-2003", 2, 23,
		  1000, 10, 2000, 4);
	addr_case(F_RULES, true, "23: read 2000-2003, write 1000-1009", 2, 23,
		  2000, 4, 1000, 10);
	addr_case(F_RULES, false, "23: read 1000-1010", 2, 23, 1000, 11, 2000,
		  4);
	addr_case(F_RULES, false, "23: write 2000-2004", 2, 23, 1000, 10, 2000,
		  5);
	addr_case(F_RULES, false, "23: write 999", 2, 23, 1000, 1, 999, 1);
	addr_case(F_RULES, false, "23: unit 1", 1, 23, 1000, 1, 2000, 1);

	/* The other classes, by unit. */
	fn_case(F_RULES, true, "8: diagnostics on unit 3", 3, 8, 0);
	fn_case(F_RULES, false, "8: diagnostics on unit 4", 4, 8, 0);
	fn_case(F_RULES, true, "90: program on unit 4", 4, 90, 0);
	fn_case(F_RULES, true, "125: program on unit 4", 4, 125, 0);
	fn_case(F_RULES, false, "90: program on unit 3", 3, 90, 0);
	fn_case(F_RULES, true, "65: other on unit 5", 5, 65, 0);
	fn_case(F_RULES, true, "43/13: other on unit 5", 5, 43, 13);
	fn_case(F_RULES, false, "65: other on unit 4", 4, 65, 0);

	/* Several ADUs in one segment: each must pass. */
	c = add(F_RULES, true, "3 and 6 in one segment");
	n = cg_modbus_addr_request(c->payload, sizeof(c->payload), 1, 7, 3, 0,
				   10, 0, 0, 0, 0);
	n += cg_modbus_addr_request(c->payload + n, sizeof(c->payload) - n, 2,
				    1, 6, 105, 1, 0, 0, 0, 0);
	c->len = n;
	c = add(F_RULES, false, "6 on 105 then 6 on 120 in one segment");
	n = cg_modbus_addr_request(c->payload, sizeof(c->payload), 1, 1, 6, 105,
				   1, 0, 0, 0, 0);
	n += cg_modbus_addr_request(c->payload + n, sizeof(c->payload) - n, 2,
				    1, 6, 120, 1, 0, 0, 0, 0);
	c->len = n;

	/* Several rules: each request within one rule's ranges. */
	addr_case(F_MULTI, true, "3: 0-9 (rule 1)", 1, 3, 0, 10, 0, 0);
	addr_case(F_MULTI, true, "3: 10-19 (rule 2)", 1, 3, 10, 10, 0, 0);
	addr_case(F_MULTI, false, "3: 5-14 spans two rules", 1, 3, 5, 10, 0, 0);
	addr_case(F_MULTI, false, "3: 20", 1, 3, 20, 1, 0, 0);
	addr_case(F_MULTI, true, "16: 55-64, adjacent ranges merge", 7, 16, 55,
		  10, 0, 0);
	addr_case(F_MULTI, false, "16: 65-70", 7, 16, 65, 6, 0, 0);
	addr_case(F_MULTI, false, "16: 55-64 on unit 6", 6, 16, 55, 10, 0, 0);
	addr_case(F_MULTI, true, "4: 300-310 (rule 5)", 1, 4, 300, 11, 0, 0);
	addr_case(F_MULTI, false, "4: 300-311", 1, 4, 300, 12, 0, 0);
	fn_case(F_MULTI, false, "7: read, but rule 5 has addresses", 1, 7, 0);
	fn_case(F_MULTI, true, "43/13: other", 5, 43, 13);
	fn_case(F_MULTI, false, "43/14: read, not other", 5, 43, 14);
	c = add(F_MULTI, true, "43 without a MEI type: other");
	c->len = cg_modbus_adu(c->payload, sizeof(c->payload), 1, 5, 43, NULL,
			       0);
}

/* The opener's next sequence number per source port (0: no SYN yet). */
static uint32_t next_seq[65536];

struct ctx {
	struct cg_gate *g;
	struct cg_refeval *ref;
};

/* The function code of a payload's last ADU (what events name). */
static unsigned last_function(const struct mb_case *m)
{
	size_t off = 0, last = 0;

	while (off + 8 <= m->len) {
		last = off;
		off += 6 +
		       ((size_t)m->payload[off + 4] << 8 | m->payload[off + 5]);
	}
	return m->payload[last + 7];
}

/* Run a frame through the program and the reference; both must say. */
static void judge(struct ctx *c, const char *name, uint8_t *buf, size_t len,
		  unsigned reason, unsigned flow, const struct mb_case *m)
{
	struct cg_ref_result rr;
	struct cg_event ev = {};
	char what[160];
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
	if (m) {
		snprintf(what, sizeof(what), "%s: the event names function %u",
			 name, last_function(m));
		ASSERT_TRUE(ev.ics_proto == CG_ICS_PROTO_MODBUS &&
				    ev.function == last_function(m),
			    what);
	}
	cg_ref_eval(c->ref, "biz0", buf, len, &rr);
	snprintf(what, sizeof(what), "%s: the reference agrees", name);
	ASSERT_EQ(rr.reason, reason, what);
}

static void run_case(struct ctx *c, const struct mb_case *m, uint16_t sport)
{
	const char *src = m->flow == F_RULES ? SRC_RULES : SRC_MULTI;
	uint8_t buf[CG_FRAME_MAX];
	struct cg_frame_spec s;
	size_t len;

	if (!next_seq[sport]) {
		cg_frame_tcp(&s, src, PLC, sport, 502, CG_TCP_SYN);
		s.tcp_seq = 1000;
		len = cg_frame_build(&s, buf, sizeof(buf));
		judge(c, "SYN", buf, len, CG_R_ALLOWED, (unsigned)m->flow,
		      NULL);
		next_seq[sport] = 1001;
	}
	cg_frame_tcp(&s, src, PLC, sport, 502, CG_TCP_ACK | CG_TCP_PSH);
	s.tcp_seq = next_seq[sport];
	s.payload = m->payload;
	s.payload_len = m->len;
	len = cg_frame_build(&s, buf, sizeof(buf));
	judge(c, m->name, buf, len, m->pass ? CG_R_ALLOWED : CG_R_ICS_DENIED,
	      (unsigned)m->flow, m);
	if (m->pass)
		next_seq[sport] += (uint32_t)m->len;
}

/* ---- tshark ---------------------------------------------------------- */

enum field {
	T_UNIT,
	T_FUNC,
	T_REF,
	T_WORDS,
	T_BITS,
	T_RREF,
	T_RWORDS,
	T_WREF,
	T_WWORDS,
	N_FIELDS,
};

static const char *const field_names[N_FIELDS] = {
	[T_UNIT] = "mbtcp.unit_id",
	[T_FUNC] = "modbus.func_code",
	[T_REF] = "modbus.reference_num",
	[T_WORDS] = "modbus.word_cnt",
	[T_BITS] = "modbus.bit_cnt",
	[T_RREF] = "modbus.read_reference_num",
	[T_RWORDS] = "modbus.read_word_cnt",
	[T_WREF] = "modbus.write_reference_num",
	[T_WWORDS] = "modbus.write_word_cnt",
};

/* What tshark must report for a well-formed case; -1: not reported. */
static void want_fields(const struct mb_case *m, long *w)
{
	int k;

	for (k = 0; k < N_FIELDS; k++)
		w[k] = -1;
	w[T_UNIT] = m->unit;
	w[T_FUNC] = m->fc;
	switch (m->fc) {
	case 1:
	case 2:
	case 15:
		w[T_REF] = m->start;
		w[T_BITS] = m->qty;
		break;
	case 3:
	case 4:
	case 16:
		w[T_REF] = m->start;
		w[T_WORDS] = m->qty;
		break;
	case 5:
	case 6:
	case 22:
		w[T_REF] = m->start;
		break;
	case 23:
		w[T_RREF] = m->start;
		w[T_RWORDS] = m->qty;
		w[T_WREF] = m->start2;
		w[T_WWORDS] = m->qty2;
		break;
	}
}

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

		cg_frame_tcp(&s, SRC_RULES, PLC, (uint16_t)(50000 + i), 502,
			     CG_TCP_PSH | CG_TCP_ACK);
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
	size_t o;
	FILE *f;
	int k;

	o = (size_t)snprintf(cmd, sizeof(cmd),
			     "tshark -n -r %s -T fields -E separator=/t "
			     "-E occurrence=f -e frame.number",
			     pcap);
	for (k = 0; k < N_FIELDS; k++)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, " -e %s",
				      field_names[k]);
	snprintf(cmd + o, sizeof(cmd) - o, " 2>/dev/null");
	f = popen(cmd, "r");
	if (!ASSERT_TRUE(f, "run tshark"))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *col[N_FIELDS + 1], *p = line;
		long want[N_FIELDS];
		const struct mb_case *m;
		int i, n = 0;

		line[strcspn(line, "\r\n")] = 0;
		while (n < N_FIELDS + 1) {
			col[n++] = p;
			p = strchr(p, '\t');
			if (!p)
				break;
			*p++ = 0;
		}
		i = atoi(col[0]) - 1;
		if (i < 0 || i >= n_cases || n != N_FIELDS + 1)
			continue;
		seen[i] = true;
		m = &cases[i];
		if (!m->wf)
			continue;
		want_fields(m, want);
		for (k = 0; k < N_FIELDS; k++) {
			const char *got = col[k + 1];

			if (want[k] < 0 && !*got)
				continue;
			snprintf(what, sizeof(what), "tshark: %s: %s", m->name,
				 field_names[k]);
			ASSERT_EQ(*got ? strtol(got, NULL, 0) : -1, want[k],
				  what);
		}
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
	char pcap[] = "/tmp/cranegate-mb-XXXXXX";
	const char *keep = getenv("CG_MB_PCAP");
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
	/* A few connections per flow; refused requests leave them as
	 * they were, so the next request continues the same stream. */
	for (i = 0; i < n_cases; i++)
		run_case(&c, &cases[i],
			 (uint16_t)(40000 + (i % 4) * 2 + cases[i].flow));

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
