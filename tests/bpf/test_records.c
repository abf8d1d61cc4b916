// SPDX-License-Identifier: GPL-2.0
/*
 * Counting on the connection entry (struct cg_conn_count), through the
 * real program: frames and bytes that pass from each end, when the
 * connection started, how it ended (FIN, RST), and on an inspected flow
 * its requests per function class, the refused ones and the functions
 * named. Dropped frames are not counted; a gate built without counting
 * (cfg_conn_count = 0) counts nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <limits.h>
#include <time.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "frames.h"
#include "gate.h"
#include "harness.h"
#include "ics.h"
#include "loader.h"
#include "records.h"

CG_TEST_GLOBALS;

#define HMI "198.18.10.5"
#define PLC "198.18.20.10"

static char ifnames[2][CG_IFNAME_MAX] = {"biz0", "crane0"};

static const char *policy =
	"version: 1\nname: records\nzones:\n"
	"  business: {interfaces: [biz0], networks: [198.18.10.0/24]}\n"
	"  control: {interfaces: [crane0], networks: [198.18.20.0/24]}\n"
	"flows:\n"
	"  - {name: web, from: business, to: control, proto: tcp, ports: "
	"[80]}\n"
	"  - {name: stream, from: business, to: control, proto: udp, ports: "
	"[5004]}\n"
	"  - {name: mb, from: business, to: control, proto: tcp, ports: "
	"[502], modbus: read-only}\n";

struct inst {
	struct cg_policy *p;
	struct cg_compiled *c;
	struct cg_gate *g;
	int conns;
};

static bool load(struct inst *in, bool no_count)
{
	struct cg_diags d = {.file = "test.yaml"};
	struct cg_gate_opts o = {.record = true, .no_conn_count = no_count};
	int err;

	err = cg_policy_parse("test.yaml", policy, strlen(policy), &in->p, &d);
	if (!err)
		err = cg_compile(in->p, &in->c, &d);
	cg_diags_free(&d);
	if (!ASSERT_OK(err, "policy parses and compiles"))
		return false;
	if (!ASSERT_OK(cg_gate_load(in->c, &o, &in->g), "instance loads"))
		return false;
	in->conns = cg_gate_map_fd(in->g, "conns4"); /* IPv4 only here */
	return ASSERT_TRUE(in->conns >= 0, "conns map");
}

static void unload(struct inst *in)
{
	cg_gate_free(in->g);
	cg_compiled_free(in->c);
	cg_policy_free(in->p);
}

/* A TCP segment; its reason (or -1), and its length in *len. */
static int tcp(struct inst *in, bool from_hmi, uint16_t hport, uint16_t pport,
	       uint8_t flags, const uint8_t *pl, size_t n, size_t *len)
{
	uint8_t buf[CG_FRAME_MAX];
	struct cg_frame_spec s;
	struct cg_event ev;
	int action;

	if (from_hmi)
		cg_frame_tcp(&s, HMI, PLC, hport, pport, flags);
	else
		cg_frame_tcp(&s, PLC, HMI, pport, hport, flags);
	/* The opener's stream: sequence numbers that follow on. */
	s.tcp_seq = (from_hmi ? 1000 : 5000) + !(flags & CG_TCP_SYN);
	s.tcp_ack = from_hmi ? 5001 : 1001;
	s.payload = pl;
	s.payload_len = n;
	*len = cg_frame_build(&s, buf, sizeof(buf));
	cg_frame_station_mac(buf, *len);
	if (cg_gate_test_run(in->g,
			     if_nametoindex(from_hmi ? "biz0" : "crane0"), buf,
			     *len, &ev, &action))
		return -1;
	return ev.reason;
}

