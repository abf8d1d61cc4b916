// SPDX-License-Identifier: GPL-2.0
/*
 * cgbench: the benchmark's C side. Subcommands:
 *
 *   cost    ns per frame through BPF_PROG_TEST_RUN for each frame class
 *           at several policy sizes, beside an empty XDP_PASS program and
 *           xdp-filter's installed programs with as many entries;
 *   ops     ns per operation the gate does per frame (one map lookup of
 *           each kind, the clock, a ring-buffer reservation);
 *   phases  seconds to parse, compile and load policies of several sizes;
 *   shadow  ns per frame through a live instance with and without a
 *           shadow candidate beside it (apply --shadow);
 *   gen     the benchmark's rule set as a cranegate policy or nftables;
 *   attach  attach a bare XDP_DROP or xdp-filter to an interface (for the
 *           end-to-end runs; the attachment outlives the process);
 *   events  the data-plane cost of events and per-interface counters;
 *   drive   frames into a pinned live gate at a paced rate (events.c).
 *
 * cost, ops and phases run in a private network namespace with veths
 * named bench0 (business zone) and bench1 (crane zone): test runs need
 * real ingress ifindexes. They write CSV (--csv FILE) for
 * tests/bench/report.py and print progress on stderr.
 *
 * How a figure is made: a *sample* is one BPF_PROG_TEST_RUN of `repeat`
 * runs of one frame, whose duration the kernel reports as ns per run
 * (its timer brackets the loop alone, not the syscall). Each figure is
 * the median of `samples` samples, with min..max as the spread. The
 * programs compared are measured in turn within each sample, in an order
 * that rotates, so that they see the same machine.
 *
 * A first packet cannot be repeated: its second run is established
 * traffic. First packets (and first replies) are therefore measured with
 * repeat = 1 on distinct frames (a fresh source port each), K frames per
 * sample, the sample being their median; every program is measured on
 * the same frames the same way, so the kernel timer's own cost (one clock
 * read, more than the loop's per-run share) is in all of them alike. Each
 * timed run follows warm-up frames through the same program, as single
 * runs too: a run with repeat > 1 rewrites the kernel's XDP dispatcher,
 * and its fresh code would then be timed cold.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "bench.skel.h"
#include "cip.h"
#include "compile.h"
#include "empty.skel.h"
#include "frames.h"
#include "gate.h"
#include "loader.h"
#include "cgbench.h"

#define MAX_PROGS 4
/* Past every measured frame (MAX_SAMPLES * MAX_FIRST): the reason check's. */
#define CHECK_K 19999

static char ifnames[2][CG_IFNAME_MAX] = {"bench0", "bench1"};
int ifindex[2];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct stat3 stat3(const double *v, unsigned n)
{
	double s[MAX_SAMPLES];
	struct stat3 r;

	memcpy(s, v, n * sizeof(*v));
	r.median = median(s, n);
	r.min = s[0];
	r.max = s[n - 1];
	return r;
}

/* One sample: ns per run over `repeat` runs in the kernel, or -1. */
double run_once(int prog_fd, int ifi, const void *frame, size_t len,
		unsigned repeat, int *retval)
{
	struct xdp_md ctx = {.data_end = len, .ingress_ifindex = ifi};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	if (retval)
		*retval = o.retval;
	return o.duration;
}

/* ------------------------------------------------------------ frames */

