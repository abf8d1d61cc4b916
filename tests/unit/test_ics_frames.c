// SPDX-License-Identifier: GPL-2.0
/*
 * The hand-built ICS frames against Wireshark's dissectors: Modbus/TCP and
 * S7comm requests built with tests/lib/ics.c and frames.c go into a pcap,
 * tshark reads them back (TPKT on port 102, Modbus/TCP on 502), and every
 * field tshark reports must be what the test built. That makes the framing
 * the unit and differential tests rely on known to be real. Each frame
 * also goes through the reference evaluator under `any`, which must frame
 * it without complaint and read the same function as tshark.
 *
 * Skipped when tshark is not installed (tests/lib/deps.sh installs it).
 * CG_ICS_PCAP=FILE keeps a copy of the pcap there, to look at.
 */
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>

#include "cranegate.h"
#include "frames.h"
#include "harness.h"
#include "ics.h"
#include "reference.h"

CG_TEST_GLOBALS;

/* The fields asked of tshark, in output order after frame.number. */
enum field {
	F_MB_FUNC,
	F_MB_MEI,
	F_MB_PROTO,
	F_MB_LEN,
	F_TPKT_LEN,
	F_COTP_TYPE,
	F_S7_PROTO,
	F_S7_ROSCTR,
	F_S7_PARLG,
	F_S7_DATLG,
	F_S7_FUNC,
	F_S7_UD_TYPE,
	F_S7_UD_GROUP,
	F_MALFORMED,
	N_FIELDS,
};

static const char *const field_names[N_FIELDS] = {
	[F_MB_FUNC] = "modbus.func_code",
	[F_MB_MEI] = "modbus.mei",
	[F_MB_PROTO] = "mbtcp.prot_id",
	[F_MB_LEN] = "mbtcp.len",
	[F_TPKT_LEN] = "tpkt.length",
	[F_COTP_TYPE] = "cotp.type",
	[F_S7_PROTO] = "s7comm.header.protid",
	[F_S7_ROSCTR] = "s7comm.header.rosctr",
	[F_S7_PARLG] = "s7comm.header.parlg",
	[F_S7_DATLG] = "s7comm.header.datlg",
	[F_S7_FUNC] = "s7comm.param.func",
	[F_S7_UD_TYPE] = "s7comm.param.userdata.type",
	[F_S7_UD_GROUP] = "s7comm.param.userdata.funcgroup",
	[F_MALFORMED] = "_ws.malformed",
};

#define MAX_CASES 96

/*
 * One frame: what was built, and what tshark must report. want[f] NULL:
 * not checked; "": tshark must not report the field; else the values
 * (every occurrence, comma-separated) as decimal numbers.
 */
struct ics_case {
	char name[80];
	uint16_t dport;
	uint8_t payload[512];
	size_t len;
	const char *want[N_FIELDS];
	char buf[N_FIELDS][48]; /* storage for computed want[] strings */
	uint16_t function;	/* what the reference must read */
};

static struct ics_case cases[MAX_CASES];
static int n_cases;

static struct ics_case *add_case(const char *name, uint16_t dport)
{
	struct ics_case *c = &cases[n_cases++];

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->dport = dport;
	c->want[F_MALFORMED] = "";
	c->function = CG_FUNC_NONE;
	return c;
}

static void want_num(struct ics_case *c, enum field f, unsigned long v)
{
	snprintf(c->buf[f], sizeof(c->buf[f]), "%lu", v);
	c->want[f] = c->buf[f];
}

/* A Modbus request of fc: tshark reads the function, MEI, MBAP fields. */
static void modbus_case(uint8_t fc, uint8_t mei)
{
	char name[80];
	struct ics_case *c;

	snprintf(name, sizeof(name), "modbus request %u%s", fc,
		 fc == 43 ? (mei == 14 ? "/14" : "/13") : "");
	c = add_case(name, CG_MODBUS_PORT);
	c->len = cg_modbus_request(c->payload, sizeof(c->payload), 7, 1, fc,
				   mei);
	want_num(c, F_MB_FUNC, fc);
	want_num(c, F_MB_PROTO, 0);
	want_num(c, F_MB_LEN, c->len - 6);
	if (fc == 43)
		want_num(c, F_MB_MEI, mei);
	c->want[F_TPKT_LEN] = "";
	c->function = fc;
}

