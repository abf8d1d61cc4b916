// SPDX-License-Identifier: GPL-2.0
/*
 * A reload that narrows a flow's window cuts its open connections (issue
 * 19.5), through the real program: instances of several policies share
 * the state maps under a private pin root, as successive applies do.
 * Connections are opened under a permanent flow, then cg_conns_narrow()
 * (what apply runs after the commit) re-judges them under each new
 * policy, and frames of the responder alone (a UDP stream, TCP and ICMP
 * replies) show whether the connection still stands. Without the walk a
 * policy whose window has ended still lets the responder's frames pass
 * as replies: the test checks that first.
 */
#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "frames.h"
#include "gate.h"
#include "harness.h"
#include "loader.h"
#include "narrow.h"

CG_TEST_GLOBALS;

static char lbuf[256];
#define L(...) (snprintf(lbuf, sizeof(lbuf), __VA_ARGS__), lbuf)

#define HMI "198.18.10.5"
#define PLC "198.18.20.10"
#define HMI6 "2001:2:0:10::5"
#define PLC6 "2001:2:0:20::10"

static char ifnames[2][CG_IFNAME_MAX] = {"biz0", "crane0"};
static char pin_root[PATH_MAX / 2];

struct inst {
	struct cg_policy *p;
	struct cg_compiled *c;
	struct cg_gate *g;
};

/*
 * The flows of every policy but `gone`, in this order, each with `valid`
 * (empty: permanent): ssh (TCP 22), a UDP stream (5004), ICMP echo, and
 * the UDP stream over IPv6.
 */
static char *policy_text(const char *name, const char *valid)
{
	char *t = NULL;

	if (asprintf(&t,
		     "version: 1\nname: %s\nzones:\n"
		     "  business: {interfaces: [biz0], networks: "
		     "[198.18.10.0/24, 2001:2:0:10::/64]}\n"
		     "  control: {interfaces: [crane0], networks: "
		     "[198.18.20.0/24, 2001:2:0:20::/64]}\n"
		     "flows:\n"
		     "  - {name: ssh, from: business, to: control, proto: "
		     "tcp, ports: [22]%s}\n"
		     "  - {name: stream, from: business, to: control, proto: "
		     "udp, ports: [5004]%s}\n"
		     "  - {name: ping, from: business, to: control, proto: "
		     "icmp%s}\n"
		     "  - {name: stream6, from: business, to: control, proto: "
		     "udp, ports: [5006]%s}\n",
		     name, valid, valid, valid, valid) < 0)
		return NULL;
	return t;
}

static bool load(struct inst *in, char *text)
{
	struct cg_diags d = {.file = "test.yaml"};
	struct cg_gate_opts o = {.pin_root = pin_root, .record = true};
	int err = -ENOMEM;

	if (text) {
		err = cg_policy_parse("test.yaml", text, strlen(text), &in->p,
				      &d);
		if (!err)
			err = cg_compile(in->p, &in->c, &d);
	}
	cg_diags_free(&d);
	free(text);
	if (!ASSERT_OK(err, "policy parses and compiles"))
		return false;
	return ASSERT_OK(cg_gate_load(in->c, &o, &in->g), "instance loads");
}

static void unload(struct inst *in)
{
	cg_gate_free(in->g);
	cg_compiled_free(in->c);
	cg_policy_free(in->p);
}

/* A frame through `in` on `ifname`; its reason, or -1. */
static int run(struct inst *in, const char *ifname, struct cg_frame_spec *s)
{
	uint8_t buf[CG_FRAME_MAX];
	struct cg_event ev;
	size_t len = cg_frame_build(s, buf, sizeof(buf));
	int action = -1;

	if (!len)
		return -1;
	cg_frame_station_mac(buf, len);
	if (cg_gate_test_run(in->g, if_nametoindex(ifname), buf, len, &ev,
			     &action))
		return -1;
	return ev.reason;
}

static int tcp(struct inst *in, const char *ifname, const char *src,
	       const char *dst, uint16_t sport, uint16_t dport, uint8_t flags)
{
	struct cg_frame_spec s;

	cg_frame_tcp(&s, src, dst, sport, dport, flags);
	return run(in, ifname, &s);
}