/* The entry of the connection HMI:hport <-> PLC:pport (proto). */
static bool entry(struct inst *in, uint8_t proto, uint16_t hport,
		  uint16_t pport, struct cg_conn_val *v, int *hmi_end)
{
	struct cg_conn4_key k, prev;
	bool first = true;

	while (!bpf_map_get_next_key(in->conns, first ? NULL : &prev, &k)) {
		first = false;
		prev = k;
		if (k.proto != proto)
			continue;
		if (k.aport == hport && k.bport == pport)
			*hmi_end = 0;
		else if (k.aport == pport && k.bport == hport)
			*hmi_end = 1;
		else
			continue;
		return !bpf_map_lookup_elem(in->conns, &k, v);
	}
	return false;
}

static void test_tcp(struct inst *in)
{
	uint8_t data[100] = {0}, big[300] = {0};
	unsigned long long fwd_b = 0, rev_b = 0;
	struct cg_conn_val v;
	size_t len;
	int he;

	ASSERT_EQ(tcp(in, true, 40000, 80, CG_TCP_SYN, NULL, 0, &len),
		  CG_R_ALLOWED, "tcp: SYN allowed");
	fwd_b += len;
	ASSERT_EQ(tcp(in, false, 40000, 80, CG_TCP_SYN | CG_TCP_ACK, NULL, 0,
		      &len),
		  CG_R_REPLY, "tcp: SYN-ACK reply");
	rev_b += len;
	ASSERT_EQ(
		tcp(in, true, 40000, 80, CG_TCP_ACK, data, sizeof(data), &len),
		CG_R_ALLOWED, "tcp: data allowed");
	fwd_b += len;
	ASSERT_EQ(tcp(in, false, 40000, 80, CG_TCP_ACK, big, sizeof(big), &len),
		  CG_R_REPLY, "tcp: reply data");
	rev_b += len;
	/* A reply that opens is no reply: dropped, not counted. */
	ASSERT_EQ(tcp(in, false, 40000, 80, CG_TCP_SYN, NULL, 0, &len),
		  CG_R_NO_RULE, "tcp: a SYN back is no-rule");
	if (!ASSERT_TRUE(entry(in, 6, 40000, 80, &v, &he), "tcp: entry"))
		return;
	ASSERT_EQ(v.opener, he, "tcp: the HMI opened it");
	ASSERT_EQ(cg_conn_packets(&v.cnt, he), 2,
		  "tcp: 2 frames from the opener");
	ASSERT_EQ(cg_conn_packets(&v.cnt, !he), 2,
		  "tcp: 2 frames from the responder");
	ASSERT_EQ(cg_conn_bytes(&v.cnt, he), fwd_b, "tcp: the opener's bytes");
	ASSERT_EQ(cg_conn_bytes(&v.cnt, !he), rev_b,
		  "tcp: the responder's bytes");
	ASSERT_TRUE(v.cnt.start != 0 && v.cnt.start <= v.last,
		    "tcp: start time set, not after the last frame");
	ASSERT_EQ(v.closing, 0, "tcp: not ended yet");
	ASSERT_EQ(tcp(in, true, 40000, 80, CG_TCP_FIN | CG_TCP_ACK, NULL, 0,
		      &len),
		  CG_R_ALLOWED, "tcp: FIN allowed");
	entry(in, 6, 40000, 80, &v, &he);
	ASSERT_EQ(v.closing, CG_CLOSE_FIN, "tcp: FIN seen");
	ASSERT_EQ(cg_conn_packets(&v.cnt, he), 3, "tcp: the FIN counted");
	ASSERT_EQ(tcp(in, false, 40000, 80, CG_TCP_RST, NULL, 0, &len),
		  CG_R_REPLY, "tcp: RST reply");
	entry(in, 6, 40000, 80, &v, &he);
	ASSERT_EQ(v.closing, CG_CLOSE_FIN | CG_CLOSE_RST, "tcp: RST seen");
}

