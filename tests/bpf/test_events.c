// SPDX-License-Identifier: GPL-2.0
/*
 * Events and per-interface counters, through the real XDP program
 * (BPF_PROG_TEST_RUN), with the ring buffer read back:
 *
 *   - one source flooding a drop reason uses up its own bucket only: its
 *     emitted events stay within burst + rate x time, while another
 *     source's events all arrive in the ring buffer;
 *   - many sources (a spoofed flood) still stop at the reason's ceiling;
 *   - 10,000 random (spoofed) sources insert nothing into any map of the
 *     program, each gets its event, and a flooding source among them still
 *     stays within its own limit (the per-source count-min sketch);
 *   - frames without a source address are limited by source MAC;
 *   - events_per_second: 0 sends nothing and counts every event;
 *   - per reason, emitted + lost + suppressed = frames, always;
 *   - per-interface counters add up to the frames sent on each interface,
 *     per reason, and an interface the policy does not name has none.
 *
 * The ceiling is per CPU: the test pins itself to one CPU so that every
 * test run uses the same bucket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "frames.h"
#include "gate.h"
#include "harness.h"

CG_TEST_GLOBALS;

static const char *zones_text =
	"version: 1\n"
	"name: event-tests\n"
	"zones:\n"
	"  business: {interfaces: [biz0], networks: [198.18.10.0/24]}\n"
	"  control: {interfaces: [crane0], networks: [198.18.20.0/24]}\n"
	"flows:\n"
	"  - {name: hmi-plc, from: 198.18.10.5, to: control, proto: tcp, "
	"ports: [502]}\n";

static char ifnames[3][CG_IFNAME_MAX] = {"biz0", "crane0", "other0"};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct cg_gate *load(const char *limits, struct cg_policy **pp,
			    struct cg_compiled **cp)
{
	struct cg_diags d = {.file = "test.yaml"};
	struct cg_gate_opts o = {.record = true};
	struct cg_gate *g = NULL;
	size_t n = strlen(zones_text) + strlen(limits) + 1;
	char *text = malloc(n);
	int err;

	if (!text)
		return NULL;
	snprintf(text, n, "%s%s", zones_text, limits);
	err = cg_policy_parse("test.yaml", text, strlen(text), pp, &d);
	if (!err)
		err = cg_compile(*pp, cp, &d);
	cg_diags_print(&d, stdout);
	cg_diags_free(&d);
	free(text);
	if (!ASSERT_OK(err, "policy parses and compiles"))
		return NULL;
	if (!ASSERT_OK(cg_gate_load(*cp, &o, &g), "instance loads (verifier)"))
		return NULL;
	return g;
}

static void unload(struct cg_gate *g, struct cg_policy *p,
		   struct cg_compiled *c)
{
	cg_gate_free(g);
	cg_compiled_free(c);
	cg_policy_free(p);
}

/* One frame through the program; its reason, or -1. */
static int run(struct cg_gate *g, const char *ifname, uint8_t *buf, size_t len)
{
	struct cg_event ev;
	int action;

	cg_frame_station_mac(buf, len);
	if (cg_gate_test_run(g, if_nametoindex(ifname), buf, len, &ev, &action))
		return -1;
	return ev.reason;
}

/* A no-rule frame (TCP SYN to port 9) from `src` on biz0. */
static size_t no_rule(uint8_t *buf, const char *src)
{
	struct cg_frame_spec s;

	cg_frame_tcp(&s, src, "198.18.20.11", 40000, 9, CG_TCP_SYN);
	return cg_frame_build(&s, buf, CG_FRAME_MAX);
}

/* Events in the ring buffer, counted by source address. */
struct drained {
	unsigned total;
	unsigned from[2];
	uint8_t addr[2][4];
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct drained *d = ctx;
	const struct cg_event *e = data;
	int i;

	if (size < sizeof(*e))
		return 0;
	d->total++;
	for (i = 0; i < 2; i++)
		if (e->family == 4 && !memcmp(e->src, d->addr[i], 4))
			d->from[i]++;
	return 0;
}

