// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow evaluation through the real programs: a live instance and a
 * shadow instance share state maps under a private pin root, wired up
 * with `progs` and `live` as apply --shadow does. Frames go through the
 * live program (BPF_PROG_TEST_RUN follows the tail calls); the verdicts
 * must stay the live ones, the shadow must count every pair of decisions
 * exactly, log the disagreements, and write no state of its own.
 */
#include <errno.h>
#include <limits.h>
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
#include "loader.h"

CG_TEST_GLOBALS;

#define ZONES                                                                  \
	"zones:\n"                                                             \
	"  business: {interfaces: [biz0], networks: [198.18.10.0/24]}\n"       \
	"  control: {interfaces: [crane0], networks: [198.18.20.0/24]}\n"

/* Live: UDP 5000 (flow 0) and Modbus (flow 1). */
static const char *live_text =
	"version: 1\nname: shadow-live\n" ZONES "flows:\n"
	"  - {name: x-udp, from: business, to: control, proto: udp, ports: "
	"[5000]}\n"
	"  - {name: modbus, from: business, to: control, proto: tcp, ports: "
	"[502]}\n";

/* Candidate: Modbus (flow 0) and UDP 6000 (flow 1) instead of 5000. */
static const char *cand_text =
	"version: 1\nname: shadow-candidate\n" ZONES "flows:\n"
	"  - {name: modbus, from: business, to: control, proto: tcp, ports: "
	"[502]}\n"
	"  - {name: y-udp, from: business, to: control, proto: udp, ports: "
	"[6000]}\n";

static char ifnames[2][CG_IFNAME_MAX] = {"biz0", "crane0"};

struct inst {
	struct cg_policy *p;
	struct cg_compiled *c;
	struct cg_gate *g;
};

struct pins {
	int progs, live, stats, flows, ev_stats, conns, macs, reasons, events;
};

static char pin_root[PATH_MAX / 2];

static bool load(struct inst *in, const char *text, unsigned slot)
{
	struct cg_diags d = {.file = "test.yaml"};
	struct cg_gate_opts o = {
		.pin_root = pin_root, .record = true, .slot = slot};
	int err;

	err = cg_policy_parse("test.yaml", text, strlen(text), &in->p, &d);
	if (!err)
		err = cg_compile(in->p, &in->c, &d);
	cg_diags_print(&d, stdout);
	cg_diags_free(&d);
	if (!ASSERT_OK(err, "policy parses and compiles"))
		return false;
	return ASSERT_OK(cg_gate_load(in->c, &o, &in->g),
			 slot == CG_SLOT_SHADOW ? "shadow instance loads"
						: "live instance loads");
}

static void unload(struct inst *in)
{
	cg_gate_free(in->g);
	cg_compiled_free(in->c);
	cg_policy_free(in->p);
}

static int pin_fd(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_root, name);
	return bpf_obj_get(path);
}

static unsigned entries(int fd)
{
	char key[128], prev[128];
	void *kp = NULL;
	unsigned n = 0;

	while (!bpf_map_get_next_key(fd, kp, key)) {
		memcpy(prev, key, sizeof(prev));
		kp = prev;
		n++;
	}
	return n;
}

static unsigned long long percpu_packets(int fd, const void *key)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct cg_counter *v = calloc(ncpu, sizeof(*v));
	unsigned long long sum = 0;

	if (v && !bpf_map_lookup_elem(fd, key, v))
		for (i = 0; i < ncpu; i++)
			sum += v[i].packets;
	free(v);
	return sum;
}

static unsigned long long pair(const struct pins *pn, unsigned live,
			       unsigned shadow)
{
	uint32_t k = live * CG_R_MAX + shadow;

	return percpu_packets(pn->stats, &k);
}

static unsigned long long pairs_total(const struct pins *pn)
{
	unsigned long long n = 0;
	uint32_t k;

	for (k = 0; k < CG_SHADOW_PAIRS; k++)
		n += percpu_packets(pn->stats, &k);
	return n;
}

static unsigned long long reason_count(const struct pins *pn, uint32_t r)
{
	return percpu_packets(pn->reasons, &r);
}

static int set_live(const struct pins *pn, unsigned slot, unsigned shadow)
{
	struct cg_live l = {.slot = slot, .shadow = shadow};
	uint32_t zero = 0;

	return bpf_map_update_elem(pn->live, &zero, &l, BPF_ANY) ? -errno : 0;
}

