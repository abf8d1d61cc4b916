// SPDX-License-Identifier: GPL-2.0
/*
 * The semantic model behind `cranegate diff` and the lint (user/policy/diff.c):
 *
 *  - hand-worked diffs: the lines, their decisions, protocols and ports;
 *  - the model against the reference evaluator (user/policy/reference.c, a
 *    plain linear scan written from README's rules): random policies,
 *    random first frames, the same decision and flow;
 *  - a diff misses no change and invents none: for random pairs of
 *    policies, a sampled connection is in a line of the diff exactly when
 *    the reference judges it differently under the two;
 *  - the lint's "never decides a frame" is exact: deleting such a flow
 *    changes nothing in the diff, deleting any other flow changes
 *    something;
 *  - impact on a capture (root only): a pcap written here with frames
 *    from tests/lib/frames.c, replayed through both policies.
 *
 * Seeds are printed; CG_SEED=N reruns one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cranegate.h"
#include "diff.h"
#include "frames.h"
#include "gen.h"
#include "harness.h"
#include "lint.h"
#include "reference.h"

CG_TEST_GLOBALS;

static struct cg_policy *parse(const char *name, const char *yaml)
{
	struct cg_diags d = {.file = name};
	struct cg_policy *p = NULL;

	if (cg_policy_parse(name, yaml, strlen(yaml), &p, &d)) {
		printf("# %s does not parse:\n", name);
		cg_diags_print(&d, stdout);
	}
	cg_diags_free(&d);
	return p;
}

/* ------------------------------------------------------------------ */
/* Hand-worked diffs                                                   */

static const char old_yaml[] =
	"version: 1\n"
	"name: old\n"
	"zones:\n"
	"  business:\n"
	"    interfaces: [biz0]\n"
	"    networks: [198.18.10.0/24, 2001:2:0:10::/64]\n"
	"  control:\n"
	"    interfaces: [crane0]\n"
	"    networks: [198.18.20.0/24, 2001:2:0:20::/64]\n"
	"  cctv:\n"
	"    interfaces: [cctv0]\n"
	"    networks: [198.18.21.0/24]\n"
	"hosts:\n"
	"  hmi: 198.18.10.5\n"
	"  vms: 198.18.10.40\n"
	"flows:\n"
	"  - name: hmi-polls\n"
	"    from: hmi\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"  - name: ping\n"
	"    from: business\n"
	"    to: control\n"
	"    proto: any\n";

/* hmi-polls widened to 502-503, ping narrowed to icmp, cctv added. */
static const char new_yaml[] =
	"version: 1\n"
	"name: new\n"
	"zones:\n"
	"  business:\n"
	"    interfaces: [biz0]\n"
	"    networks: [198.18.10.0/24, 2001:2:0:10::/64]\n"
	"  control:\n"
	"    interfaces: [crane0]\n"
	"    networks: [198.18.20.0/24, 2001:2:0:20::/64]\n"
	"  cctv:\n"
	"    interfaces: [cctv0]\n"
	"    networks: [198.18.21.0/24]\n"
	"hosts:\n"
	"  hmi: 198.18.10.5\n"
	"  vms: 198.18.10.40\n"
	"flows:\n"
	"  - name: hmi-polls\n"
	"    from: hmi\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [\"502-503\"]\n"
	"  - name: ping\n"
	"    from: business\n"
	"    to: control\n"
	"    proto: icmp\n"
	"  - name: cctv-to-vms\n"
	"    from: cctv\n"
	"    to: vms\n"
	"    proto: tcp\n"
	"    ports: [554]\n";

static const struct cg_diff_line *find_line(const struct cg_diff *d,
					    enum cg_diff_kind kind,
					    const char *from, const char *to,
					    const char *proto)
{
	size_t i;

	for (i = 0; i < d->n_lines; i++)
		if (d->lines[i].kind == kind &&
		    !strcmp(d->lines[i].from, from) &&
		    !strcmp(d->lines[i].to, to) &&
		    !strcmp(d->lines[i].proto, proto))
			return &d->lines[i];
	return NULL;
}