const struct cls classes[C_N] = {
	[C_FIRST] = {"first-packet", CLS_FIRST, 0, CG_R_ALLOWED,
		     "TCP SYN of a new connection a flow allows (full "
		     "judgement, connection created)"},
	[C_REPLY] = {"reply", CLS_FIRST_REPLY, 1, CG_R_REPLY,
		     "the first SYN-ACK back (full judgement: no flow, then "
		     "the connection table)"},
	[C_ESTABLISHED] =
		{"established", CLS_REPEAT, 0, CG_R_ALLOWED,
		 "TCP ACK of an open connection, forward (fast path)"},
	[C_ESTABLISHED_REPLY] =
		{"established-reply", CLS_REPEAT, 1, CG_R_REPLY,
		 "TCP ACK of an open connection, backward (fast path)"},
	[C_NO_RULE] =
		{"no-rule", CLS_REPEAT, 0, CG_R_NO_RULE,
		 "TCP SYN between the flow's hosts to a port no flow names"},
	[C_SPOOFED] = {"spoofed-source", CLS_REPEAT, 0, CG_R_SPOOFED_SOURCE,
		       "source 198.19.128.1, in no zone"},
	[C_MULTI_HOMED] =
		{"multi-homed", CLS_REPEAT, 0, CG_R_MULTI_HOMED,
		 "a crane-zone source arriving on the business interface"},
	[C_MALFORMED] = {"malformed", CLS_REPEAT, 0, CG_R_MALFORMED,
			 "IPv4 total length beyond the frame"},
	[C_MODBUS_READ] = {"modbus-read", CLS_REPEAT, 0, CG_R_ALLOWED,
			   "Modbus read holding registers (FC 3) sent again on "
			   "a normalized stream: after its first pass, every "
			   "run is an exact retransmission (checksum, keyed "
			   "hashes compared; nothing left to inspect)"},
	[C_MODBUS_WRITE] = {"modbus-write", CLS_REPEAT, 0, CG_R_ICS_DENIED,
			    "Modbus write single register (FC 6), new data in "
			    "order, refused as ics-denied (checksum, hashes, "
			    "inspection)"},
	[C_MODBUS_NEW] = {"modbus-read-new", CLS_FIRST_REPLY, 0, CG_R_ALLOWED,
			  "Modbus read (FC 3), the first data of a stream "
			  "whose SYN the gate saw: stream rule (checksum, in "
			  "order, hashes recorded) and inspection (single "
			  "runs)"},
	[C_S7_NEW] = {"s7-read-new", CLS_FIRST_REPLY, 0, CG_R_ALLOWED,
		      "S7comm read variable, the first data of a stream whose "
		      "SYN the gate saw (single runs)"},
	[C_S7_READ] = {"s7-read", CLS_REPEAT, 0, CG_R_ALLOWED,
		       "S7comm read variable sent again on a normalized "
		       "stream (the retransmission check)"},
	[C_MODBUS_RULES] = {"modbus-write-8-rules", CLS_REPEAT, 0,
			    CG_R_ICS_DENIED,
			    "Modbus write multiple registers (FC 16, 2 "
			    "registers), new data in order, checked against "
			    "8 allow: rules of 8 ranges each and refused by "
			    "all (the whole walk; cf. modbus-write)"},
	[C_MODBUS_RULES_NEW] = {"modbus-write-8-rules-new", CLS_FIRST_REPLY, 0,
				CG_R_ALLOWED,
				"Modbus write multiple registers (FC 16), the "
				"first data of a stream, allowed by the last "
				"range of the 8th allow: rule (single runs)"},
	[C_MODBUS_WRITE_NEW] = {"modbus-write-new", CLS_FIRST_REPLY, 0,
				CG_R_ICS_DENIED,
				"Modbus write (FC 6), the first data of a "
				"stream whose SYN the gate saw, refused and "
				"dropped (deny: drop; single runs)"},
	[C_MODBUS_WRITE_RESET] = {"modbus-write-reset", CLS_FIRST_REPLY, 0,
				  CG_R_ICS_DENIED,
				  "the same write on a deny: reset flow: "
				  "answered with a TCP RST (connection "
				  "deleted, frame rewritten and trimmed, "
				  "XDP_TX; single runs)"},
	[C_ENIP_READ_NEW] = {"enip-read-new", CLS_FIRST_REPLY, 0, CG_R_ALLOWED,
			     "CIP Read Tag in SendRRData, the first data of a "
			     "stream on an enip: read-only flow (single runs)"},
	[C_ENIP_MSP_WRITE] = {"enip-msp-write", CLS_REPEAT, 0, CG_R_ICS_DENIED,
			      "CIP Multiple_Service_Packet of 15 Read Tags and "
			      "a Write Tag last, new data in order, refused "
			      "(the whole walk: 17 requests)"},
};

/*
 * A request (ACK|PSH) at sequence number 1000 on the bench's ICS flows
 * (modbus: read-only on 502, s7comm: read-only on 102), in *fr, and in
 * *fwd the SYN (999) that starts its stream: the stream rule passes data
 * only on a stream whose start it saw.
 */
static void ics_frames(struct frame *fr, struct frame *fwd, uint16_t sport,
		       uint16_t dport, const uint8_t *pl, size_t n)
{
	struct cg_frame_spec spec;
	uint8_t a[16];

	cg_frame_parse_addr(BENCH_MODBUS_SRC, a);
	cg_frame_tcp(&spec, BENCH_MODBUS_SRC, BENCH_MODBUS_DST, sport, dport,
		     CG_TCP_SYN);
	spec.src_mac[0] = 0x02;
	spec.src_mac[1] = 0x00;
	memcpy(&spec.src_mac[2], a, 4);
	spec.tcp_seq = 999;
	fwd->len = cg_frame_build(&spec, fwd->buf, sizeof(fwd->buf));
	spec.tcp_flags = CG_TCP_ACK | CG_TCP_PSH;
	spec.tcp_seq = 1000;
	spec.tcp_ack = 0;
	spec.payload = pl;
	spec.payload_len = n;
	fr->len = cg_frame_build(&spec, fr->buf, sizeof(fr->buf));
}