static int udp(struct inst *in, const char *ifname, const char *src,
	       const char *dst, uint16_t sport, uint16_t dport)
{
	struct cg_frame_spec s;

	cg_frame_udp(&s, src, dst, sport, dport);
	return run(in, ifname, &s);
}

static int icmp(struct inst *in, const char *ifname, const char *src,
		const char *dst, uint8_t type)
{
	struct cg_frame_spec s;

	cg_frame_icmp(&s, src, dst, type, 0, 777);
	return run(in, ifname, &s);
}

/* The connection tables: conns (IPv6) and conns4 (IPv4). */
static int conns6 = -1, conns4 = -1;

/* The `until` of the one connection of (family, proto); -1 if none. */
static long long conn_until(uint8_t family, uint8_t proto)
{
	struct cg_conn_key k, prev;
	struct cg_conn4_key k4, prev4;
	struct cg_conn_val v;
	bool first = true;
	long long u = -1;

	if (family == 4) {
		while (!bpf_map_get_next_key(conns4, first ? NULL : &prev4,
					     &k4)) {
			first = false;
			prev4 = k4;
			if (k4.proto == proto &&
			    !bpf_map_lookup_elem(conns4, &k4, &v))
				u = (long long)v.until;
		}
		return u;
	}
	while (!bpf_map_get_next_key(conns6, first ? NULL : &prev, &k)) {
		first = false;
		prev = k;
		if (k.family == family && k.proto == proto &&
		    !bpf_map_lookup_elem(conns6, &k, &v))
			u = (long long)v.until;
	}
	return u;
}