static void dump_diff(const struct cg_diff *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cg_diff_print_text(d, f);
	fclose(f);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		printf("# %s\n", line);
	free(buf);
}

static void test_hand_diff(void)
{
	struct cg_policy *po = parse("old.yaml", old_yaml);
	struct cg_policy *pn = parse("new.yaml", new_yaml);
	struct cg_diff *d = NULL, *same = NULL;
	const struct cg_diff_line *l;

	if (!ASSERT_TRUE(po && pn, "hand: both policies parse"))
		goto out;
	if (!ASSERT_OK(cg_diff_policies(po, pn, &d), "hand: diff"))
		goto out;
	ASSERT_TRUE(cg_diff_differs(d), "hand: the policies differ");

	/* 503 was ping's (proto any); now hmi-polls takes it. */
	l = find_line(d, CG_DIFF_MOVED, "hmi", "control", "tcp");
	if (ASSERT_TRUE(l,
			"hand: hmi -> control tcp allowed by another flow")) {
		ASSERT_STREQ(l->ports, "503", "hand: ... on port 503 only");
		ASSERT_EQ(l->old.flow, 1, "hand: ... was ping's");
		ASSERT_EQ(l->new_.flow, 0, "hand: ... is hmi-polls' now");
	}
	l = find_line(d, CG_DIFF_ALLOWED, "cctv", "vms", "tcp");
	if (ASSERT_TRUE(l, "hand: newly allowed cctv -> vms tcp"))
		ASSERT_STREQ(l->ports, "554", "hand: ... on port 554");

	/* `any` narrowed to icmp: tcp and udp (but hmi's 502/503 stay
	 * with hmi-polls), icmpv6 and every other protocol are denied. */
	l = find_line(d, CG_DIFF_DENIED, "business", "control", "icmpv6");
	ASSERT_TRUE(l, "hand: newly denied business -> control icmpv6");
	l = find_line(d, CG_DIFF_DENIED, "business", "control", "other");
	ASSERT_TRUE(l,
		    "hand: newly denied business -> control, other protocols");
	l = find_line(d, CG_DIFF_DENIED, "business", "control", "tcp+udp");
	if (!l)
		l = find_line(d, CG_DIFF_DENIED, "business (except hmi)",
			      "control", "tcp+udp");
	ASSERT_TRUE(l, "hand: newly denied business -> control tcp+udp");
	l = find_line(d, CG_DIFF_DENIED, "hmi", "control", "tcp");
	if (ASSERT_TRUE(l,
			"hand: newly denied hmi -> control tcp (not 502-503)"))
		ASSERT_STREQ(l->ports, "0-501,504-65535",
			     "hand: ... every port but 502 and 503");
	ASSERT_EQ(d->n_kind[CG_DIFF_ALLOWED], 1,
		  "hand: one line newly allowed");
	ASSERT_EQ(d->n_kind[CG_DIFF_DENIED], 5,
		  "hand: five lines newly denied");
	ASSERT_EQ(d->n_kind[CG_DIFF_MOVED], 1, "hand: one line moved");
	if (cg_test_failed)
		dump_diff(d);

	ASSERT_OK(cg_diff_policies(po, po, &same), "hand: diff with itself");
	if (same) {
		ASSERT_FALSE(cg_diff_differs(same),
			     "hand: a policy equals itself");
		ASSERT_EQ(same->n_lines, 0, "hand: no traffic lines");
	}
out:
	cg_diff_free(d);
	cg_diff_free(same);
	cg_policy_free(po);
	cg_policy_free(pn);
}

/* ------------------------------------------------------------------ */
/* Random first frames, judged by the reference                        */

struct tuple {
	int family;
	uint8_t src[16], dst[16];
	uint8_t proto;
	uint16_t port;
};