static void modbus_frames_to(struct frame *fr, struct frame *fwd,
			     uint16_t sport, uint16_t dport, uint8_t fc)
{
	const uint8_t adu[] = {0, 1, 0, 0, 0, 6, 1, fc, 0, 0, 0, 10};

	ics_frames(fr, fwd, sport, dport, adu, sizeof(adu));
}

static void modbus_frames(struct frame *fr, struct frame *fwd, uint16_t sport,
			  uint8_t fc)
{
	modbus_frames_to(fr, fwd, sport, 502, fc);
}

/*
 * FC 16, two registers at `addr`, to the port of the bench's flow with 8
 * allow: rules (rules.c, BENCH_MODBUS_RULES_PORT).
 */
static void modbus_rules_frames(struct frame *fr, struct frame *fwd,
				uint16_t sport, uint16_t addr)
{
	const uint8_t adu[] = {0,	    1, 0, 0, 0, 11, 1, 16, addr >> 8,
			       addr & 0xff, 0, 2, 4, 0, 1,  0, 2};

	ics_frames(fr, fwd, sport, BENCH_MODBUS_RULES_PORT, adu, sizeof(adu));
}

/*
 * EtherNet/IP on 44818 (rules.c: enip: read-only): a Read Tag, or a
 * Multiple_Service_Packet of 15 Read Tags and a Write Tag last.
 */
static void enip_frames(struct frame *fr, struct frame *fwd, uint16_t sport,
			bool msp)
{
	static const uint8_t one[2] = {1, 0};
	static const uint8_t v[8] = {0xc4, 0, 1, 0, 1, 0, 0, 0};
	uint8_t reqs[16][32], cip[700], pl[800];
	const uint8_t *rp[16];
	size_t lens[16], n, i;

	for (i = 0; i < 16; i++) {
		lens[i] = i == 15 ? cg_cip_tag_request(reqs[i], 32, 0x4d,
						       "Hoist_Speed", v, 8)
				  : cg_cip_tag_request(reqs[i], 32, 0x4c,
						       "Hoist_Speed", one, 2);
		rp[i] = reqs[i];
	}
	n = msp ? cg_cip_msp(cip, sizeof(cip), rp, lens, 16)
		: cg_cip_tag_request(cip, sizeof(cip), 0x4c, "Hoist_Speed", one,
				     2);
	n = cg_enip_rr(pl, sizeof(pl), cip, n);
	ics_frames(fr, fwd, sport, 44818, pl, n);
}

/* S7comm read variable (job 0x04) in TPKT/COTP, as an HMI polls. */
static void s7_frames(struct frame *fr, struct frame *fwd, uint16_t sport)
{
	static const uint8_t pdu[] = {
		3, 0, 0, 31,   2,  0xf0, 0x80, 0x32, 1, 0, 0, 0,    2, 0, 14, 0,
		0, 4, 1, 0x12, 10, 0x10, 2,    0,    1, 0, 1, 0x84, 0, 0, 0};

	ics_frames(fr, fwd, sport, 102, pdu, sizeof(pdu));
}

void tcp_frame(struct frame *fr, const uint8_t src[4], const uint8_t dst[4],
	       uint16_t sport, uint16_t dport, uint8_t flags)
{
	char s[16], d[16];
	struct cg_frame_spec spec;

	bench_addr_str(src, s, sizeof(s));
	bench_addr_str(dst, d, sizeof(d));
	cg_frame_tcp(&spec, s, d, sport, dport, flags);
	/* Each host its own MAC (02:00 + its address), as on a real
	 * network: the gate learns which zone a MAC lives in. */
	spec.src_mac[0] = 0x02;
	spec.src_mac[1] = 0x00;
	memcpy(&spec.src_mac[2], src, 4);
	fr->len = cg_frame_build(&spec, fr->buf, sizeof(fr->buf));
}

/*
 * The frame of class c; k numbers the distinct frames of first-packet
 * classes. *fwd receives, for a reply, the forward frame that opens its
 * connection. All use flow `mid` of the policy.
 */
void build(int c, unsigned n_flows, unsigned k, struct frame *fr,
	   struct frame *fwd)
{
	static const uint8_t spoofed[4] = {198, 19, 128, 1};
	static const uint8_t crane_host[4] = {198, 19, 0, 5};
	struct bench_flow f;