static int set_slot(const struct pins *pn, uint32_t slot, struct inst *in)
{
	int fd;

	if (!in)
		return bpf_map_delete_elem(pn->progs, &slot) ? -errno : 0;
	fd = cg_gate_prog_fd(in->g);
	return bpf_map_update_elem(pn->progs, &slot, &fd, BPF_ANY) ? -errno : 0;
}

/* Run a frame through `in`; the XDP action. */
static int run(struct inst *in, const char *ifname, uint8_t *buf, size_t len)
{
	struct cg_event ev;
	int action = -1;

	cg_frame_station_mac(buf, len);
	if (cg_gate_test_run(in->g, if_nametoindex(ifname), buf, len, &ev,
			     &action))
		return -1;
	return action;
}

static size_t udp(uint8_t *buf, const char *src, const char *dst,
		  uint16_t sport, uint16_t dport)
{
	struct cg_frame_spec s;

	cg_frame_udp(&s, src, dst, sport, dport);
	return cg_frame_build(&s, buf, CG_FRAME_MAX);
}

/* Events in the ring buffer, split into shadow and live ones. */
struct ev_seen {
	unsigned shadow, live;
	struct cg_event first_shadow;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct ev_seen *s = ctx;
	const struct cg_event *e = data;

	if (size < sizeof(*e))
		return 0;
	if (e->flags & CG_EV_SHADOW) {
		if (!s->shadow++)
			s->first_shadow = *e;
	} else {
		s->live++;
	}
	return 0;
}

static void drain(const struct pins *pn, struct ev_seen *s)
{
	struct ring_buffer *rb =
		ring_buffer__new(pn->events, on_event, s, NULL);

	if (!ASSERT_TRUE(rb != NULL, "open the event ring buffer"))
		return;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
}

static void test_shadow(struct inst *la, struct inst *lb, struct inst *sh,
			struct pins *pn)
{
	uint8_t buf[CG_FRAME_MAX];
	struct cg_frame_spec s;
	struct cg_event ev;
	struct cg_shadow_key k = {};
	struct ev_seen seen = {};
	unsigned conns, macs, i;
	uint32_t zero = 0;
	size_t len;
	int a;

	if (!ASSERT_OK(set_slot(pn, CG_SLOT_A, la), "live program in slot A") ||
	    !ASSERT_OK(set_live(pn, CG_SLOT_A, 0), "slot A enforces"))
		return;

	/* No shadow configured: nothing is compared. */
	len = udp(buf, "198.18.10.5", "198.18.20.11", 40000, 5000);
	ASSERT_EQ(run(la, "biz0", buf, len), XDP_PASS,
		  "no shadow: udp 5000 passes");
	ASSERT_EQ(pairs_total(pn), 0, "no shadow: nothing compared");

	/* apply --shadow: the slot, then the switch. */
	if (!ASSERT_OK(set_slot(pn, CG_SLOT_SHADOW, sh),
		       "shadow in its slot") ||
	    !ASSERT_OK(set_live(pn, CG_SLOT_A, 1), "shadow switched on"))
		return;

	for (i = 0; i < 3; i++) {
		len = udp(buf, "198.18.10.5", "198.18.20.11", 40000, 5000);
		a = run(la, "biz0", buf, len);
		ASSERT_EQ(a, XDP_PASS,
			  "udp 5000: the live verdict (pass) stands");
	}
	cg_gate_test_run(la->g, if_nametoindex("biz0"), buf, len, &ev, &a);
	ASSERT_EQ(ev.reason, CG_R_ALLOWED, "udp 5000: live reason allowed");
	cg_gate_last_event(sh->g, &ev);
	ASSERT_EQ(ev.reason, CG_R_NO_RULE, "udp 5000: shadow judged no-rule");
	ASSERT_EQ(ev.flow, CG_FLOW_NONE, "udp 5000: no shadow flow");