/* Every prefix a policy names. */
static const struct cg_prefix *
pick_prefix(struct cg_rng *r, const struct cg_policy *p, int family)
{
	const struct cg_prefix *v[256];
	size_t n = 0, i, j;

	for (i = 0; i < p->n_zones; i++)
		for (j = 0; j < p->zones[i].n_nets && n < 256; j++)
			v[n++] = &p->zones[i].nets[j].prefix;
	for (i = 0; i < p->n_hosts && n < 256; i++)
		v[n++] = &p->hosts[i].addr;
	for (i = 0; i < p->n_flows && n < 256; i++) {
		for (j = 0; j < p->flows[i].n_from && n < 256; j++)
			if (p->flows[i].from[j].kind == CG_REF_CIDR)
				v[n++] = &p->flows[i].from[j].cidr;
		for (j = 0; j < p->flows[i].n_to && n < 256; j++)
			if (p->flows[i].to[j].kind == CG_REF_CIDR)
				v[n++] = &p->flows[i].to[j].cidr;
	}
	for (j = 0, i = 0; i < n; i++)
		if (!family || v[i]->family == family)
			v[j++] = v[i];
	return j ? v[cg_rng_below(r, j)] : NULL;
}

/* Inside a prefix of either policy, or anywhere in the test ranges. */
static void sample_addr(struct cg_rng *r, const struct cg_policy *const *pols,
			size_t n_pols, int *family, uint8_t *out)
{
	const struct cg_prefix *pf = NULL;
	int nb, i;

	if (cg_rng_pct(r, 85))
		pf = pick_prefix(r, pols[cg_rng_below(r, n_pols)], *family);
	if (!pf) {
		static struct cg_prefix any4 = {4, 15, {198, 18}},
					any6 = {6, 48, {0x20, 0x01, 0, 2}};

		if (!*family)
			*family = cg_rng_pct(r, 60) ? 4 : 6;
		pf = *family == 4 ? &any4 : &any6;
	}
	*family = pf->family;
	nb = pf->family == 4 ? 4 : 16;
	memset(out, 0, 16);
	for (i = 0; i < nb; i++)
		out[i] = (uint8_t)cg_rng_next(r);
	/* Host bits random, and often the first or last address. */
	if (cg_rng_pct(r, 20))
		memset(out, 0, 16);
	else if (cg_rng_pct(r, 20))
		memset(out, 0xff, nb);
	for (i = 0; i < pf->len; i++) {
		uint8_t bit = 0x80 >> (i % 8);

		out[i / 8] = (out[i / 8] & ~bit) | (pf->addr[i / 8] & bit);
	}
}

static uint16_t sample_port(struct cg_rng *r,
			    const struct cg_policy *const *pols, size_t n_pols)
{
	const struct cg_policy *p = pols[cg_rng_below(r, n_pols)];
	size_t i;

	if (p->n_flows && cg_rng_pct(r, 70)) {
		const struct cg_flow *f =
			&p->flows[cg_rng_below(r, p->n_flows)];

		if (f->n_ports) {
			const struct cg_port_range *pr =
				&f->ports[cg_rng_below(r, f->n_ports)];

			switch (cg_rng_below(r, 4)) {
			case 0:
				return pr->lo;
			case 1:
				return pr->hi;
			case 2:
				return pr->lo - 1;
			default:
				return pr->hi + 1;
			}
		}
	}
	i = cg_rng_below(r, 3);
	return i == 0 ? 0 : i == 1 ? 65535 : (uint16_t)cg_rng_next(r);
}

static void sample_tuple(struct cg_rng *r, const struct cg_policy *const *pols,
			 size_t n_pols, struct tuple *t)
{
	static const uint8_t protos[] = {6, 17, 1, 58, 47, 6, 17};

	memset(t, 0, sizeof(*t));
	sample_addr(r, pols, n_pols, &t->family, t->src);
	sample_addr(r, pols, n_pols, &t->family, t->dst);
	t->proto = protos[cg_rng_below(r, sizeof(protos))];
	t->port = sample_port(r, pols, n_pols);
}

/* The ingress of a frame from `src` under p: its zone's, else zone 0's. */
static const char *ingress(const struct cg_policy *p, int family,
			   const uint8_t *src, uint16_t *vid)
{
	size_t z, k;

	for (z = 0; z < p->n_zones; z++)
		for (k = 0; k < p->zones[z].n_nets; k++)
			if (cg_prefix_has_addr(&p->zones[z].nets[k].prefix,
					       family, src))
				goto found;
	z = 0;
found:
	*vid = p->zones[z].n_vlans ? p->zones[z].vlans[0].id : 0;
	return p->zones[z].ifaces[0].name;
}