	bench_flow(n_flows / 2, &f);
	switch (c) {
	case C_FIRST:
		tcp_frame(fr, f.src, f.dst, 10000 + k, f.port, CG_TCP_SYN);
		break;
	case C_REPLY:
		tcp_frame(fwd, f.src, f.dst, 30000 + k, f.port, CG_TCP_SYN);
		tcp_frame(fr, f.dst, f.src, f.port, 30000 + k,
			  CG_TCP_SYN | CG_TCP_ACK);
		break;
	case C_ESTABLISHED:
		tcp_frame(fr, f.src, f.dst, 50000, f.port, CG_TCP_ACK);
		break;
	case C_ESTABLISHED_REPLY:
		tcp_frame(fwd, f.src, f.dst, 50001, f.port, CG_TCP_ACK);
		tcp_frame(fr, f.dst, f.src, f.port, 50001, CG_TCP_ACK);
		break;
	case C_NO_RULE:
		tcp_frame(fr, f.src, f.dst, 50002, 9, CG_TCP_SYN);
		break;
	case C_SPOOFED:
		tcp_frame(fr, spoofed, f.dst, 50003, f.port, CG_TCP_SYN);
		break;
	case C_MULTI_HOMED:
		tcp_frame(fr, crane_host, f.dst, 50004, f.port, CG_TCP_SYN);
		break;
	case C_MALFORMED:
		tcp_frame(fr, f.src, f.dst, 50005, f.port, CG_TCP_ACK);
		/* IPv4 total length: 100 bytes more than the frame holds. */
		fr->buf[16] = (fr->len - 14 + 100) >> 8;
		fr->buf[17] = (fr->len - 14 + 100) & 0xff;
		break;
	case C_MODBUS_READ:
		modbus_frames(fr, fwd, 50010, 3);
		break;
	case C_MODBUS_WRITE:
		modbus_frames(fr, fwd, 50011, 6);
		break;
	case C_MODBUS_NEW:
		modbus_frames(fr, fwd, (uint16_t)(20000 + k), 3);
		break;
	case C_S7_NEW:
		s7_frames(fr, fwd, (uint16_t)(40000 + k));
		break;
	case C_S7_READ:
		s7_frames(fr, fwd, 50012);
		break;
	case C_MODBUS_RULES:
		modbus_rules_frames(fr, fwd, 50013, 9999);
		break;
	case C_MODBUS_RULES_NEW:
		modbus_rules_frames(fr, fwd, (uint16_t)(45000 + k),
				    BENCH_MODBUS_RULES_LAST);
		break;
	case C_MODBUS_WRITE_NEW:
		modbus_frames(fr, fwd, (uint16_t)(25000 + k), 6);
		break;
	case C_MODBUS_WRITE_RESET:
		modbus_frames_to(fr, fwd, (uint16_t)(30000 + k),
				 BENCH_MODBUS_RESET_PORT, 6);
		break;
	case C_ENIP_READ_NEW:
		enip_frames(fr, fwd, (uint16_t)(46000 + k), false);
		break;
	case C_ENIP_MSP_WRITE:
		enip_frames(fr, fwd, 50014, true);
		break;
	}
}

/* ------------------------------------------------------------ cost */

/* --class A,B: only those classes (all without it). */
static bool class_wanted(const struct opts *o, const char *name)
{
	size_t n = strlen(name);
	const char *p = o->cls;

	if (!p)
		return true;
	while ((p = strstr(p, name))) {
		if ((p == o->cls || p[-1] == ',') && (!p[n] || p[n] == ','))
			return true;
		p += n;
	}
	return false;
}

struct prog {
	const char *name;
	int fd;
	bool gate;
};

FILE *csv_open(const char *path, const char *header)
{
	FILE *f;

	if (!path)
		return NULL;
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "cgbench: cannot write %s: %m\n", path);
		return NULL;
	}
	fprintf(f, "%s\n", header);
	return f;
}

static uint64_t reason_count(struct cg_gate *g, unsigned reason)
{
	struct cg_counter c;

	return cg_gate_reason_count(g, reason, &c) ? 0 : c.packets;
}

/*
 * One class at one size: fills v[prog][sample]. The gate's state is
 * prepared first (connections opened for established classes) and the
 * reason it gives is checked on the way.
 */