static void test_udp(struct inst *in)
{
	uint8_t buf[CG_FRAME_MAX];
	struct cg_frame_spec s;
	struct cg_conn_val v;
	struct cg_event ev;
	int action, he, i;
	size_t len;

	for (i = 0; i < 3; i++) {
		cg_frame_udp(&s, HMI, PLC, 41000, 5004);
		len = cg_frame_build(&s, buf, sizeof(buf));
		cg_frame_station_mac(buf, len);
		cg_gate_test_run(in->g, if_nametoindex("biz0"), buf, len, &ev,
				 &action);
	}
	if (!ASSERT_TRUE(entry(in, 17, 41000, 5004, &v, &he), "udp: entry"))
		return;
	ASSERT_EQ(cg_conn_packets(&v.cnt, he), 3, "udp: 3 datagrams");
	ASSERT_EQ(cg_conn_bytes(&v.cnt, he), 3 * len, "udp: their bytes");
	ASSERT_EQ(cg_conn_packets(&v.cnt, !he), 0, "udp: none back");
}

static void test_modbus(struct inst *in)
{
	uint8_t rd[64], wr[64];
	size_t nr = cg_modbus_request(rd, sizeof(rd), 1, 1, 3, 0);
	size_t nw = cg_modbus_request(wr, sizeof(wr), 2, 1, 6, 0);
	struct cg_conn_val v;
	size_t len;
	int he;

	tcp(in, true, 42000, 502, CG_TCP_SYN, NULL, 0, &len);
	tcp(in, false, 42000, 502, CG_TCP_SYN | CG_TCP_ACK, NULL, 0, &len);
	ASSERT_EQ(tcp(in, true, 42000, 502, CG_TCP_ACK | CG_TCP_PSH, rd, nr,
		      &len),
		  CG_R_ALLOWED, "modbus: a read passes");
	/* Same sequence number, other bytes: the stream rule would drop a
	 * rewrite, so the write goes on a connection of its own. */
	tcp(in, true, 42001, 502, CG_TCP_SYN, NULL, 0, &len);
	tcp(in, false, 42001, 502, CG_TCP_SYN | CG_TCP_ACK, NULL, 0, &len);
	ASSERT_EQ(tcp(in, true, 42001, 502, CG_TCP_ACK | CG_TCP_PSH, wr, nw,
		      &len),
		  CG_R_ICS_DENIED, "modbus: a write is refused");
	if (ASSERT_TRUE(entry(in, 6, 42000, 502, &v, &he), "modbus: entry")) {
		ASSERT_EQ(v.cnt.requests[CG_FC_READ], 1, "modbus: 1 read");
		ASSERT_EQ(v.cnt.refused, 0, "modbus: none refused");
		ASSERT_EQ(v.cnt.ics_proto, CG_ICS_PROTO_MODBUS,
			  "modbus: protocol");
		ASSERT_EQ(v.cnt.functions[0], 1ull << 3,
			  "modbus: function 3 seen, no other");
		ASSERT_EQ(cg_conn_packets(&v.cnt, he), 2,
			  "modbus: SYN and read counted");
	}
	if (ASSERT_TRUE(entry(in, 6, 42001, 502, &v, &he), "modbus: entry 2")) {
		ASSERT_EQ(v.cnt.requests[CG_FC_WRITE], 1, "modbus: 1 write");
		ASSERT_EQ(v.cnt.refused, 1, "modbus: refused once");
		ASSERT_EQ(v.cnt.functions[0], 1ull << 6, "modbus: function 6");
		ASSERT_EQ(cg_conn_packets(&v.cnt, he), 1,
			  "modbus: the refused write not counted as passed");
	}
}

/*
 * Two CPUs count on one end at once: the end's owner with plain adds, the
 * other atomically. Every frame must be counted, once. (With plain adds on
 * both CPUs, increments are lost within a few thousand frames.)
 */
#define RACE_RUNS 200000

struct racer {
	int prog_fd, ifindex, cpu, err;
	const uint8_t *frame;
	size_t len;
	pthread_barrier_t *go;
};

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *race(void *arg)
{
	struct racer *r = arg;
	struct xdp_md ctx = {.data_end = r->len, .ingress_ifindex = r->ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->frame,
		    .data_size_in = r->len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = RACE_RUNS);

	r->err = pin_cpu(r->cpu);
	pthread_barrier_wait(r->go);
	if (!r->err && bpf_prog_test_run_opts(r->prog_fd, &o))
		r->err = -errno;
	if (!r->err && o.retval != XDP_PASS)
		r->err = -EPROTO;
	return NULL;
}