/* The reference's judgement of the first frame of a connection. */
static void ref_decide(const struct cg_policy *p, const struct tuple *t,
		       struct cg_decision *out)
{
	struct cg_frame_spec s;
	struct cg_ref_result res;
	struct cg_refeval *ev;
	uint8_t buf[CG_FRAME_MAX];
	const char *ifname;
	uint16_t vid;
	size_t len;

	cg_frame_init(&s);
	s.family = t->family;
	memcpy(s.src, t->src, 16);
	memcpy(s.dst, t->dst, 16);
	s.proto = t->proto;
	s.sport = 40000;
	s.dport = t->port;
	s.tcp_flags = CG_TCP_SYN;
	s.icmp_type = t->family == 4 ? 8 : 128;
	s.icmp_id = 7;
	/* A host bound to a MAC sends from that MAC. */
	for (size_t i = 0; i < p->n_hosts; i++)
		if (p->hosts[i].has_mac &&
		    p->hosts[i].addr.len == (t->family == 4 ? 32 : 128) &&
		    cg_prefix_has_addr(&p->hosts[i].addr, t->family, t->src))
			memcpy(s.src_mac, p->hosts[i].mac, 6);
	ifname = ingress(p, t->family, t->src, &vid);
	if (vid) {
		s.n_tags = 1;
		s.tags[0].tci = vid;
	}
	len = cg_frame_build(&s, buf, sizeof(buf));
	ev = cg_ref_new(p);
	cg_ref_eval(ev, ifname, buf, len, &res);
	cg_ref_free(ev);
	out->reason = res.would;
	out->verdict = res.would >= CG_R_FIRST_DROP ? CG_V_DROP : CG_V_PASS;
	out->flow = res.would == CG_R_ALLOWED ? res.flow : CG_FLOW_NONE;
}

static void tuple_text(const struct tuple *t, char *buf, size_t len)
{
	char a[64], b[64];
	struct cg_prefix x = {.family = t->family,
			      .len = t->family == 4 ? 32 : 128};

	memcpy(x.addr, t->src, 16);
	cg_prefix_format(&x, a, sizeof(a));
	memcpy(x.addr, t->dst, 16);
	cg_prefix_format(&x, b, sizeof(b));
	snprintf(buf, len, "%s -> %s proto %u port %u", a, b, t->proto,
		 t->port);
}

static uint64_t base_seed(void)
{
	const char *s = getenv("CG_SEED");

	return s ? strtoull(s, NULL, 0) : 0x5eed0001;
}

static bool same_decision(const struct cg_decision *a,
			  const struct cg_decision *b)
{
	return a->verdict == b->verdict && a->reason == b->reason &&
	       a->flow == b->flow;
}

static void test_model_vs_reference(void)
{
	const int n_pol = getenv("CG_SEED") ? 1 : 150, n_samples = 300;
	uint64_t seed0 = base_seed();
	int bad = 0, tried = 0, i, j;

	for (i = 0; i < n_pol; i++) {
		struct cg_rng r;
		struct cg_policy *p;
		struct cg_space *s = NULL;
		char *yaml;

		cg_rng_seed(&r, seed0 + i);
		yaml = cg_gen_policy(&r);
		p = parse("gen.yaml", yaml);
		free(yaml);
		/* The model judges with every window open (diff.h); the
		 * reference judges at the clock, so open them for it. */
		for (size_t k = 0; p && k < p->n_flows; k++)
			p->flows[k].valid.timed = false;
		if (!p ||
		    cg_space_new((const struct cg_policy *const *)&p, 1, &s)) {
			bad++;
			printf("# seed %#llx: no policy or no model\n",
			       (unsigned long long)(seed0 + i));
			cg_policy_free(p);
			continue;
		}
		for (j = 0; j < n_samples; j++) {
			const struct cg_policy *pols[1] = {p};
			struct cg_decision want, got;
			struct tuple t;
			char text[200];

			sample_tuple(&r, pols, 1, &t);
			ref_decide(p, &t, &want);
			if (want.reason != CG_R_ALLOWED &&
			    want.reason != CG_R_NO_RULE &&
			    want.reason != CG_R_INTRA_ZONE &&
			    want.reason != CG_R_SPOOFED_SOURCE)
				continue; /* not a question for the model */
			tried++;
			cg_space_decide(s, 0, t.family, t.src, t.dst, t.proto,
					t.port, &got);
			if (same_decision(&want, &got))
				continue;
			if (bad++ < 5) {
				tuple_text(&t, text, sizeof(text));
				printf("# seed %#llx: %s: reference %s flow "
				       "%d, model %s flow %d\n",
				       (unsigned long long)(seed0 + i), text,
				       cg_reason_names[want.reason],
				       (int)want.flow,
				       cg_reason_names[got.reason],
				       (int)got.flow);
			}
		}
		cg_space_free(s);
		cg_policy_free(p);
	}
	printf("# %d first frames of %d random policies compared\n", tried,
	       n_pol);
	ASSERT_TRUE(tried > n_pol * 50, "model: enough frames were comparable");
	ASSERT_EQ(bad, 0, "model: same decision and flow as the reference");
}