/* S7 header fields of the one S7comm PDU in c->payload. */
static void want_s7_header(struct ics_case *c, uint8_t rosctr)
{
	const uint8_t *s = c->payload + 7; /* TPKT 4, COTP DT 3 */

	want_num(c, F_TPKT_LEN, c->len);
	want_num(c, F_COTP_TYPE, 0x0f);
	want_num(c, F_S7_PROTO, CG_S7_PROTO);
	want_num(c, F_S7_ROSCTR, rosctr);
	want_num(c, F_S7_PARLG, (unsigned long)(s[6] << 8 | s[7]));
	want_num(c, F_S7_DATLG, (unsigned long)(s[8] << 8 | s[9]));
	c->want[F_MB_FUNC] = "";
}

static void s7_job_case(uint8_t func)
{
	char name[80];
	struct ics_case *c;

	snprintf(name, sizeof(name), "s7 job %#04x", func);
	c = add_case(name, CG_S7_PORT);
	c->len = cg_s7_job(c->payload, sizeof(c->payload), 0x0400, func);
	want_s7_header(c, CG_S7_JOB);
	want_num(c, F_S7_FUNC, func);
	c->function = func;
}

static void s7_userdata_case(uint8_t group, uint8_t subfunc)
{
	char name[80];
	struct ics_case *c;

	snprintf(name, sizeof(name), "s7 userdata request group %u", group);
	c = add_case(name, CG_S7_PORT);
	c->len = cg_s7_userdata(c->payload, sizeof(c->payload), 0x0500,
				CG_S7_UD_REQUEST, group, subfunc);
	want_s7_header(c, CG_S7_USERDATA);
	want_num(c, F_S7_UD_TYPE, CG_S7_UD_REQUEST);
	want_num(c, F_S7_UD_GROUP, group);
	c->function = (uint16_t)(0x700 + group);
}

static void cotp_case(const char *name, uint8_t code)
{
	struct ics_case *c = add_case(name, CG_S7_PORT);

	c->len = cg_cotp_tpdu(c->payload, sizeof(c->payload), code);
	want_num(c, F_TPKT_LEN, c->len);
	want_num(c, F_COTP_TYPE, code >> 4);
	c->want[F_S7_PROTO] = "";
}