static int drain(struct cg_gate *g, struct drained *d)
{
	struct ring_buffer *rb;
	int err;

	rb = ring_buffer__new(cg_gate_map_fd(g, "events"), on_event, d, NULL);
	if (!rb)
		return -errno;
	err = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return err < 0 ? err : 0;
}

static bool within(const char *name, unsigned long long got,
		   unsigned long long lo, unsigned long long hi)
{
	if (got < lo || got > hi)
		printf("# %s: %llu, expected %llu..%llu\n", name, got, lo, hi);
	return ASSERT_TRUE(got >= lo && got <= hi, name);
}

/*
 * One source floods, then another sends a few: the second source's events
 * all arrive; the first stays within its bucket.
 */
static void test_per_source(void)
{
	const unsigned burst = 5, rate = 2, flood = 40, others = 4;
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_event_counter ec;
	struct drained d = {};
	uint8_t buf[CG_FRAME_MAX];
	char limits[256];
	double t0, secs;
	unsigned i, bad = 0;
	size_t len;
	struct cg_gate *g;

	snprintf(limits, sizeof(limits),
		 "limits:\n  source_events_per_second: %u\n"
		 "  source_events_burst: %u\n  events_burst: 1000\n",
		 rate, burst);
	g = load(limits, &p, &c);
	if (!g)
		goto out;
	inet_pton(AF_INET, "198.18.10.7", d.addr[0]);
	inet_pton(AF_INET, "198.18.10.8", d.addr[1]);
	t0 = now_s();
	len = no_rule(buf, "198.18.10.7");
	for (i = 0; i < flood; i++)
		bad += run(g, "biz0", buf, len) != CG_R_NO_RULE;
	len = no_rule(buf, "198.18.10.8");
	for (i = 0; i < others; i++)
		bad += run(g, "biz0", buf, len) != CG_R_NO_RULE;
	secs = now_s() - t0;
	ASSERT_EQ(bad, 0, "per source: every frame is no-rule");
	if (!ASSERT_OK(drain(g, &d), "per source: ring buffer read"))
		goto out;
	within("per source: the flooding source's events stay within "
	       "burst + rate x time",
	       d.from[0], burst, burst + (unsigned)(rate * secs) + 1);
	ASSERT_EQ(d.from[1], others,
		  "per source: every event of the other source arrives");
	ASSERT_EQ(d.total, d.from[0] + d.from[1],
		  "per source: no other events in the ring buffer");
	if (!ASSERT_OK(cg_gate_event_count(g, CG_R_NO_RULE, &ec),
		       "per source: event counters read"))
		goto out;
	ASSERT_EQ(ec.emitted, d.total, "per source: emitted = events read");
	ASSERT_EQ(ec.emitted + ec.lost + ec.suppressed, flood + others,
		  "per source: emitted + lost + suppressed = frames");
	ASSERT_EQ(ec.suppressed_source, ec.suppressed,
		  "per source: all suppressed by the source limit");
	ASSERT_EQ(ec.suppressed, flood - d.from[0],
		  "per source: the flooder's other events are suppressed");
out:
	unload(g, p, c);
}

/* Slots of the per-source sketch that any CPU has used (last != 0). */
static long long sketch_used(struct cg_gate *g)
{
	int fd = cg_gate_map_fd(g, "event_sketch"),
	    ncpu = libbpf_num_possible_cpus();
	struct bpf_map_info mi = {};
	__u32 mlen = sizeof(mi), k;
	struct cg_event_bucket *v;
	long long used = 0;
	int cpu;

	if (fd < 0 || ncpu <= 0 || bpf_obj_get_info_by_fd(fd, &mi, &mlen))
		return -1;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -1;
	/* The last element holds the seed, not a bucket. */
	for (k = 0; k + 1 < mi.max_entries; k++) {
		if (bpf_map_lookup_elem(fd, &k, v)) {
			used = -1;
			break;
		}
		for (cpu = 0; cpu < ncpu; cpu++)
			if (v[cpu].last) {
				used++;
				break;
			}
	}
	free(v);
	return used;
}