/* Is the tuple in a line of the diff, and which? */
static const struct cg_diff_line *line_of(const struct cg_diff *d,
					  const struct tuple *t)
{
	uint32_t rs = cg_space_region(d->space, t->family, t->src);
	uint32_t rd = cg_space_region(d->space, t->family, t->dst);
	enum cg_bucket b = t->proto == 6    ? CG_B_TCP
			   : t->proto == 17 ? CG_B_UDP
			   : t->proto == 1  ? CG_B_ICMP
			   : t->proto == 58 ? CG_B_ICMPV6
					    : CG_B_OTHER;
	size_t i, k;

	for (i = 0; i < d->n_lines; i++) {
		const struct cg_diff_line *l = &d->lines[i];
		bool src = false, dst = false, port = !l->n_spans;

		if (!(l->buckets & (1u << b)))
			continue;
		for (k = 0; k < l->n_src; k++)
			src |= l->src_regions[k] == rs;
		for (k = 0; k < l->n_dst; k++)
			dst |= l->dst_regions[k] == rd;
		for (k = 0; k < l->n_spans && (b == CG_B_TCP || b == CG_B_UDP);
		     k++)
			port |= l->spans[k].lo <= t->port &&
				t->port <= l->spans[k].hi;
		if (b != CG_B_TCP && b != CG_B_UDP)
			port = true;
		if (src && dst && port)
			return l;
	}
	return NULL;
}