/* A state counter (enum cg_state_stat), summed over the CPUs. */
static unsigned long long state_stat(struct inst *in, uint32_t stat)
{
	int fd = cg_gate_map_fd(in->g, "state_stats"),
	    n = libbpf_num_possible_cpus(), i;
	unsigned long long v[n > 0 ? n : 1], sum = 0;

	if (fd < 0 || n <= 0 || bpf_map_lookup_elem(fd, &stat, v))
		return ~0ull;
	for (i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

static void test_two_cpus(struct inst *in)
{
	uint8_t buf[CG_FRAME_MAX];
	struct cg_frame_spec s;
	struct racer r[2];
	pthread_barrier_t go;
	pthread_t t[2];
	struct cg_conn_val v;
	struct cg_event ev;
	unsigned long long expired;
	int action, he, i;
	size_t len;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("# two CPUs: skipped, one CPU online\n");
		return;
	}
	cg_frame_udp(&s, HMI, PLC, 45000, 5004);
	len = cg_frame_build(&s, buf, sizeof(buf));
	cg_frame_station_mac(buf, len);
	/* Opened on CPU 0, which owns the opener's end. Each CPU reads the
	 * clock once per frame, and may find `last` a tick ahead of it,
	 * written by the other: the entry is live, not expired. */
	expired = state_stat(in, CG_S_CONN_EXPIRED);
	if (!ASSERT_OK(pin_cpu(0), "two CPUs: pinned to CPU 0") ||
	    !ASSERT_OK(cg_gate_test_run(in->g, if_nametoindex("biz0"), buf, len,
					&ev, &action),
		       "two CPUs: opened") ||
	    !ASSERT_EQ(ev.reason, CG_R_ALLOWED, "two CPUs: allowed"))
		return;
	pthread_barrier_init(&go, NULL, 2);
	for (i = 0; i < 2; i++) {
		r[i] = (struct racer){.prog_fd = cg_gate_prog_fd(in->g),
				      .ifindex = if_nametoindex("biz0"),
				      .cpu = i,
				      .frame = buf,
				      .len = len,
				      .go = &go};
		pthread_create(&t[i], NULL, race, &r[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	ASSERT_EQ(state_stat(in, CG_S_CONN_EXPIRED), expired,
		  "two CPUs: the connection never looked expired");
	ASSERT_OK(r[0].err, "two CPUs: CPU 0 ran");
	ASSERT_OK(r[1].err, "two CPUs: CPU 1 ran");
	if (!ASSERT_TRUE(entry(in, 17, 45000, 5004, &v, &he),
			 "two CPUs: entry"))
		return;
	ASSERT_EQ(cg_conn_packets(&v.cnt, he), 1 + 2ull * RACE_RUNS,
		  "two CPUs: every frame counted once");
	ASSERT_EQ(cg_conn_bytes(&v.cnt, he), (1 + 2ull * RACE_RUNS) * len,
		  "two CPUs: every byte counted once");
	ASSERT_EQ(v.cnt.owner[he], 1, "two CPUs: CPU 0 owns the end");
	ASSERT_EQ(v.cnt.own_packets[he], 1 + RACE_RUNS,
		  "two CPUs: the owner's frames without a lock");
	ASSERT_EQ(v.cnt.shared_packets[he], RACE_RUNS,
		  "two CPUs: the other CPU's frames atomically");
}

static void test_off(void)
{
	struct inst in = {};
	struct cg_conn_val v;
	size_t len;
	int he;

	if (!load(&in, true))
		goto out;
	tcp(&in, true, 40000, 80, CG_TCP_SYN, NULL, 0, &len);
	tcp(&in, false, 40000, 80, CG_TCP_SYN | CG_TCP_ACK, NULL, 0, &len);
	if (ASSERT_TRUE(entry(&in, 6, 40000, 80, &v, &he), "off: entry"))
		ASSERT_EQ(cg_conn_packets(&v.cnt, 0) +
				  cg_conn_packets(&v.cnt, 1) + v.cnt.start,
			  0, "off: nothing counted");
out:
	unload(&in);
}

/*
 * run's sweep (user/ops/records.c) over a pinned table: a connection whose
 * entry vanishes is reported "evicted"; one whose key a new connection
 * reuses after it expired, "idle"; one opened by a time-boxed flow whose
 * window closed, "window"; a live one, nothing. (Names resolve through
 * the attached instance, which this test has not: tests/e2e/test_records.sh
 * checks them.)
 */
static int udp_from(struct cg_gate *g, uint16_t sport)
{
	uint8_t buf[CG_FRAME_MAX];
	struct cg_frame_spec s;
	struct cg_event ev;
	size_t len;
	int action;

	cg_frame_udp(&s, HMI, PLC, sport, 5004);
	len = cg_frame_build(&s, buf, sizeof(buf));
	cg_frame_station_mac(buf, len);
	if (cg_gate_test_run(g, if_nametoindex("biz0"), buf, len, &ev, &action))
		return -1;
	return ev.reason;
}

static int syn_from(struct cg_gate *g, uint16_t sport, uint16_t dport)
{
	uint8_t buf[CG_FRAME_MAX];
	struct cg_frame_spec s;
	struct cg_event ev;
	size_t len;
	int action;

	cg_frame_tcp(&s, HMI, PLC, sport, dport, CG_TCP_SYN);
	len = cg_frame_build(&s, buf, sizeof(buf));
	cg_frame_station_mac(buf, len);
	if (cg_gate_test_run(g, if_nametoindex("biz0"), buf, len, &ev, &action))
		return -1;
	return ev.reason;
}

/* One sweep; the records it wrote, as text. */
static char *sweep(struct cg_records *rec, int *n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	*n = m ? cg_records_sweep(rec, m) : -1;
	if (m)
		fclose(m);
	return text;
}

static bool has(const char *text, const char *a, const char *b)
{
	const char *line;

	for (line = text; line && *line; line = strchr(line, '\n') + 1) {
		const char *end = strchr(line, '\n');
		char buf[2048];
		size_t n = end ? (size_t)(end - line) : strlen(line);

		snprintf(buf, sizeof(buf), "%.*s", (int)n, line);
		if (strstr(buf, a) && strstr(buf, b))
			return true;
		if (!end)
			break;
	}
	return false;
}

static void test_sweep(void)
{
	char pin[PATH_MAX / 2], path[PATH_MAX], until[32], *text = NULL,
							   *policy_text = NULL;
	struct cg_env env = {};
	struct cg_gate_opts o = {.record = true};
	struct cg_diags d = {.file = "sweep.yaml"};
	struct cg_records *rec = NULL;
	struct inst in = {};
	struct cg_conn4_key k, prev;
	time_t t_end = time(NULL) + 5; /* loading may take a while */
	struct tm tm;
	bool first = true;
	int lock = -1, n, err;
	size_t i;

	snprintf(pin, sizeof(pin), "/sys/fs/bpf/cgt_records_%d", (int)getpid());
	env.pin_root = pin;
	o.pin_root = pin;
	gmtime_r(&t_end, &tm);
	strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (asprintf(&policy_text,
		     "version: 1\nname: sweep\n"
		     "limits: {udp_timeout: 1}\nzones:\n"
		     "  business: {interfaces: [biz0], networks: "
		     "[198.18.10.0/24]}\n"
		     "  control: {interfaces: [crane0], networks: "
		     "[198.18.20.0/24]}\n"
		     "flows:\n"
		     "  - {name: stream, from: business, to: control, proto: "
		     "udp, ports: [5004]}\n"
		     "  - {name: vendor, from: business, to: control, proto: "
		     "tcp, ports: [22], valid: {until: %s}}\n",
		     until) < 0)
		return;
	if (!ASSERT_OK(cg_lock(&env, &lock), "sweep: private pin root"))
		goto out;
	err = cg_policy_parse("sweep.yaml", policy_text, strlen(policy_text),
			      &in.p, &d);
	if (!err)
		err = cg_compile(in.p, &in.c, &d);
	cg_diags_free(&d);
	if (!ASSERT_OK(err, "sweep: policy compiles") ||
	    !ASSERT_OK(cg_gate_load(in.c, &o, &in.g), "sweep: gate loads") ||
	    !ASSERT_OK(cg_records_open(&env, NULL, &rec), "sweep: records"))
		goto out;
	cg_records_limits(rec, &in.p->limits);
	in.conns = cg_gate_map_fd(in.g, "conns4");

	ASSERT_EQ(udp_from(in.g, 41000), CG_R_ALLOWED, "sweep: udp A opens");
	ASSERT_EQ(udp_from(in.g, 41001), CG_R_ALLOWED, "sweep: udp B opens");
	ASSERT_EQ(syn_from(in.g, 42000, 22), CG_R_ALLOWED,
		  "sweep: the time-boxed flow opens C");
	text = sweep(rec, &n);
	ASSERT_EQ(n, 0, "sweep 1: new connections, no record");
	free(text);

	/* B's entry goes (as an LRU eviction would take it). */
	while (!bpf_map_get_next_key(in.conns, first ? NULL : &prev, &k)) {
		first = false;
		prev = k;
		if (k.proto == 17 && (k.aport == 41001 || k.bport == 41001)) {
			bpf_map_delete_elem(in.conns, &k);
			break;
		}
	}
	text = sweep(rec, &n);
	ASSERT_EQ(n, 1, "sweep 2: one record");
	ASSERT_TRUE(text && has(text, "\"sport\": 41001",
				"\"end_reason\": \"evicted\""),
		    "sweep 2: B evicted, with its counters");
	ASSERT_TRUE(text && has(text, "\"sport\": 41001",
				"\"packets_fwd\": 1, \"packets_rev\": 0"),
		    "sweep 2: ... 1 frame forward, none back");
	free(text);

	/* A expires (1 s) and a new datagram reuses its key. */
	usleep(1600 * 1000);
	ASSERT_EQ(udp_from(in.g, 41000), CG_R_ALLOWED, "sweep: udp A again");
	text = sweep(rec, &n);
	ASSERT_TRUE(text && has(text, "\"sport\": 41000",
				"\"end_reason\": \"idle\""),
		    "sweep 3: the old A ended idle (its key reused)");
	if (time(NULL) < t_end)
		ASSERT_FALSE(text && has(text, "\"sport\": 42000", "\"end\""),
			     "sweep 3: C, inside its window, no record");
	free(text);

	/* C's window closes. */
	while (time(NULL) <= t_end)
		usleep(100 * 1000);
	usleep(200 * 1000);
	text = sweep(rec, &n);
	ASSERT_TRUE(text && has(text, "\"sport\": 42000",
				"\"end_reason\": \"window\""),
		    "sweep 4: C ended with its flow's window");
	free(text);
out:
	cg_records_close(rec);
	unload(&in);
	for (i = 0; i < cg_n_state_maps; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin, cg_state_maps[i]);
		unlink(path);
	}
	rmdir(pin);
	if (lock >= 0)
		cg_unlock(lock);
	free(policy_text);
}

int main(void)
{
	struct inst in = {};

	if (!ASSERT_OK(cg_sandbox_enter(ifnames, 2), "private namespace"))
		return cg_test_done();
	if (load(&in, false)) {
		test_tcp(&in);
		test_udp(&in);
		test_modbus(&in);
		test_two_cpus(&in);
	}
	unload(&in);
	test_off();
	test_sweep();
	return cg_test_done();
}