/*
 * Many sources, one frame each: the per-source limit lets each through;
 * the ceiling stops them at its burst. Once it has, new sources touch no
 * slot of the sketch: the ceiling is looked at first.
 */
static void test_ceiling(void)
{
	const unsigned burst = 20, rate = 2, n = 60;
	unsigned long long before;
	long long used;
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_event_counter ec;
	struct drained d = {};
	uint8_t buf[CG_FRAME_MAX];
	char limits[256], src[32];
	double t0, secs;
	unsigned i, bad = 0;
	size_t len;
	struct cg_gate *g;

	snprintf(limits, sizeof(limits),
		 "limits:\n  events_per_second: %u\n  events_burst: %u\n", rate,
		 burst);
	g = load(limits, &p, &c);
	if (!g)
		goto out;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "198.18.10.%u", 100 + i);
		len = no_rule(buf, src);
		bad += run(g, "biz0", buf, len) != CG_R_NO_RULE;
	}
	secs = now_s() - t0;
	ASSERT_EQ(bad, 0, "ceiling: every frame is no-rule");
	if (!ASSERT_OK(drain(g, &d), "ceiling: ring buffer read") ||
	    !ASSERT_OK(cg_gate_event_count(g, CG_R_NO_RULE, &ec),
		       "ceiling: event counters read"))
		goto out;
	within("ceiling: 60 sources stop at the reason's burst + rate x time",
	       d.total, burst, burst + (unsigned)(rate * secs) + 1);
	ASSERT_EQ(ec.emitted + ec.lost + ec.suppressed, n,
		  "ceiling: emitted + lost + suppressed = frames");
	ASSERT_EQ(ec.suppressed_source, 0,
		  "ceiling: no source was over its own limit");
	used = sketch_used(g);
	before = ec.suppressed;
	for (i = 0; i < 40; i++) {
		snprintf(src, sizeof(src), "198.18.10.%u", 170 + i);
		len = no_rule(buf, src);
		run(g, "biz0", buf, len);
	}
	if (!ASSERT_OK(cg_gate_event_count(g, CG_R_NO_RULE, &ec),
		       "ceiling: event counters read again"))
		goto out;
	/* At 2 events a second, the ceiling gains no token in these
	 * microseconds; allow one. */
	ASSERT_TRUE(ec.suppressed - before >= 39,
		    "ceiling spent: 40 new sources' events suppressed");
	ASSERT_TRUE(used > 0 && sketch_used(g) - used <= 2,
		    "ceiling spent: their sources' sketch slots untouched");
out:
	unload(g, p, c);
}

/*
 * Entries in every map of the program that can grow (hash, LRU hash, LPM
 * trie): their sum, or -1. Arrays, ring buffers and program arrays have a
 * fixed size.
 */
static long long map_entries(struct cg_gate *g)
{
	struct bpf_prog_info pi = {};
	__u32 ids[64], len = sizeof(pi), i;
	long long total = 0;

	pi.nr_map_ids = 64;
	pi.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(cg_gate_prog_fd(g), &pi, &len) ||
	    pi.nr_map_ids > 64)
		return -1;
	for (i = 0; i < pi.nr_map_ids; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		char key[256], next[256];
		void *prev = NULL;
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			return -1;
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen) ||
		    mi.key_size > sizeof(key)) {
			close(fd);
			return -1;
		}
		if (mi.type == BPF_MAP_TYPE_HASH ||
		    mi.type == BPF_MAP_TYPE_LRU_HASH ||
		    mi.type == BPF_MAP_TYPE_PERCPU_HASH ||
		    mi.type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
		    mi.type == BPF_MAP_TYPE_LPM_TRIE) {
			while (!bpf_map_get_next_key(fd, prev, next)) {
				memcpy(key, next, mi.key_size);
				prev = key;
				total++;
			}
		}
		close(fd);
	}
	return total;
}