static void test_diff_is_exact(void)
{
	const int n_pairs = getenv("CG_SEED") ? 1 : 100, n_samples = 400;
	uint64_t seed0 = base_seed() + 1000;
	int missed = 0, invented = 0, wrong = 0, changed = 0, i, j;

	for (i = 0; i < n_pairs; i++) {
		struct cg_policy *pols[2] = {};
		struct cg_diff *d = NULL;
		struct cg_rng r;
		char *yaml;
		int k;

		cg_rng_seed(&r, seed0 + i);
		for (k = 0; k < 2; k++) {
			yaml = cg_gen_policy(&r);
			pols[k] = parse("gen.yaml", yaml);
			free(yaml);
		}
		if (!pols[0] || !pols[1] ||
		    cg_diff_policies(pols[0], pols[1], &d)) {
			missed++;
			printf("# seed %#llx: no diff\n",
			       (unsigned long long)(seed0 + i));
			goto next;
		}
		for (j = 0; j < n_samples; j++) {
			const struct cg_policy *pp[2] = {pols[0], pols[1]};
			struct cg_decision a, b;
			const struct cg_diff_line *l;
			struct tuple t;
			bool differs;
			char text[200];

			sample_tuple(&r, pp, 2, &t);
			cg_space_decide(d->space, 0, t.family, t.src, t.dst,
					t.proto, t.port, &a);
			cg_space_decide(d->space, 1, t.family, t.src, t.dst,
					t.proto, t.port, &b);
			/* What the diff reports: verdicts, or who passes. */
			differs = a.verdict != b.verdict ||
				  (a.verdict == CG_V_PASS &&
				   (a.reason != b.reason ||
				    (a.reason == CG_R_ALLOWED &&
				     strcmp(pols[0]->flows[a.flow].name,
					    pols[1]->flows[b.flow].name))));
			l = line_of(d, &t);
			changed += differs;
			tuple_text(&t, text, sizeof(text));
			if (differs && !l) {
				if (missed++ < 5)
					printf("# seed %#llx: %s changes, no "
					       "line says so\n",
					       (unsigned long long)(seed0 + i),
					       text);
			} else if (!differs && l) {
				if (invented++ < 5)
					printf("# seed %#llx: %s does not "
					       "change, line '%s -> %s %s' "
					       "says it does\n",
					       (unsigned long long)(seed0 + i),
					       text, l->from, l->to, l->proto);
			} else if (l && (!same_decision(&l->old, &a) ||
					 !same_decision(&l->new_, &b))) {
				if (wrong++ < 5)
					printf("# seed %#llx: %s: the line's "
					       "decisions are not the "
					       "policies'\n",
					       (unsigned long long)(seed0 + i),
					       text);
			}
		}
	next:
		cg_diff_free(d);
		cg_policy_free(pols[0]);
		cg_policy_free(pols[1]);
	}
	printf("# %d sampled connections of %d random policy pairs changed\n",
	       changed, n_pairs);
	ASSERT_TRUE(changed > n_pairs * 10, "diff: enough connections changed");
	ASSERT_EQ(missed, 0, "diff: every change is in a line");
	ASSERT_EQ(invented, 0, "diff: no line holds an unchanged connection");
	ASSERT_EQ(wrong, 0, "diff: lines carry both policies' decisions");
}

/*
 * The lint's verdict on a flow, checked through the diff: deleting a flow
 * that never decides a frame changes no traffic; deleting one that does
 * changes some.
 */
static void test_lint_is_exact(void)
{
	const int n_pol = getenv("CG_SEED") ? 1 : 60;
	uint64_t seed0 = base_seed() + 2000;
	int bad = 0, dead = 0, live = 0, i;
	size_t f;

	for (i = 0; i < n_pol; i++) {
		struct cg_flow_usage *u = NULL;
		struct cg_space *s = NULL;
		struct cg_policy *p, cut;
		struct cg_rng r;
		char *yaml;

		cg_rng_seed(&r, seed0 + i);
		yaml = cg_gen_policy(&r);
		p = parse("gen.yaml", yaml);
		free(yaml);
		if (!p)
			continue;
		u = calloc(p->n_flows + 1, sizeof(*u));
		if (cg_space_new((const struct cg_policy *const *)&p, 1, &s) ||
		    cg_space_flow_usage(s, u)) {
			bad++;
			goto next;
		}
		cut = *p;
		cut.flows = malloc((p->n_flows + 1) * sizeof(*cut.flows));
		for (f = 0; f < p->n_flows; f++) {
			struct cg_diff *d = NULL;

			/* The policy without flow f (a shallow copy). */
			memcpy(cut.flows, p->flows, f * sizeof(*cut.flows));
			memcpy(cut.flows + f, p->flows + f + 1,
			       (p->n_flows - f - 1) * sizeof(*cut.flows));
			cut.n_flows = p->n_flows - 1;
			if (cg_diff_policies(p, &cut, &d)) {
				bad++;
				continue;
			}
			if (u[f].decides)
				live++;
			else
				dead++;
			if ((d->n_lines != 0) != u[f].decides && bad++ < 5)
				printf("# seed %#llx: flow %s: lint says it "
				       "%s, deleting it changes %zu lines\n",
				       (unsigned long long)(seed0 + i),
				       p->flows[f].name,
				       u[f].decides ? "decides"
						    : "never decides",
				       d->n_lines);
			cg_diff_free(d);
		}
		free(cut.flows);
	next:
		free(u);
		cg_space_free(s);
		cg_policy_free(p);
	}
	printf("# %d flows that decide, %d that never do\n", live, dead);
	ASSERT_TRUE(dead > 0 && live > 0,
		    "lint: random policies have both kinds");
	ASSERT_EQ(bad, 0,
		  "lint: 'never decides' is exactly 'deleting it changes "
		  "nothing'");
}