	conns = entries(pn->conns);
	for (i = 0; i < 2; i++) {
		len = udp(buf, "198.18.10.5", "198.18.20.11", 40001, 6000);
		ASSERT_EQ(run(la, "biz0", buf, len), XDP_DROP,
			  "udp 6000: the live verdict (drop) stands");
	}
	cg_gate_last_event(sh->g, &ev);
	ASSERT_EQ(ev.reason, CG_R_ALLOWED, "udp 6000: shadow judged allowed");
	ASSERT_EQ(ev.flow, 1, "udp 6000: by the candidate's y-udp");
	ASSERT_EQ(entries(pn->conns), conns,
		  "udp 6000: the shadow's allow opened no connection");

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 40002, 502, CG_TCP_SYN);
	len = cg_frame_build(&s, buf, sizeof(buf));
	ASSERT_EQ(run(la, "biz0", buf, len), XDP_PASS, "modbus SYN passes");

	len = udp(buf, "198.18.99.1", "198.18.20.11", 40003, 5000);
	ASSERT_EQ(run(la, "biz0", buf, len), XDP_DROP, "spoofed source drops");

	len = udp(buf, "198.18.20.11", "198.18.10.5", 5000, 40000);
	ASSERT_EQ(run(la, "crane0", buf, len), XDP_PASS,
		  "reply to udp 5000 passes");
	cg_gate_last_event(sh->g, &ev);
	ASSERT_EQ(ev.reason, CG_R_REPLY,
		  "the shadow reads the live connection table (reply)");

	/* What the shadow counted: exactly one pair per frame. */
	ASSERT_EQ(pair(pn, CG_R_ALLOWED, CG_R_NO_RULE), 4,
		  "allowed -> no-rule: 4 (3 + the one read back)");
	ASSERT_EQ(pair(pn, CG_R_NO_RULE, CG_R_ALLOWED), 2,
		  "no-rule -> allowed: 2");
	ASSERT_EQ(pair(pn, CG_R_ALLOWED, CG_R_ALLOWED), 1,
		  "allowed -> allowed: 1");
	ASSERT_EQ(pair(pn, CG_R_SPOOFED_SOURCE, CG_R_SPOOFED_SOURCE), 1,
		  "spoofed -> spoofed: 1");
	ASSERT_EQ(pair(pn, CG_R_REPLY, CG_R_REPLY), 1, "reply -> reply: 1");
	ASSERT_EQ(pairs_total(pn), 9, "9 frames compared");

	k.live_flow = 0;
	k.shadow_flow = CG_FLOW_NONE;
	k.live_reason = CG_R_ALLOWED;
	k.shadow_reason = CG_R_NO_RULE;
	ASSERT_EQ(percpu_packets(pn->flows, &k), 4,
		  "by flow: x-udp -> none, 4 disagreements");
	k.live_flow = CG_FLOW_NONE;
	k.shadow_flow = 1;
	k.live_reason = CG_R_NO_RULE;
	k.shadow_reason = CG_R_ALLOWED;
	ASSERT_EQ(percpu_packets(pn->flows, &k), 2,
		  "by flow: none -> y-udp, 2 disagreements");
	ASSERT_EQ(entries(pn->flows), 2, "by flow: only disagreements");
	{
		int ncpu = libbpf_num_possible_cpus(), c;
		struct cg_event_counter *ec = calloc(ncpu, sizeof(*ec));
		unsigned long long emitted = 0;

		if (ec && !bpf_map_lookup_elem(pn->ev_stats, &zero, ec))
			for (c = 0; c < ncpu; c++)
				emitted += ec[c].emitted;
		free(ec);
		ASSERT_EQ(emitted, 6, "6 disagreement events emitted");
	}

	/* The shadow counted nothing of its own. */
	ASSERT_EQ(reason_count(pn, CG_R_ALLOWED), 6,
		  "reason counter allowed: live frames only");
	ASSERT_EQ(reason_count(pn, CG_R_NO_RULE), 2,
		  "reason counter no-rule: live frames only");
	ASSERT_EQ(reason_count(pn, CG_R_SPOOFED_SOURCE), 1,
		  "reason counter spoofed-source: live frames only");

	drain(pn, &seen);
	ASSERT_EQ(seen.shadow, 6, "6 shadow events in the ring buffer");
	ASSERT_EQ(seen.live, 3, "3 live drop events (2 udp 6000, 1 spoofed)");
	ASSERT_EQ(seen.first_shadow.reason, CG_R_ALLOWED,
		  "shadow event: live reason");
	ASSERT_EQ(seen.first_shadow.verdict, CG_V_PASS,
		  "shadow event: live verdict");
	ASSERT_EQ(seen.first_shadow.flow, 0, "shadow event: live flow");
	ASSERT_EQ(seen.first_shadow.shadow_reason, CG_R_NO_RULE,
		  "shadow event: shadow reason");
	ASSERT_EQ(seen.first_shadow.shadow_verdict, CG_V_DROP,
		  "shadow event: shadow verdict");
	ASSERT_EQ(seen.first_shadow.shadow_flow, CG_FLOW_NONE,
		  "shadow event: shadow flow");
	ASSERT_TRUE(seen.first_shadow.policy_id == la->c->policy_id,
		    "shadow event: the live policy id");
	ASSERT_TRUE(seen.first_shadow.shadow_policy_id == sh->c->policy_id,
		    "shadow event: the candidate's policy id");

	/* Run on its own, a shadow judges but writes no state at all. */
	conns = entries(pn->conns);
	macs = entries(pn->macs);
	len = udp(buf, "198.18.10.77", "198.18.20.11", 40004, 6000);
	ASSERT_EQ(run(sh, "biz0", buf, len), XDP_PASS,
		  "shadow alone: its own verdict");
	ASSERT_EQ(entries(pn->conns), conns, "shadow alone: no connection");
	ASSERT_EQ(entries(pn->macs), macs, "shadow alone: no MAC learned");
	ASSERT_EQ(pairs_total(pn), 9, "shadow alone: nothing compared");
	ASSERT_EQ(reason_count(pn, CG_R_ALLOWED), 6,
		  "shadow alone: no reason counted");

	/*
	 * The hand-off chain: interfaces still carry A, B enforces and
	 * hands off to the shadow (two tail calls).
	 */
	if (ASSERT_OK(set_slot(pn, CG_SLOT_B, lb), "live program in slot B") &&
	    ASSERT_OK(set_live(pn, CG_SLOT_B, 1), "slot B enforces")) {
		len = udp(buf, "198.18.10.5", "198.18.20.11", 40001, 6000);
		ASSERT_EQ(run(la, "biz0", buf, len), XDP_DROP,
			  "A -> B -> shadow: B's verdict (drop)");
		cg_gate_last_event(lb->g, &ev);
		ASSERT_EQ(ev.reason, CG_R_NO_RULE, "A -> B: B judged no-rule");
		ASSERT_EQ(pair(pn, CG_R_NO_RULE, CG_R_ALLOWED), 3,
			  "A -> B -> shadow: compared");
	}

	/* An empty shadow slot: the tail call returns, the verdict stands. */
	if (ASSERT_OK(set_slot(pn, CG_SLOT_SHADOW, NULL),
		      "shadow slot emptied")) {
		len = udp(buf, "198.18.10.5", "198.18.20.11", 40001, 6000);
		ASSERT_EQ(run(la, "biz0", buf, len), XDP_DROP,
			  "empty slot: live verdict");
		len = udp(buf, "198.18.10.5", "198.18.20.11", 40000, 5000);
		ASSERT_EQ(run(la, "biz0", buf, len), XDP_PASS,
			  "empty slot: live verdict (pass)");
		ASSERT_EQ(pairs_total(pn), 10, "empty slot: nothing compared");
	}
}