/*
 * A spoofed flood: 10,000 frames from random sources outside every zone
 * (spoofed-source drops), limits raised so that the ceiling stays out of
 * the way. No map of the program gains an entry; each source gets its
 * event (its slots in the sketch are shared by about one other source,
 * far from empty); then one source among them floods and still stays
 * within burst + rate x time, and gets close to its full burst.
 */
static void test_random_sources(void)
{
	const unsigned n = 10000, burst = 20, rate = 2, flood = 100;
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_event_counter ec;
	struct cg_frame_spec s;
	struct drained d = {};
	uint8_t buf[CG_FRAME_MAX];
	char limits[256], src[32];
	unsigned i, bad = 0, events = 0;
	long long before, after;
	double t0, secs;
	size_t len;
	struct cg_gate *g;

	snprintf(limits, sizeof(limits),
		 "limits:\n  source_events_per_second: %u\n"
		 "  source_events_burst: %u\n  events_per_second: 1000000\n"
		 "  events_burst: 1000000\n",
		 rate, burst);
	g = load(limits, &p, &c);
	if (!g)
		goto out;
	srandom(time(NULL));
	/* One frame first: whatever the station itself may leave behind
	 * (its MAC) is there before the count. */
	cg_frame_udp(&s, "10.1.2.3", "198.18.20.11", 5000, 9);
	len = cg_frame_build(&s, buf, sizeof(buf));
	bad += run(g, "biz0", buf, len) != CG_R_SPOOFED_SOURCE;
	before = map_entries(g);
	ASSERT_TRUE(before >= 0, "random sources: map entries counted");
	for (i = 0; i < n; i++) {
		unsigned r = random();

		snprintf(src, sizeof(src), "10.%u.%u.%u", (r >> 16) & 255,
			 (r >> 8) & 255, r & 255);
		cg_frame_udp(&s, src, "198.18.20.11", 1024 + (r >> 24), 9);
		len = cg_frame_build(&s, buf, sizeof(buf));
		bad += run(g, "biz0", buf, len) != CG_R_SPOOFED_SOURCE;
		/* The ring buffer holds about 4,500 events. */
		if (i % 1000 == 999 && drain(g, &d))
			bad++;
	}
	after = map_entries(g);
	ASSERT_EQ(bad, 0, "random sources: every frame is spoofed-source");
	if (after != before)
		printf("# map entries: %lld before, %lld after\n", before,
		       after);
	ASSERT_TRUE(before >= 0 && after == before,
		    "random sources: 10,000 new sources insert nothing into "
		    "any map");
	if (!ASSERT_OK(drain(g, &d), "random sources: ring buffer read") ||
	    !ASSERT_OK(cg_gate_event_count(g, CG_R_SPOOFED_SOURCE, &ec),
		       "random sources: event counters read"))
		goto out;
	ASSERT_EQ(ec.suppressed_source, 0,
		  "random sources: no source held back by another's use of "
		  "its slots");
	ASSERT_EQ(ec.emitted, n + 1,
		  "random sources: each source's event emitted");
	events = d.total;

	/* Now one of them floods. */
	inet_pton(AF_INET, "10.200.0.1", d.addr[0]);
	d.from[0] = 0;
	cg_frame_udp(&s, "10.200.0.1", "198.18.20.11", 5000, 9);
	len = cg_frame_build(&s, buf, sizeof(buf));
	t0 = now_s();
	for (i = 0; i < flood; i++)
		bad += run(g, "biz0", buf, len) != CG_R_SPOOFED_SOURCE;
	secs = now_s() - t0;
	ASSERT_EQ(bad, 0, "random sources: the flood is spoofed-source");
	if (!ASSERT_OK(drain(g, &d), "random sources: ring buffer read again"))
		goto out;
	ASSERT_EQ(events, n + 1, "random sources: every event read");
	/* At most burst + rate x time: sharing never gives more. At least
	 * burst - 10: each of its two slots was used by ~1.2 random sources
	 * on average; 10 on both is far beyond chance. */
	within("random sources: a flooding source stays within burst + "
	       "rate x time, and gets most of its burst",
	       d.from[0], burst - 10, burst + (unsigned)(rate * secs) + 1);
	after = map_entries(g);
	ASSERT_TRUE(after == before,
		    "random sources: ... and still nothing was inserted");
out:
	unload(g, p, c);
}