/* ------------------------------------------------------------------ */
/* Impact on a capture written here                                    */

static const char impact_old[] = "version: 1\n"
				 "name: impact-old\n"
				 "zones:\n"
				 "  business:\n"
				 "    interfaces: [biz0]\n"
				 "    networks: [198.18.10.0/24]\n"
				 "  control:\n"
				 "    interfaces: [crane0]\n"
				 "    networks: [198.18.20.0/24]\n"
				 "flows:\n"
				 "  - name: polls\n"
				 "    from: business\n"
				 "    to: control\n"
				 "    proto: tcp\n"
				 "    ports: [502]\n"
				 "  - name: pings\n"
				 "    from: business\n"
				 "    to: control\n"
				 "    proto: icmp\n";

/* Polls only from .5; pings unchanged. */
static const char impact_new[] = "version: 1\n"
				 "name: impact-new\n"
				 "zones:\n"
				 "  business:\n"
				 "    interfaces: [biz0]\n"
				 "    networks: [198.18.10.0/24]\n"
				 "  control:\n"
				 "    interfaces: [crane0]\n"
				 "    networks: [198.18.20.0/24]\n"
				 "hosts:\n"
				 "  hmi: 198.18.10.5\n"
				 "flows:\n"
				 "  - name: hmi-polls\n"
				 "    from: hmi\n"
				 "    to: control\n"
				 "    proto: tcp\n"
				 "    ports: [502]\n"
				 "  - name: pings\n"
				 "    from: business\n"
				 "    to: control\n"
				 "    proto: icmp\n";

/* Each host its own MAC (the gate learns which zone a MAC is in). */
static void dump_frame(pcap_dumper_t *w, struct cg_frame_spec *s)
{
	uint8_t buf[CG_FRAME_MAX];
	struct pcap_pkthdr h = {};

	s->src_mac[4] = s->src[2];
	s->src_mac[5] = s->src[3];
	h.caplen = h.len = cg_frame_build(s, buf, sizeof(buf));
	pcap_dump((u_char *)w, &h, buf);
}

/* A conversation: SYN, SYN-ACK, ACK, and `data` request/response pairs. */
static void dump_tcp(pcap_dumper_t *w, const char *cli, const char *srv,
		     uint16_t sport, int data)
{
	struct cg_frame_spec s;
	int i;

	cg_frame_tcp(&s, cli, srv, sport, 502, CG_TCP_SYN);
	dump_frame(w, &s);
	cg_frame_tcp(&s, srv, cli, 502, sport, CG_TCP_SYN | CG_TCP_ACK);
	dump_frame(w, &s);
	cg_frame_tcp(&s, cli, srv, sport, 502, CG_TCP_ACK);
	dump_frame(w, &s);
	for (i = 0; i < data; i++) {
		cg_frame_tcp(&s, cli, srv, sport, 502, CG_TCP_ACK | CG_TCP_PSH);
		dump_frame(w, &s);
		cg_frame_tcp(&s, srv, cli, 502, sport, CG_TCP_ACK | CG_TCP_PSH);
		dump_frame(w, &s);
	}
}

static int write_capture(const char *path)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *w = dead ? pcap_dump_open(dead, path) : NULL;
	struct cg_frame_spec s;
	int i;

	if (!w) {
		if (dead)
			pcap_close(dead);
		return -1;
	}
	dump_tcp(w, "198.18.10.5", "198.18.20.11", 40001, 3); /* 9 frames */
	dump_tcp(w, "198.18.10.9", "198.18.20.11", 40002, 2); /* 7 frames */
	for (i = 0; i < 2; i++) {
		cg_frame_icmp(&s, "198.18.10.9", "198.18.20.11", 8, 0, 77);
		dump_frame(w, &s);
		cg_frame_icmp(&s, "198.18.20.11", "198.18.10.9", 0, 0, 77);
		dump_frame(w, &s);
	}
	pcap_dump_close(w);
	pcap_close(dead);
	return 0;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* cg_diff_run in a child (it enters a private netns); its stdout. */