static void build_cases(void)
{
	static const uint8_t fcs[] = {1,  2,  3,  4,  5,  6,  7,  8,  11,
				      12, 15, 16, 17, 20, 21, 22, 23, 24};
	static const uint8_t funcs[] = {0xf0, 0x04, 0x05, 0x1a, 0x1b, 0x1c,
					0x1d, 0x1e, 0x1f, 0x28, 0x29};
	struct ics_case *c;
	size_t i, n;

	for (i = 0; i < sizeof(fcs); i++)
		modbus_case(fcs[i], 0);
	modbus_case(43, 14);
	modbus_case(43, 13);

	c = add_case("modbus: three ADUs in one segment", CG_MODBUS_PORT);
	n = cg_modbus_request(c->payload, sizeof(c->payload), 1, 1, 3, 0);
	n += cg_modbus_request(c->payload + n, sizeof(c->payload) - n, 2, 1, 6,
			       0);
	n += cg_modbus_request(c->payload + n, sizeof(c->payload) - n, 3, 1, 16,
			       0);
	c->len = n;
	c->want[F_MB_FUNC] = "3,6,16";
	c->want[F_MB_PROTO] = "0,0,0";
	c->want[F_MB_LEN] = "6,6,11";
	c->function = 16;

	cotp_case("COTP connection request", CG_COTP_CR);
	cotp_case("COTP connection confirm", CG_COTP_CC);
	cotp_case("COTP disconnect request", CG_COTP_DR);
	cotp_case("COTP disconnect confirm", CG_COTP_DC);

	for (i = 0; i < sizeof(funcs); i++)
		s7_job_case(funcs[i]);
	for (i = 1; i <= 7; i++)
		s7_userdata_case((uint8_t)i, 1);

	c = add_case("s7 ack-data to a read", CG_S7_PORT);
	c->len = cg_s7_ack_data(c->payload, sizeof(c->payload), 0x0400, 0x04);
	want_s7_header(c, CG_S7_ACK_DATA);
	want_num(c, F_S7_FUNC, 0x04);

	c = add_case("s7: CR, setup and read in one segment", CG_S7_PORT);
	n = cg_cotp_tpdu(c->payload, sizeof(c->payload), CG_COTP_CR);
	n += cg_s7_job(c->payload + n, sizeof(c->payload) - n, 1, 0xf0);
	n += cg_s7_job(c->payload + n, sizeof(c->payload) - n, 2, 0x04);
	c->len = n;
	c->want[F_COTP_TYPE] = "14,15,15";
	c->want[F_S7_FUNC] = "240,4";
	c->want[F_S7_ROSCTR] = "1,1";
	c->function = 0x04;

	/* Wireshark has no S7comm-plus dissector: COTP DT, then no S7comm. */
	c = add_case("S7comm-plus in a COTP DT", CG_S7_PORT);
	c->len = cg_s7plus(c->payload, sizeof(c->payload), 0x31);
	want_num(c, F_TPKT_LEN, c->len);
	want_num(c, F_COTP_TYPE, 0x0f);
	c->want[F_S7_PROTO] = "";
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
		struct ics_case *c = &cases[i];
		uint8_t frame[CG_FRAME_MAX];
		struct pcap_pkthdr h = {0};
		struct cg_frame_spec s;

		/* One connection per frame, so that no frame looks like a
		 * retransmission or a continuation of another. */
		cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11",
			     (uint16_t)(50000 + i), c->dport,
			     CG_TCP_PSH | CG_TCP_ACK);
		s.payload = c->payload;
		s.payload_len = c->len;
		h.caplen = h.len =
			(uint32_t)cg_frame_build(&s, frame, sizeof(frame));
		h.ts.tv_sec = 1700000000 + i;
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}

/* "0x0e,15" -> "14,15": every comma-separated number in decimal. */
static void normalise(const char *in, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	while (*in && o + 24 < size) {
		char *end;
		unsigned long v = strtoul(in, &end, 0);

		if (end == in) { /* not a number: keep it as it is */
			snprintf(out + o, size - o, "%s", in);
			return;
		}
		o += (size_t)snprintf(out + o, size - o, "%s%lu", o ? "," : "",
				      v);
		in = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end)
			break;
	}
}