static int measure_class(const struct opts *o, int c, unsigned n_flows,
			 struct cg_gate *g, const struct prog *progs,
			 unsigned n_progs, double v[][MAX_SAMPLES], bool *ok)
{
	const struct cls *cl = &classes[c];
	int gate_fd = cg_gate_prog_fd(g), ifi = ifindex[cl->iface];
	struct frame fr, fwd, warm[2];
	unsigned s, p, j, k = 0;
	uint64_t before;

	*ok = true;
	if (cl->mode == CLS_REPEAT) {
		build(c, n_flows, 0, &fr, &fwd);
		/* The open connection (and for ICS classes the start of
		 * the stream) that the repeated frame belongs to. */
		if (c == C_ESTABLISHED_REPLY || c == C_MODBUS_READ ||
		    c == C_MODBUS_WRITE || c == C_S7_READ ||
		    c == C_MODBUS_RULES || c == C_ENIP_MSP_WRITE)
			run_once(gate_fd, ifindex[0], fwd.buf, fwd.len, 1,
				 NULL);
		before = reason_count(g, cl->reason);
		run_once(gate_fd, ifi, fr.buf, fr.len, 1, NULL);
		*ok = reason_count(g, cl->reason) == before + 1;
		for (p = 0; p < n_progs; p++)
			run_once(progs[p].fd, ifi, fr.buf, fr.len, 1000, NULL);
		for (s = 0; s < o->samples; s++) {
			for (j = 0; j < n_progs; j++) {
				p = (j + s) % n_progs;
				v[p][s] = run_once(progs[p].fd, ifi, fr.buf,
						   fr.len, o->repeat, NULL);
				if (v[p][s] < 0)
					return -errno;
			}
		}
		return 0;
	}

	/*
	 * Warm-up frames, run through each program just before its timed
	 * run: a no-rule frame (the judgement's lookups) and an established
	 * one (the connection table), so that a first packet is timed as it
	 * arrives amid traffic, not against caches the syscall left cold.
	 */
	build(C_NO_RULE, n_flows, 0, &warm[0], &fwd);
	build(C_ESTABLISHED, n_flows, 0, &warm[1], &fwd);
	/* The reason, on a frame of its own (k past every measured one). */
	build(c, n_flows, CHECK_K, &fr, &fwd);
	if (cl->mode == CLS_FIRST_REPLY)
		run_once(gate_fd, ifindex[0], fwd.buf, fwd.len, 1, NULL);
	before = reason_count(g, cl->reason);
	run_once(gate_fd, ifi, fr.buf, fr.len, 1, NULL);
	*ok = reason_count(g, cl->reason) == before + 1;
	for (s = 0; s < o->samples; s++) {
		double d[MAX_PROGS][MAX_FIRST];
		unsigned kk = o->first < MAX_FIRST ? o->first : MAX_FIRST;

		for (j = 0; j < kk; j++, k++) {
			build(c, n_flows, k, &fr, &fwd);
			if (cl->mode == CLS_FIRST_REPLY)
				run_once(gate_fd, ifindex[0], fwd.buf, fwd.len,
					 1, NULL);
			for (p = 0; p < n_progs; p++) {
				unsigned q = (p + j) % n_progs;

				/* repeat = 1: a repeat > 1 rewrites the XDP
				 * dispatcher, whose fresh code would then be
				 * timed cold. */
				run_once(progs[q].fd, ifindex[0], warm[0].buf,
					 warm[0].len, 1, NULL);
				run_once(progs[q].fd, ifindex[0], warm[1].buf,
					 warm[1].len, 1, NULL);
				d[q][j] = run_once(progs[q].fd, ifi, fr.buf,
						   fr.len, 1, NULL);
				if (d[q][j] < 0)
					return -errno;
			}
		}
		for (p = 0; p < n_progs; p++)
			v[p][s] = median(d[p], kk);
	}
	return 0;
}

void sized_free(struct sized *z)
{
	cg_gate_free(z->g);
	cg_compiled_free(z->c);
	cg_policy_free(z->p);
	free(z->yaml);
	memset(z, 0, sizeof(*z));
}

/*
 * Parse and compile (and, with `load`, load) the benchmark policy of n
 * flows. Returns 0 or a negative errno; *why gets the first error line.
 */
int sized_make(const struct opts *o, unsigned n, bool load, struct sized *z,
	       char *why, size_t why_len)
{
	struct bench_rules r = {.n = n,
				.proto = o->proto,
				.ifaces = {"bench0", "bench1"},
				.name = "bench",
				.timed = o->timed};
	struct cg_diags d = {.file = "bench.yaml"};
	/* Loaded as a live instance (slot A, private maps), so that the
	 * figures include the hand-off check every attached gate pays. */
	struct cg_gate_opts go = {.verbose = o->verbose, .slot = CG_SLOT_A};
	size_t len = 0;
	int err;

	memset(z, 0, sizeof(*z));
	why[0] = 0;
	z->yaml = bench_policy_yaml(&r, &len);
	if (!z->yaml)
		return -ENOMEM;
	err = cg_policy_parse("bench.yaml", z->yaml, len, &z->p, &d);
	if (!err)
		err = cg_compile(z->p, &z->c, &d);
	if (!err && load)
		err = cg_gate_load(z->c, &go, &z->g);
	if (err && d.n)
		snprintf(why, why_len, "%s", d.items[0].msg);
	else if (err)
		snprintf(why, why_len, "%s", strerror(-err));
	cg_diags_free(&d);
	if (err)
		sized_free(z);
	return err;
}

/*
 * The largest benchmark policy that parses and compiles: bisection
 * between a size known to fit and one known not to, to within 2%.
 */