/* Non-IP frames: the source is the MAC address. */
static void test_mac_source(void)
{
	static const uint8_t payload[46] = {0x42};
	const unsigned burst = 3, flood = 10;
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_event_counter ec;
	struct cg_frame_spec s = {};
	uint8_t buf[CG_FRAME_MAX];
	char limits[128];
	unsigned i, bad = 0;
	size_t len;
	struct cg_gate *g;

	snprintf(limits, sizeof(limits),
		 "limits:\n  source_events_per_second: 1\n"
		 "  source_events_burst: %u\n",
		 burst);
	g = load(limits, &p, &c);
	if (!g)
		goto out;
	s.kind = CG_FRAME_RAW;
	s.ethertype = 0x88b5;
	s.payload = payload;
	s.payload_len = sizeof(payload);
	memcpy(s.dst_mac, "\x02\x00\x00\x00\x00\x01", 6);
	for (i = 0; i < 2 * flood; i++) {
		/* Two stations, one after the other. */
		memcpy(s.src_mac,
		       i < flood ? "\x02\x00\x00\x00\x0a\x01"
				 : "\x02\x00\x00\x00\x0a\x02",
		       6);
		len = cg_frame_build(&s, buf, sizeof(buf));
		/* run() would overwrite the source MAC. */
		{
			struct cg_event ev;
			int action;

			if (cg_gate_test_run(g, if_nametoindex("biz0"), buf,
					     len, &ev, &action) ||
			    ev.reason != CG_R_ETHERTYPE)
				bad++;
		}
	}
	ASSERT_EQ(bad, 0, "mac source: every frame is ethertype");
	if (!ASSERT_OK(cg_gate_event_count(g, CG_R_ETHERTYPE, &ec),
		       "mac source: event counters read"))
		goto out;
	/* Well under a second: no refill at 1 event/s beyond one token. */
	within("mac source: each station gets its own burst", ec.emitted,
	       2 * burst, 2 * burst + 2);
	ASSERT_EQ(ec.emitted + ec.suppressed_source, 2 * flood,
		  "mac source: the rest is suppressed by the source limit");
out:
	unload(g, p, c);
}

/* events_per_second: 0 sends nothing, and still accounts for every frame. */
static void test_events_off(void)
{
	const unsigned n = 25;
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_event_counter ec;
	struct drained d = {};
	uint8_t buf[CG_FRAME_MAX];
	unsigned i;
	size_t len;
	struct cg_gate *g;

	g = load("limits: {events_per_second: 0}\n", &p, &c);
	if (!g)
		goto out;
	len = no_rule(buf, "198.18.10.9");
	for (i = 0; i < n; i++)
		run(g, "biz0", buf, len);
	if (!ASSERT_OK(drain(g, &d), "events off: ring buffer read") ||
	    !ASSERT_OK(cg_gate_event_count(g, CG_R_NO_RULE, &ec),
		       "events off: event counters read"))
		goto out;
	ASSERT_EQ(d.total, 0, "events off: nothing in the ring buffer");
	ASSERT_EQ(ec.suppressed, n,
		  "events off: every event counted suppressed");
	ASSERT_EQ(ec.emitted + ec.lost + ec.suppressed_source, 0,
		  "events off: nothing emitted, lost or held by source");
out:
	unload(g, p, c);
}