/* RFC 3339 UTC for now + `off` seconds. */
static void when(long off, char *buf, size_t len)
{
	time_t t = time(NULL) + off;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The four responder frames (the PLC's side only); how many passed. */
static int responder_passes(struct inst *in)
{
	int n = 0;

	n += tcp(in, "crane0", PLC, HMI, 22, 40000, CG_TCP_ACK) == CG_R_REPLY;
	n += udp(in, "crane0", PLC, HMI, 5004, 40001) == CG_R_REPLY;
	n += icmp(in, "crane0", PLC, HMI, 0) == CG_R_REPLY;
	n += udp(in, "crane0", PLC6, HMI6, 5006, 40002) == CG_R_REPLY;
	return n;
}

static void test_narrow(void)
{
	struct inst perm = {}, soon = {}, later = {}, ended = {}, gone = {};
	struct cg_narrow_stats st;
	char t1[32], t2[32], t_1[32], t_2[32], v[512];
	static const struct {
		uint8_t family, proto;
		const char *what;
	} cs[] = {{4, 6, "tcp"}, {4, 17, "udp"}, {4, 1, "icmp"}, {6, 17, "udp6"}};
	size_t i;

	when(3600, t1, sizeof(t1));
	when(7200, t2, sizeof(t2));
	when(-3600, t_1, sizeof(t_1));
	when(-7200, t_2, sizeof(t_2));
	if (!load(&perm, policy_text("perm", "")))
		goto out;
	snprintf(v, sizeof(v), ", valid: {until: %s}", t1);
	if (!load(&soon, policy_text("soon", v)))
		goto out;
	snprintf(v, sizeof(v), ", valid: {until: %s}", t2);
	if (!load(&later, policy_text("later", v)))
		goto out;
	snprintf(v, sizeof(v), ", valid: {from: %s, until: %s}", t_2, t_1);
	if (!load(&ended, policy_text("ended", v)))
		goto out;
	/* Nothing of the four; one time-boxed flow, so the walk runs. */
	snprintf(v, sizeof(v),
		 "version: 1\nname: gone\nzones:\n"
		 "  business: {interfaces: [biz0], networks: [198.18.10.0/24]}\n"
		 "  control: {interfaces: [crane0], networks: [198.18.20.0/24]}\n"
		 "flows:\n  - {name: web, from: business, to: control, proto: "
		 "tcp, ports: [80], valid: {until: %s}}\n",
		 t1);
	if (!load(&gone, strdup(v)))
		goto out;

	/* Four connections under the permanent flows, the HMI opening. */
	ASSERT_EQ(tcp(&perm, "biz0", HMI, PLC, 40000, 22, CG_TCP_SYN),
		  CG_R_ALLOWED, "perm: SYN to 22 allowed");
	ASSERT_EQ(udp(&perm, "biz0", HMI, PLC, 40001, 5004), CG_R_ALLOWED,
		  "perm: UDP to 5004 allowed");
	ASSERT_EQ(icmp(&perm, "biz0", HMI, PLC, 8), CG_R_ALLOWED,
		  "perm: echo request allowed");
	ASSERT_EQ(udp(&perm, "biz0", HMI6, PLC6, 40002, 5006), CG_R_ALLOWED,
		  "perm: UDP over IPv6 to 5006 allowed");
	ASSERT_EQ(responder_passes(&perm), 4, "perm: the PLC's 4 replies pass");
	for (i = 0; i < 4; i++)
		ASSERT_EQ(conn_until(cs[i].family, cs[i].proto), 0,
			  L("perm: %s connection has no end", cs[i].what));

	/* The hole: without the walk, a policy whose window has ended
	 * still passes the responder's frames (only the opener's would be
	 * judged afresh). */
	ASSERT_EQ(responder_passes(&ended), 4,
		  "ended, no walk: the PLC's frames still pass (the hole)");

	/* A window that ends in an hour: every connection ends with it. */
	ASSERT_OK(cg_conns_narrow(conns6, conns4, soon.c, &st), "soon: walk");
	ASSERT_EQ(st.walked, 4, "soon: 4 connections walked");
	ASSERT_EQ(st.narrowed, 4, "soon: 4 narrowed");
	ASSERT_EQ(st.cut, 0, "soon: none cut");
	for (i = 0; i < 4; i++)
		ASSERT_EQ(conn_until(cs[i].family, cs[i].proto),
			  (long long)soon.c->flow_info[i].valid_until,
			  L("soon: %s connection ends with the new window",
			    cs[i].what));
	ASSERT_EQ(responder_passes(&soon), 4, "soon: still in the window");

	/* A later end, no end, or no flow at all: nothing widens. */
	ASSERT_OK(cg_conns_narrow(conns6, conns4, later.c, &st), "later: walk");
	ASSERT_EQ(st.narrowed + st.cut, 0, "later: nothing changed");
	ASSERT_EQ(conn_until(4, 6),
		  (long long)soon.c->flow_info[0].valid_until,
		  "later: the earlier end stays (no stretching)");
	ASSERT_OK(cg_conns_narrow(conns6, conns4, perm.c, &st), "perm: walk");
	ASSERT_EQ(st.walked, 0, "perm: a policy without windows walks nothing");
	ASSERT_OK(cg_conns_narrow(conns6, conns4, gone.c, &st), "gone: walk");
	ASSERT_EQ(st.walked, 4, "gone: 4 walked");
	ASSERT_EQ(st.narrowed + st.cut, 0,
		  "gone: no flow allows them: left as they were");
	ASSERT_EQ(conn_until(4, 17),
		  (long long)soon.c->flow_info[1].valid_until,
		  "gone: the UDP connection keeps its end");

	/* The window has ended: the connections end now, both ways. */
	ASSERT_OK(cg_conns_narrow(conns6, conns4, ended.c, &st), "ended: walk");
	ASSERT_EQ(st.cut, 4, "ended: 4 cut");
	ASSERT_EQ(responder_passes(&ended), 0,
		  "ended: none of the PLC's frames passes");
	ASSERT_EQ(udp(&ended, "crane0", PLC, HMI, 5004, 40001), CG_R_NO_RULE,
		  "ended: the PLC's UDP stream is no-rule");
	ASSERT_EQ(udp(&ended, "biz0", HMI, PLC, 40001, 5004), CG_R_NO_RULE,
		  "ended: the HMI's datagram is no-rule");
	/* ... and stays cut under a policy that allows them again: they
	 * open afresh from the opener, not from the old entry. */
	ASSERT_EQ(udp(&perm, "crane0", PLC, HMI, 5004, 40001), CG_R_NO_RULE,
		  "perm again: the old stream does not come back by itself");
	ASSERT_EQ(udp(&perm, "biz0", HMI, PLC, 40001, 5004), CG_R_ALLOWED,
		  "perm again: the HMI opens it afresh");
	ASSERT_EQ(conn_until(4, 17), 0,
		  "perm again: the new connection has no end");
out:
	unload(&perm);
	unload(&soon);
	unload(&later);
	unload(&ended);
	unload(&gone);
}

/*
 * The walk's cost: 10,000 more UDP connections from the HMI (written into
 * the table as the program would have opened them), re-judged under a
 * policy that narrows them all. The time goes to the TAP log.
 */
static void test_walk_cost(void)
{
	struct inst soon = {};
	struct cg_narrow_stats st;
	struct cg_conn_key k = {};
	struct cg_conn4_key k4;
	struct cg_conn_val v = {};
	struct timespec t0, t1;
	char t[32], val[64];
	unsigned i, written = 0;
	unsigned long entries = 0;
	int ifindex = if_nametoindex("biz0");

	when(3600, t, sizeof(t));
	snprintf(val, sizeof(val), ", valid: {until: %s}", t);
	if (!load(&soon, policy_text("cost", val)))
		goto out;
	k.family = 4;
	k.proto = 17;
	cg_frame_parse_addr(HMI, k.a); /* 198.18.10.5 < 198.18.20.10: end a */
	cg_frame_parse_addr(PLC, k.b);
	k.bport = 5004;
	v.opener = 0;
	v.end[0].policy_id = 1;
	v.end[0].ifindex = ifindex;
	v.end[0].flow = 1;
	v.end[0].reason = CG_R_ALLOWED;
	memcpy(v.end[0].src_mac, "\x02\x00\xc6\x12\x0a\x05", 6);
	for (i = 0; i < 10000; i++) {
		k.aport = 20000 + i;
		cg_conn4_key_narrow(&k, &k4);
		written += !bpf_map_update_elem(conns4, &k4, &v, BPF_ANY);
	}
	ASSERT_EQ(written, 10000, "cost: 10,000 connections written");
	/* Nothing writes now: a plain walk counts the entries. */
	while (!bpf_map_get_next_key(conns4, entries ? &k4 : NULL, &k4))
		entries++;
	for (i = 0; !bpf_map_get_next_key(conns6, i ? &k : NULL, &k); i++)
		entries++;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_OK(cg_conns_narrow(conns6, conns4, soon.c, &st), "cost: walk");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_TRUE(st.narrowed >= 10000, "cost: all 10,000 narrowed");
	/* The walk writes as it goes; each entry is still visited once. */
	ASSERT_EQ(st.walked, entries,
		  "cost: every connection walked once, none twice");
	printf("# walk: %lu connections, %lu narrowed, %lu cut in %.1f ms\n",
	       st.walked, st.narrowed, st.cut,
	       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
out:
	unload(&soon);
}

int main(void)
{
	struct cg_env env = {};
	char path[PATH_MAX];
	int lock = -1;
	struct inst first = {};
	size_t i;

	if (!ASSERT_OK(cg_sandbox_enter(ifnames, 2), "private namespace"))
		return cg_test_done();
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/cgt_narrow_%d",
		 (int)getpid());
	env.pin_root = pin_root;
	if (!ASSERT_OK(cg_lock(&env, &lock), "private pin root"))
		return cg_test_done();
	/* The first load pins the state maps. */
	if (load(&first, policy_text("first", ""))) {
		snprintf(path, sizeof(path), "%s/conns", pin_root);
		conns6 = bpf_obj_get(path);
		snprintf(path, sizeof(path), "%s/conns4", pin_root);
		conns4 = bpf_obj_get(path);
		if (ASSERT_TRUE(conns6 >= 0 && conns4 >= 0,
				"conns and conns4 pinned")) {
			test_narrow();
			test_walk_cost();
		}
	}
	if (conns6 >= 0)
		close(conns6);
	if (conns4 >= 0)
		close(conns4);
	unload(&first);
	for (i = 0; i < cg_n_state_maps; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_root,
			 cg_state_maps[i]);
		unlink(path);
	}
	rmdir(pin_root);
	cg_unlock(lock);
	return cg_test_done();
}