/* Split a tab-separated line in place into at most n fields. */
static int split_tabs(char *line, char **out, int n)
{
	int k = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (k < n) {
		out[k++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return k;
}

static void check_tshark(const char *pcap, const char *errfile)
{
	char cmd[2048], line[4096], *cols[N_FIELDS + 1], got[256], name[160];
	bool seen[MAX_CASES] = {false};
	size_t o;
	FILE *f;
	int i, k, n;

	o = (size_t)snprintf(cmd, sizeof(cmd),
			     "tshark -n -r %s -d tcp.port==102,tpkt "
			     "-T fields -E separator=/t -E occurrence=a "
			     "-E aggregator=, -e frame.number",
			     pcap);
	for (k = 0; k < N_FIELDS; k++)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, " -e %s",
				      field_names[k]);
	snprintf(cmd + o, sizeof(cmd) - o, " 2>%s", errfile);

	f = popen(cmd, "r");
	if (!ASSERT_TRUE(f, "run tshark"))
		return;
	while (fgets(line, sizeof(line), f)) {
		n = split_tabs(line, cols, N_FIELDS + 1);
		i = atoi(cols[0]) - 1;
		if (i < 0 || i >= n_cases || seen[i])
			continue;
		seen[i] = true;
		for (k = 0; k < N_FIELDS; k++) {
			const char *want = cases[i].want[k];

			if (!want)
				continue;
			normalise(k + 1 < n ? cols[k + 1] : "", got,
				  sizeof(got));
			snprintf(name, sizeof(name), "%.80s: tshark's %s",
				 cases[i].name, field_names[k]);
			ASSERT_STREQ(got, want, name);
		}
	}
	k = pclose(f);
	if (!ASSERT_EQ(k, 0, "tshark exits 0")) {
		snprintf(cmd, sizeof(cmd), "sed 's/^/# /' %s", errfile);
		if (system(cmd) < 0)
			printf("# (cannot show tshark's errors)\n");
	}
	for (i = 0; i < n_cases; i++)
		if (!seen[i]) {
			snprintf(name, sizeof(name), "%.80s: tshark read it",
				 cases[i].name);
			ASSERT_TRUE(false, name);
		}
}

/* Every frame passes `any` on both protocols; the function matches. */
static void check_reference(void)
{
	static const char yaml[] = "version: 1\n"
				   "name: any\n"
				   "zones:\n"
				   "  business:\n"
				   "    interfaces: [biz0]\n"
				   "    networks: [198.18.10.0/24]\n"
				   "  control:\n"
				   "    interfaces: [crane0]\n"
				   "    networks: [198.18.20.0/24]\n"
				   "flows:\n"
				   "  - name: any\n"
				   "    from: business\n"
				   "    to: control\n"
				   "    proto: tcp\n"
				   "    ports: [102, 502]\n"
				   "    modbus: any\n"
				   "    s7comm: any\n";
	struct cg_diags d = {.file = "any"};
	struct cg_policy *p = NULL;
	struct cg_refeval *r = NULL;
	char name[160];
	int i;

	if (cg_policy_parse("any", yaml, strlen(yaml), &p, &d))
		cg_diags_print(&d, stdout);
	cg_diags_free(&d);
	r = p ? cg_ref_new(p) : NULL;
	if (!ASSERT_TRUE(r, "reference: policy loads"))
		goto out;
	for (i = 0; i < n_cases; i++) {
		struct ics_case *c = &cases[i];
		uint8_t frame[CG_FRAME_MAX];
		struct cg_ref_result res;
		struct cg_frame_spec s;
		size_t len;

		/* The connection's SYN first: the stream rule (step 11a)
		 * passes data only in order, after it. */
		cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11",
			     (uint16_t)(50000 + i), c->dport, CG_TCP_SYN);
		s.tcp_seq = 999;
		len = cg_frame_build(&s, frame, sizeof(frame));
		cg_ref_eval(r, "biz0", frame, len, &res);
		cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11",
			     (uint16_t)(50000 + i), c->dport,
			     CG_TCP_PSH | CG_TCP_ACK);
		s.payload = c->payload;
		s.payload_len = c->len;
		len = cg_frame_build(&s, frame, sizeof(frame));
		cg_ref_eval(r, "biz0", frame, len, &res);
		snprintf(name, sizeof(name), "%.80s: reference frames it",
			 c->name);
		ASSERT_EQ(res.reason, CG_R_ALLOWED, name);
		snprintf(name, sizeof(name),
			 "%.80s: reference reads its function", c->name);
		ASSERT_EQ(res.function, c->function, name);
	}
out:
	cg_ref_free(r);
	cg_policy_free(p);
}

int main(void)
{
	char dir[] = "/tmp/cranegate-ics.XXXXXX", pcap[64], errfile[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	build_cases();
	check_reference();

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		printf("ok %d - tshark check # SKIP tshark is not installed "
		       "(tests/lib/deps.sh installs it)\n",
		       ++cg_test_n);
		return cg_test_done();
	}
	if (!ASSERT_TRUE(mkdtemp(dir), "make a temporary directory"))
		return cg_test_done();
	snprintf(pcap, sizeof(pcap), "%s/ics.pcap", dir);
	snprintf(errfile, sizeof(errfile), "%s/tshark.err", dir);
	if (ASSERT_OK(write_pcap(pcap), "write the pcap"))
		check_tshark(pcap, errfile);
	if (getenv("CG_ICS_PCAP") && write_pcap(getenv("CG_ICS_PCAP")))
		printf("# cannot write %s\n", getenv("CG_ICS_PCAP"));
	unlink(pcap);
	unlink(errfile);
	rmdir(dir);
	return cg_test_done();
}