static unsigned find_max(const struct opts *o, unsigned lo, char *why,
			 size_t why_len)
{
	unsigned hi = 4u << 20;
	char w[256];
	struct sized z;

	while (hi - lo > lo / 50) {
		unsigned mid = lo + (hi - lo) / 2;

		if (sized_make(o, mid, false, &z, w, sizeof(w))) {
			hi = mid;
			snprintf(why, why_len, "%u flows: %s", mid, w);
		} else {
			lo = mid;
			sized_free(&z);
		}
		fprintf(stderr, "#   probe %u flows: %s\n", mid,
			hi == mid ? "does not fit" : "fits");
	}
	return lo;
}

/*
 * Stay on the CPU we started on: a connection's frames arrive on one CPU
 * (RSS steers each direction to one queue), the CPU that owns its counts
 * (struct cg_conn_count); a run that migrated between opening the
 * connections and timing them would time the other CPUs' atomic adds.
 */
static void pin_here(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "cgbench: warning: cannot stay on CPU %d: %s\n",
			cpu, strerror(errno));
}

static int cmd_cost(const struct opts *o)
{
	struct empty_bpf *empty = NULL;
	FILE *csv = csv_open(o->csv, "flows,class,system,median_ns,min_ns,"
				     "max_ns,method,reason_ok");
	unsigned sizes[9], n_sizes = o->n_sizes, i, c, p;
	bool have_xdpf = bench_xdpf_dir() != NULL;
	int err = -1;

	memcpy(sizes, o->sizes, n_sizes * sizeof(*sizes));
	pin_here();
	empty = empty_bpf__open_and_load();
	if (!empty) {
		fprintf(stderr, "cgbench: cannot load the empty program\n");
		goto out;
	}
	if (!have_xdpf)
		fprintf(stderr,
			"cgbench: SKIP xdp-filter: xdpfilt_*.o not found "
			"(install xdp-tools, or set XDPFILT_DIR)\n");
	if (o->max) {
		char why[300] = "";
		unsigned m = find_max(o, sizes[n_sizes - 1], why, sizeof(why));

		fprintf(stderr, "# largest policy that fits: %u flows (%s)\n",
			m, why);
		if (csv)
			fprintf(csv, "%u,#max,limit,0,0,0,\"%s\",1\n", m, why);
		if (m > sizes[n_sizes - 1])
			sizes[n_sizes++] = m;
	}

	/* What each frame class is, for the report. */
	for (c = 0; csv && c < C_N; c++)
		fprintf(csv, "0,%s,#what,0,0,0,\"%s\",1\n", classes[c].name,
			classes[c].what);
	for (i = 0; i < n_sizes; i++) {
		struct bench_xdpf *xa = NULL, *xb = NULL;
		struct prog progs[MAX_PROGS];
		unsigned n_progs = 0;
		char why[256];
		struct sized z;
		double t0 = bench_now();

		err = sized_make(o, sizes[i], true, &z, why, sizeof(why));
		if (err) {
			fprintf(stderr, "cgbench: policy of %u flows: %s\n",
				sizes[i], why);
			if (i + 1 == n_sizes && o->max)
				continue;
			goto out;
		}
		fprintf(stderr,
			"# %u flows: %zu flow keys, %u classes, loaded in %.2f "
			"s\n",
			sizes[i], z.c->n_flow_keys, z.c->n_classes,
			bench_now() - t0);
		progs[n_progs++] =
			(struct prog){"cranegate", cg_gate_prog_fd(z.g), true};
		progs[n_progs++] = (struct prog){
			"empty", bpf_program__fd(empty->progs.empty_pass),
			false};
		if (have_xdpf &&
		    !bench_xdpf_load(BENCH_XDPF_BLOCK, sizes[i], o->proto, &xb))
			progs[n_progs++] =
				(struct prog){"xdp-filter-block",
					      bench_xdpf_prog_fd(xb), false};
		if (have_xdpf &&
		    !bench_xdpf_load(BENCH_XDPF_ALLOW, sizes[i], o->proto, &xa))
			progs[n_progs++] =
				(struct prog){"xdp-filter-allow",
					      bench_xdpf_prog_fd(xa), false};

		for (c = 0; c < C_N; c++) {
			double v[MAX_PROGS][MAX_SAMPLES];
			bool ok;

			if (!class_wanted(o, classes[c].name))
				continue;
			err = measure_class(o, c, sizes[i], z.g, progs, n_progs,
					    v, &ok);
			if (err) {
				fprintf(stderr,
					"cgbench: %s: test run failed: %s\n",
					classes[c].name, strerror(-err));
				break;
			}
			if (!ok)
				fprintf(stderr,
					"cgbench: WARNING: %s at %u flows did "
					"not get "
					"the expected reason\n",
					classes[c].name, sizes[i]);
			for (p = 0; p < n_progs; p++) {
				struct stat3 st = stat3(v[p], o->samples);
				char method[64];

				if (classes[c].mode == CLS_REPEAT)
					snprintf(method, sizeof(method),
						 "%ux%u", o->samples,
						 o->repeat);
				else
					snprintf(method, sizeof(method),
						 "%ux%u distinct (repeat 1)",
						 o->samples, o->first);
				fprintf(stderr,
					"  %-18s %-17s %8.1f ns (%.1f..%.1f)\n",
					classes[c].name, progs[p].name,
					st.median, st.min, st.max);
				if (csv)
					fprintf(csv,
						"%u,%s,%s,%.1f,%.1f,%.1f,%s,%"
						"d\n",
						sizes[i], classes[c].name,
						progs[p].name, st.median,
						st.min, st.max, method, ok);
			}
		}
		bench_xdpf_free(xa);
		bench_xdpf_free(xb);
		sized_free(&z);
		if (err)
			goto out;
	}
	err = 0;
out:
	if (csv)
		fclose(csv);
	empty_bpf__destroy(empty);
	return err ? 1 : 0;
}