int main(void)
{
	struct inst la = {}, lb = {}, sh = {};
	struct pins pn;
	struct cg_env env = {};
	int lock = -1, *fds = (int *)&pn;
	size_t i;

	memset(&pn, -1, sizeof(pn));
	if (!ASSERT_OK(cg_sandbox_enter(ifnames, 2), "private namespace"))
		return cg_test_done();
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/cgt_shadow_%d",
		 (int)getpid());
	env.pin_root = pin_root;
	if (!ASSERT_OK(cg_lock(&env, &lock), "private pin root"))
		return cg_test_done();
	if (!load(&la, live_text, CG_SLOT_A) ||
	    !load(&lb, live_text, CG_SLOT_B) ||
	    !load(&sh, cand_text, CG_SLOT_SHADOW))
		goto out;
	pn.progs = pin_fd("progs");
	pn.live = pin_fd("live");
	pn.stats = pin_fd("shadow_stats");
	pn.flows = pin_fd("shadow_flows");
	pn.ev_stats = pin_fd("shadow_event_stats");
	pn.conns = pin_fd("conns4"); /* the frames here are IPv4 */
	pn.macs = pin_fd("macs");
	pn.reasons = pin_fd("reason_stats");
	pn.events = pin_fd("events");
	for (i = 0; i < sizeof(pn) / sizeof(int); i++)
		if (!ASSERT_TRUE(fds[i] >= 0, "shared map pinned"))
			goto out;
	test_shadow(&la, &lb, &sh, &pn);
out:
	for (i = 0; i < sizeof(pn) / sizeof(int); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	unload(&la);
	unload(&lb);
	unload(&sh);
	for (i = 0; i < cg_n_state_maps; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", pin_root,
			 cg_state_maps[i]);
		unlink(path);
	}
	rmdir(pin_root);
	cg_unlock(lock);
	return cg_test_done();
}