static int run_diff(struct cg_diff_opts *o, char **out)
{
	char path[] = "/tmp/cg-test-diff-out.XXXXXX";
	int fd = mkstemp(path), status = -1;
	pid_t pid;

	*out = NULL;
	if (fd < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int rc;

		dup2(fd, 1);
		rc = cg_diff_run(o);
		fflush(stdout);
		_exit(rc < 0 ? 2 : rc);
	}
	waitpid(pid, &status, 0);
	close(fd);
	*out = NULL;
	{
		FILE *f = fopen(path, "r");
		size_t len = 0;

		if (f) {
			*out = calloc(1, 1 << 20);
			len = fread(*out, 1, (1 << 20) - 1, f);
			(*out)[len] = 0;
			fclose(f);
		}
	}
	unlink(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_impact(void)
{
	char dir[] = "/tmp/cg-test-impact.XXXXXX", po[128], pn[128], cap[128];
	struct cg_diff_opts o = {.by_source = true, .json = true};
	char *out = NULL;
	int rc;

	if (geteuid()) {
		printf("ok %d - impact: a generated capture through both "
		       "policies # SKIP needs root\n",
		       ++cg_test_n);
		return;
	}
	if (!ASSERT_TRUE(mkdtemp(dir), "impact: temporary directory"))
		return;
	snprintf(po, sizeof(po), "%s/old.yaml", dir);
	snprintf(pn, sizeof(pn), "%s/new.yaml", dir);
	snprintf(cap, sizeof(cap), "%s/t.pcap", dir);
	if (!ASSERT_OK(write_text(po, impact_old) | write_text(pn, impact_new) |
			       write_capture(cap),
		       "impact: policies and capture written"))
		goto out;
	o.old_path = po;
	o.new_path = pn;
	o.capture = cap;
	rc = run_diff(&o, &out);
	ASSERT_EQ(rc, 1, "impact: exit 1, verdicts change");
	if (!ASSERT_TRUE(out && *out, "impact: JSON printed"))
		goto out;
	if (getenv("CG_VERBOSE") || !strstr(out, "\"changed\": 1,"))
		printf("# %s", out);
	ASSERT_TRUE(
		strstr(out,
		       "\"frames\": 20, \"not_judged\": 0, \"conversations\": "
		       "3, \"changed\": 1, \"changed_frames\": 7"),
		"impact: 20 frames, 3 conversations, 1 changes (7 frames)");
	ASSERT_TRUE(
		strstr(out,
		       "\"src\": \"198.18.10.9\", \"dst\": \"198.18.20.11\", "
		       "\"sport\": 40002, \"dport\": 502, \"frames\": 7, "
		       "\"changed_frames\": 7, \"first_frame\": 10"),
		"impact: the poll from .9 changes, from its first frame");
	ASSERT_TRUE(strstr(out, "{\"frames\": 4, \"old\": {\"verdict\": "
				"\"pass\", \"reason\": \"allowed\", \"rule\": "
				"\"polls\"}, \"new\": {\"verdict\": \"drop\", "
				"\"reason\": \"no-rule\", \"rule\": null}}"),
		    "impact: 4 frames were allowed by polls, now no-rule");
	ASSERT_TRUE(strstr(out, "{\"frames\": 3, \"old\": {\"verdict\": "
				"\"pass\", \"reason\": \"reply\", \"rule\": "
				"\"polls\"}, \"new\": {\"verdict\": \"drop\", "
				"\"reason\": \"no-rule\", \"rule\": null}}"),
		    "impact: 3 replies of polls, now no-rule");
	ASSERT_TRUE(!strstr(out, "\"sport\": 40001"),
		    "impact: the poll from .5 (hmi) does not change");
	ASSERT_TRUE(!strstr(out, "icmp"), "impact: the pings do not change");
out:
	free(out);
	unlink(po);
	unlink(pn);
	unlink(cap);
	rmdir(dir);
}

int main(void)
{
	test_hand_diff();
	test_model_vs_reference();
	test_diff_is_exact();
	test_lint_is_exact();
	test_impact();
	printf("1..%d\n", cg_test_n);
	return cg_test_done();
}