/* ------------------------------------------------------------ gen, attach */

static int cmd_gen(const struct opts *o, const char *fmt, unsigned n)
{
	struct bench_rules r = {.n = n,
				.proto = o->proto,
				.ifaces = {o->ifaces[0], o->ifaces[1]},
				.name = o->name};
	enum bench_format f;

	if (!strcmp(fmt, "yaml"))
		f = BENCH_YAML;
	else if (!strcmp(fmt, "nft-linear"))
		f = BENCH_NFT_LINEAR;
	else if (!strcmp(fmt, "nft-set"))
		f = BENCH_NFT_SET;
	else {
		fprintf(stderr, "cgbench: gen: unknown format '%s'\n", fmt);
		return 2;
	}
	return bench_rules_write(&r, f, stdout) ? 1 : 0;
}

static int cmd_attach(const struct opts *o, const char *what, const char *iface,
		      unsigned n)
{
	struct bench_bpf *skel = NULL;
	struct bench_xdpf *x = NULL;
	int ifi = if_nametoindex(iface), fd = -1, err;

	if (!ifi) {
		fprintf(stderr, "cgbench: attach: no interface '%s' here\n",
			iface);
		return 1;
	}
	if (!strcmp(what, "drop")) {
		skel = bench_bpf__open_and_load();
		if (skel)
			fd = bpf_program__fd(skel->progs.bench_drop);
	} else if (!strcmp(what, "xdp-filter")) {
		if (!bench_xdpf_load(BENCH_XDPF_ALLOW, n, o->proto, &x))
			fd = bench_xdpf_prog_fd(x);
	} else {
		fprintf(stderr, "cgbench: attach: unknown program '%s'\n",
			what);
		return 2;
	}
	if (fd < 0) {
		fprintf(stderr, "cgbench: attach: cannot load %s\n", what);
		err = 1;
		goto out;
	}
	err = bpf_xdp_attach(ifi, fd, XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		fprintf(stderr, "cgbench: attach %s to %s (native mode): %s\n",
			what, iface, strerror(-err));
out:
	bench_xdpf_free(x);
	bench_bpf__destroy(skel);
	return err ? 1 : 0;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cgbench cost   [--repeat N] [--samples S] [--first "
		"K] [--sizes A,B,..] [--max] [--timed] [--class A,B,..] "
		"[--csv FILE]\n"
		"       cgbench ops    [--repeat N] [--samples S] [--sizes "
		"N] [--csv FILE]\n"
		"       cgbench phases [--samples S] [--sizes A,B,..] "
		"[--csv FILE]\n"
		"       cgbench shadow [--repeat N] [--samples S] [--sizes "
		"N] [--csv FILE]\n"
		"       cgbench gen yaml|nft-linear|nft-set N [--proto "
		"tcp|udp] [--ifaces A,B] [--name NAME]\n"
		"       cgbench attach drop|xdp-filter IFACE [N] [--proto "
		"tcp|udp]\n"
		"       cgbench events [--repeat N] [--samples S] [--csv "
		"FILE]\n"
		"       cgbench drive PIN_ROOT IFACE SRC DST SECONDS "
		"RATE\n"
		"       cgbench records [--sizes CONNECTIONS] [--csv FILE]\n"
		"       cgbench first2 [--samples S] [--first K] [--sizes N] "
		"[--csv FILE]\n"
		"       cgbench lines PROG_ID  (JIT address of each source "
		"line; see lines.sh)\n");
}

static int parse_sizes(const char *s, struct opts *o)
{
	char *end;

	o->n_sizes = 0;
	while (*s && o->n_sizes < 8) {
		o->sizes[o->n_sizes++] = strtoul(s, &end, 10);
		if (end == s)
			return -1;
		s = *end == ',' ? end + 1 : end;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"repeat", required_argument, NULL, 'r'},
		{"samples", required_argument, NULL, 's'},
		{"first", required_argument, NULL, 'k'},
		{"sizes", required_argument, NULL, 'n'},
		{"max", no_argument, NULL, 'm'},
		{"csv", required_argument, NULL, 'c'},
		{"proto", required_argument, NULL, 'p'},
		{"ifaces", required_argument, NULL, 'i'},
		{"name", required_argument, NULL, 'N'},
		{"verbose", no_argument, NULL, 'v'},
		{"timed", no_argument, NULL, 't'},
		{"class", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	struct opts o = {.repeat = 200000,
			 .samples = 7,
			 .first = 300,
			 .sizes = {10, 1000, 100000},
			 .n_sizes = 3,
			 .proto = "tcp",
			 .ifaces = {"bench0", "bench1"},
			 .name = "cgbench"};
	static char ifs[64];
	const char *cmd;
	int ch;

	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'r':
			o.repeat = strtoul(optarg, NULL, 10);
			break;
		case 's':
			o.samples = strtoul(optarg, NULL, 10);
			break;
		case 'k':
			o.first = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			if (parse_sizes(optarg, &o)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'm':
			o.max = true;
			break;
		case 'c':
			o.csv = optarg;
			break;
		case 'p':
			o.proto = optarg;
			break;
		case 'i': {
			char *comma;

			snprintf(ifs, sizeof(ifs), "%s", optarg);
			comma = strchr(ifs, ',');
			if (!comma) {
				usage(stderr);
				return 2;
			}
			*comma = 0;
			o.ifaces[0] = ifs;
			o.ifaces[1] = comma + 1;
			break;
		}
		case 'N':
			o.name = optarg;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 't':
			o.timed = true;
			break;
		case 'C':
			o.cls = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (o.samples < 1 || o.samples > MAX_SAMPLES || o.repeat < 1 ||
	    o.first < 1) {
		fprintf(stderr,
			"cgbench: samples must be 1..%d, repeat and first >= "
			"1\n",
			MAX_SAMPLES);
		return 2;
	}
	bench_libbpf_quiet(o.verbose);
	cmd = argv[optind++];
	if (!strcmp(cmd, "gen")) {
		if (argc - optind != 2) {
			usage(stderr);
			return 2;
		}
		return cmd_gen(&o, argv[optind],
			       strtoul(argv[optind + 1], NULL, 10));
	}
	if (!strcmp(cmd, "attach")) {
		if (argc - optind < 2) {
			usage(stderr);
			return 2;
		}
		return cmd_attach(&o, argv[optind], argv[optind + 1],
				  argc - optind > 2
					  ? strtoul(argv[optind + 2], NULL, 10)
					  : 0);
	}
	if (!strcmp(cmd, "lines")) {
		if (argc - optind != 1) {
			usage(stderr);
			return 2;
		}
		return cmd_lines(strtoul(argv[optind], NULL, 10));
	}
	if (!strcmp(cmd, "drive")) {
		if (argc - optind != 6) {
			usage(stderr);
			return 2;
		}
		return bench_drive(argv[optind], argv[optind + 1],
				   argv[optind + 2], argv[optind + 3],
				   strtod(argv[optind + 4], NULL),
				   strtoul(argv[optind + 5], NULL, 10));
	}
	if (strcmp(cmd, "cost") && strcmp(cmd, "ops") &&
	    strcmp(cmd, "phases") && strcmp(cmd, "shadow") &&
	    strcmp(cmd, "events") && strcmp(cmd, "records") &&
	    strcmp(cmd, "first2")) {
		usage(stderr);
		return 2;
	}
	if (cg_sandbox_enter(ifnames, 2))
		return 1;
	ifindex[0] = if_nametoindex(ifnames[0]);
	ifindex[1] = if_nametoindex(ifnames[1]);
	if (!strcmp(cmd, "cost"))
		return cmd_cost(&o);
	if (!strcmp(cmd, "ops"))
		return cmd_ops(&o);
	if (!strcmp(cmd, "shadow"))
		return cmd_shadow(&o);
	if (!strcmp(cmd, "first2"))
		return cmd_first2(&o);
	if (!strcmp(cmd, "events"))
		return bench_events(o.repeat, o.samples, o.csv, o.verbose);
	if (!strcmp(cmd, "records"))
		return bench_records(o.n_sizes ? o.sizes[0] : 20000, o.csv,
				     o.verbose);
	return cmd_phases(&o);
}