/* Frames per (interface, reason), added up against what was sent. */
static void test_iface_counters(void)
{
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_iface_count ic;
	struct cg_counter rc;
	struct cg_frame_spec s;
	uint8_t buf[CG_FRAME_MAX];
	unsigned long long sent[2][CG_R_MAX] = {}, bytes[2][CG_R_MAX] = {};
	const char *ifs[2] = {"biz0", "crane0"};
	unsigned i, r, k, bad;
	char what[128];
	size_t len;
	struct cg_gate *g;
	int got;

	g = load("", &p, &c);
	if (!g)
		goto out;
	/* A mix per interface: allowed, no-rule, spoofed, reply, unknown. */
	for (i = 0; i < 37; i++) {
		k = i % 5;
		switch (k) {
		case 0:
			cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11",
				     41000 + i, 502, CG_TCP_SYN);
			break;
		case 1:
			cg_frame_tcp(&s, "198.18.10.6", "198.18.20.11",
				     41000 + i, 22, CG_TCP_SYN);
			break;
		case 2:
			cg_frame_udp(&s, "198.19.1.1", "198.18.20.11", 5, 9);
			break;
		case 3:
			cg_frame_tcp(&s, "198.18.20.11", "198.18.10.5", 502,
				     41000 + i - 3, CG_TCP_SYN | CG_TCP_ACK);
			break;
		default:
			cg_frame_udp(&s, "198.18.20.11", "198.18.10.5", 5, 9);
			break;
		}
		s.pad_to = 60 + i;
		len = cg_frame_build(&s, buf, sizeof(buf));
		got = run(g, ifs[k >= 3], buf, len);
		if (got < 0 || got >= CG_R_MAX)
			continue;
		sent[k >= 3][got]++;
		bytes[k >= 3][got] += len;
	}
	/* And a frame on an interface the policy does not name. */
	len = no_rule(buf, "198.18.10.6");
	run(g, "other0", buf, len);

	for (k = 0; k < 2; k++) {
		unsigned ifi = if_nametoindex(ifs[k]);

		bad = 0;
		for (r = 0; r < CG_R_MAX; r++) {
			if (cg_gate_iface_count(g, ifi, r, &ic) ||
			    ic.packets != sent[k][r] ||
			    ic.bytes != bytes[k][r]) {
				printf("# %s %s: %llu packets %llu bytes, sent "
				       "%llu, %llu\n",
				       ifs[k], cg_reason_names[r], ic.packets,
				       ic.bytes, sent[k][r], bytes[k][r]);
				bad++;
			}
		}
		snprintf(what, sizeof(what),
			 "iface: %s's counters = frames and bytes sent there, "
			 "per reason",
			 ifs[k]);
		ASSERT_EQ(bad, 0, what);
	}
	ASSERT_TRUE(sent[0][CG_R_ALLOWED] && sent[0][CG_R_NO_RULE] &&
			    sent[0][CG_R_SPOOFED_SOURCE] &&
			    sent[1][CG_R_REPLY] && sent[1][CG_R_NO_RULE],
		    "iface: the mix covers five (interface, reason) pairs");
	ASSERT_EQ(cg_gate_iface_count(g, if_nametoindex("other0"), CG_R_NO_RULE,
				      &ic),
		  -ENOENT, "iface: an interface outside the policy has none");
	cg_gate_reason_count(g, CG_R_UNKNOWN_ZONE, &rc);
	ASSERT_EQ(rc.packets,
		  sent[0][CG_R_UNKNOWN_ZONE] + sent[1][CG_R_UNKNOWN_ZONE] + 1,
		  "iface: ... while its frame is still counted per reason");
out:
	unload(g, p, c);
}

int main(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &set);
	if (!ASSERT_OK(sched_setaffinity(0, sizeof(set), &set),
		       "pinned to one CPU (the ceiling is per CPU)"))
		return cg_test_done();
	if (!ASSERT_OK(cg_sandbox_enter(ifnames, 3), "private namespace"))
		return cg_test_done();
	test_per_source();
	test_ceiling();
	test_random_sources();
	test_mac_source();
	test_events_off();
	test_iface_counters();
	return cg_test_done();
}
