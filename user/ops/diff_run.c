// SPDX-License-Identifier: GPL-2.0
/*
 * `cranegate diff`: the command, and the impact of a change on recorded
 * traffic (--pcap), every frame through both policies' real programs
 * (replay.h). The semantic model and its printing are diff.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "compile.h"
#include "diff.h"
#include "hash.h"
#include "gate.h"
#include "output.h"
#include "replay.h"

/* ------------------------------------------------------------------ */
/* Impact on recorded traffic (--pcap)                                 */

/*
 * A conversation: protocol and the two ends, in canonical order (the
 * lower (address, port) first) so that both directions meet; shown in the
 * direction of its first frame. Frames without an IP header share one
 * conversation per family 0.
 */
struct conv_key {
	uint8_t family, proto, pad[2];
	uint16_t aport, bport;
	uint8_t a[16], b[16];
};

/* One way a frame's judgement changed, and how often. */
struct transition {
	uint8_t verdict[2], reason[2], would[2];
	uint32_t flow[2];
	uint64_t frames;
};

struct conv {
	struct conv_key key;
	uint8_t src[16], dst[16]; /* as in the first frame */
	uint16_t sport, dport;
	bool has_ports;
	uint64_t first, frames, changed;
	struct transition *tr;
	size_t n_tr;
};

struct impact {
	struct conv *convs;
	size_t n, cap;
	uint32_t *slots; /* hash: conv index + 1 */
	size_t n_slots;
};

static void conv_key_of(const struct cg_event *e, struct conv_key *k,
			bool *swapped)
{
	int nb = e->family == 6 ? 16 : 4, c;
	uint16_t sp = e->flags & CG_EV_PORTS ? e->sport : 0;
	uint16_t dp = e->flags & CG_EV_PORTS ? e->dport : 0;

	memset(k, 0, sizeof(*k));
	*swapped = false;
	if (e->family != 4 && e->family != 6)
		return;
	k->family = e->family;
	k->proto = e->proto;
	c = memcmp(e->src, e->dst, nb);
	*swapped = c > 0 || (c == 0 && sp > dp);
	memcpy(k->a, *swapped ? e->dst : e->src, nb);
	memcpy(k->b, *swapped ? e->src : e->dst, nb);
	k->aport = *swapped ? dp : sp;
	k->bport = *swapped ? sp : dp;
}

static struct conv *impact_find(struct impact *im, const struct cg_event *e,
				uint64_t frame)
{
	struct conv_key k;
	bool swapped;
	size_t h, i;

	conv_key_of(e, &k, &swapped);
	if (im->n * 2 >= im->n_slots) {
		size_t n = im->n_slots ? im->n_slots * 2 : 256;
		uint32_t *slots = calloc(n, sizeof(*slots));

		if (!slots)
			return NULL;
		for (i = 0; i < im->n; i++) {
			h = cg_hash_bytes(&im->convs[i].key, sizeof(k)) &
			    (n - 1);
			while (slots[h])
				h = (h + 1) & (n - 1);
			slots[h] = i + 1;
		}
		free(im->slots);
		im->slots = slots;
		im->n_slots = n;
	}
	h = cg_hash_bytes(&k, sizeof(k)) & (im->n_slots - 1);
	while (im->slots[h]) {
		struct conv *c = &im->convs[im->slots[h] - 1];

		if (!memcmp(&c->key, &k, sizeof(k)))
			return c;
		h = (h + 1) & (im->n_slots - 1);
	}
	if (im->n == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 64;
		struct conv *v = realloc(im->convs, cap * sizeof(*v));

		if (!v)
			return NULL;
		im->convs = v;
		im->cap = cap;
	}
	memset(&im->convs[im->n], 0, sizeof(*im->convs));
	im->convs[im->n].key = k;
	memcpy(im->convs[im->n].src, e->src, 16);
	memcpy(im->convs[im->n].dst, e->dst, 16);
	im->convs[im->n].sport = e->sport;
	im->convs[im->n].dport = e->dport;
	im->convs[im->n].has_ports = e->flags & CG_EV_PORTS;
	im->convs[im->n].first = frame;
	im->slots[h] = ++im->n;
	return &im->convs[im->n - 1];
}

static int impact_add(struct impact *im, const struct cg_event *eo,
		      const struct cg_event *en, uint64_t frame)
{
	struct conv *c = impact_find(im, eo, frame);
	struct transition t = {}, *v;
	size_t i;

	if (!c)
		return -ENOMEM;
	c->frames++;
	if (eo->verdict == en->verdict)
		return 0;
	c->changed++;
	t.verdict[0] = eo->verdict;
	t.verdict[1] = en->verdict;
	t.reason[0] = eo->reason;
	t.reason[1] = en->reason;
	t.would[0] = eo->would;
	t.would[1] = en->would;
	t.flow[0] = eo->flow;
	t.flow[1] = en->flow;
	for (i = 0; i < c->n_tr; i++) {
		struct transition *x = &c->tr[i];

		if (!memcmp(x->verdict, t.verdict, 2) &&
		    !memcmp(x->reason, t.reason, 2) &&
		    !memcmp(x->would, t.would, 2) && x->flow[0] == t.flow[0] &&
		    x->flow[1] == t.flow[1]) {
			x->frames++;
			return 0;
		}
	}
	v = realloc(c->tr, (c->n_tr + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->tr = v;
	t.frames = 1;
	c->tr[c->n_tr++] = t;
	return 0;
}

/* "pass allowed (flow x)", "drop no-rule", "pass monitor (would: no-rule)" */
static void judgement_text(const struct transition *t, int side,
			   const struct cg_policy *p, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s %s",
			 t->verdict[side] == CG_V_DROP ? "drop" : "pass",
			 t->reason[side] < CG_R_MAX
				 ? cg_reason_names[t->reason[side]]
				 : "?");

	if (t->reason[side] == CG_R_MONITOR && t->would[side] < CG_R_MAX)
		n += snprintf(buf + n, len - n, " (would: %s)",
			      cg_reason_names[t->would[side]]);
	if (t->flow[side] < p->n_flows)
		snprintf(buf + n, len - n, " (flow %s)",
			 p->flows[t->flow[side]].name);
}

static void conv_endpoints(const struct conv *c, char *buf, size_t len)
{
	char s[64], d[64];

	if (!c->key.family) {
		snprintf(buf, len, "non-IP frames");
		return;
	}
	cg_addr_format(c->key.family, c->src, s, sizeof(s));
	cg_addr_format(c->key.family, c->dst, d, sizeof(d));
	if (c->has_ports && c->key.family == 6)
		snprintf(buf, len, "%s [%s]:%u -> [%s]:%u",
			 cg_l4_name(c->key.proto), s, c->sport, d, c->dport);
	else if (c->has_ports)
		snprintf(buf, len, "%s %s:%u -> %s:%u",
			 cg_l4_name(c->key.proto), s, c->sport, d, c->dport);
	else
		snprintf(buf, len, "%s %s -> %s", cg_l4_name(c->key.proto), s,
			 d);
}

static void json_judgement(FILE *out, const struct transition *t, int side,
			   const struct cg_policy *p)
{
	fprintf(out, "{\"verdict\": \"%s\", \"reason\": \"%s\"",
		t->verdict[side] == CG_V_DROP ? "drop" : "pass",
		t->reason[side] < CG_R_MAX ? cg_reason_names[t->reason[side]]
					   : "?");
	if (t->reason[side] == CG_R_MONITOR && t->would[side] < CG_R_MAX)
		fprintf(out, ", \"would\": \"%s\"",
			cg_reason_names[t->would[side]]);
	fputs(", \"rule\": ", out);
	cg_json_str(out, t->flow[side] < p->n_flows
				 ? p->flows[t->flow[side]].name
				 : NULL);
	fputc('}', out);
}

/*
 * `complete` is false when the capture could not be read to its end:
 * frame frames + 1 is where reading stopped.
 */
static void impact_print(const struct impact *im, const struct cg_diff_opts *o,
			 const struct cg_policy *po, const struct cg_policy *pn,
			 uint64_t frames, uint64_t errors, bool complete,
			 FILE *out)
{
	uint64_t changed_frames = 0;
	size_t i, j, n_changed = 0;
	char ends[160], a[CG_NAME_MAX + 64], b[CG_NAME_MAX + 64];

	for (i = 0; i < im->n; i++)
		if (im->convs[i].changed) {
			n_changed++;
			changed_frames += im->convs[i].changed;
		}
	if (o->json) {
		fputs("{\"capture\": ", out);
		cg_json_str(out, o->capture);
		fputs(", \"old\": ", out);
		cg_policy_json(out, po);
		fputs(", \"new\": ", out);
		cg_policy_json(out, pn);
		fprintf(out,
			", \"frames\": %llu, \"not_judged\": %llu, "
			"\"conversations\": %zu, \"changed\": %zu, "
			"\"changed_frames\": %llu, \"complete\": %s, "
			"\"stopped_at\": ",
			(unsigned long long)frames, (unsigned long long)errors,
			im->n, n_changed, (unsigned long long)changed_frames,
			complete ? "true" : "false");
		if (complete)
			fputs("null", out);
		else
			fprintf(out, "%llu", (unsigned long long)frames + 1);
		fputs(", \"changes\": [", out);
		for (i = 0, n_changed = 0; i < im->n; i++) {
			const struct conv *c = &im->convs[i];

			if (!c->changed)
				continue;
			fprintf(out, "%s{\"proto\": ", n_changed++ ? ", " : "");
			if (c->key.family)
				fprintf(out, "\"%s\"",
					cg_l4_name(c->key.proto));
			else
				fputs("null", out);
			cg_addr_format(c->key.family, c->src, a, sizeof(a));
			cg_addr_format(c->key.family, c->dst, b, sizeof(b));
			fputs(", \"src\": ", out);
			cg_json_str(out, c->key.family ? a : NULL);
			fputs(", \"dst\": ", out);
			cg_json_str(out, c->key.family ? b : NULL);
			if (c->has_ports)
				fprintf(out, ", \"sport\": %u, \"dport\": %u",
					c->sport, c->dport);
			else
				fputs(", \"sport\": null, \"dport\": null",
				      out);
			fprintf(out,
				", \"frames\": %llu, \"changed_frames\": %llu, "
				"\"first_frame\": %llu, \"transitions\": [",
				(unsigned long long)c->frames,
				(unsigned long long)c->changed,
				(unsigned long long)c->first);
			for (j = 0; j < c->n_tr; j++) {
				fprintf(out, "%s{\"frames\": %llu, \"old\": ",
					j ? ", " : "",
					(unsigned long long)c->tr[j].frames);
				json_judgement(out, &c->tr[j], 0, po);
				fputs(", \"new\": ", out);
				json_judgement(out, &c->tr[j], 1, pn);
				fputc('}', out);
			}
			fputs("]}", out);
		}
		fputs("]}\n", out);
		return;
	}
	fprintf(out, "--- %s  policy '%s'\n+++ %s  policy '%s'\n",
		po->file ? po->file : "OLD", po->name,
		pn->file ? pn->file : "NEW", pn->name);
	for (i = 0; i < im->n; i++) {
		const struct conv *c = &im->convs[i];

		if (!c->changed)
			continue;
		conv_endpoints(c, ends, sizeof(ends));
		fprintf(out,
			"%s  %llu frames, %llu change verdict (first: frame "
			"%llu)\n",
			ends, (unsigned long long)c->frames,
			(unsigned long long)c->changed,
			(unsigned long long)c->first);
		for (j = 0; j < c->n_tr; j++) {
			judgement_text(&c->tr[j], 0, po, a, sizeof(a));
			judgement_text(&c->tr[j], 1, pn, b, sizeof(b));
			fprintf(out, "    %6llu  old: %s; new: %s\n",
				(unsigned long long)c->tr[j].frames, a, b);
		}
	}
	fprintf(out, "%s: %llu frames", o->capture, (unsigned long long)frames);
	if (errors)
		fprintf(out, " (%llu not judged)", (unsigned long long)errors);
	fprintf(out, ", %zu conversations, %zu change verdict (%llu frames)\n",
		im->n, n_changed, (unsigned long long)changed_frames);
	if (!complete)
		fprintf(out,
			"%s: incomplete: reading stopped at frame %llu; the "
			"frames after it were not judged\n",
			o->capture, (unsigned long long)frames + 1);
}

/*
 * The interface a frame arrives on: --iface, or with --by-source the
 * interface of the zone holding its source under OLD (the running policy
 * describes how the gate is cabled), else under NEW (a zone NEW adds),
 * else OLD's first interface.
 */
static const char *impact_iface(const struct cg_diff_opts *o,
				const struct cg_compiled *co,
				const struct cg_compiled *cn, const uint8_t *f,
				size_t len)
{
	const char *ifname;

	if (o->iface)
		return o->iface;
	ifname = cg_replay_source_iface(co->policy, f, len);
	if (!ifname)
		ifname = cg_replay_source_iface(cn->policy, f, len);
	return ifname ? ifname : co->ifnames[0];
}

static int diff_capture(const struct cg_diff_opts *o, struct cg_policy *po,
			struct cg_policy *pn)
{
	struct cg_diags d = {.file = o->old_path};
	struct cg_compiled *c[2] = {};
	struct cg_gate *g[2] = {};
	struct cg_gate_opts go = {.record = true, .verbose = o->verbose};
	char(*ifnames)[CG_IFNAME_MAX] = NULL;
	struct impact im = {};
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t frames = 0, errors = 0;
	pcap_t *pc = NULL;
	size_t n_if = 0, i, k;
	int err, rc;

	err = cg_compile(po, &c[0], &d);
	cg_diags_print(&d, stderr);
	cg_diags_free(&d);
	d.file = o->new_path;
	if (!err)
		err = cg_compile(pn, &c[1], &d);
	cg_diags_print(&d, stderr);
	cg_diags_free(&d);
	if (err)
		goto out;

	/* The sandbox needs the interfaces of both policies. */
	ifnames =
		calloc(c[0]->n_ifnames + c[1]->n_ifnames + 1, sizeof(*ifnames));
	if (!ifnames) {
		err = -ENOMEM;
		goto out;
	}
	for (k = 0; k < 2; k++)
		for (i = 0; i < c[k]->n_ifnames; i++) {
			size_t j;

			for (j = 0; j < n_if; j++)
				if (!strcmp(ifnames[j], c[k]->ifnames[i]))
					break;
			if (j == n_if)
				memcpy(ifnames[n_if++], c[k]->ifnames[i],
				       CG_IFNAME_MAX);
		}
	if (o->iface) {
		for (i = 0; i < n_if; i++)
			if (!strcmp(ifnames[i], o->iface))
				break;
		if (i == n_if) {
			fprintf(stderr,
				"cranegate: neither policy names an interface "
				"'%s'\n",
				o->iface);
			err = -EINVAL;
			goto out;
		}
	}
	if ((err = cg_capture_open(o->capture, &pc)))
		goto out;
	/* Two private instances with private state in one private netns. */
	if ((err = cg_sandbox_enter(ifnames, n_if)) ||
	    (err = cg_gate_load(c[0], &go, &g[0])) ||
	    (err = cg_gate_load(c[1], &go, &g[1])))
		goto out;

	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		const char *ifname =
			impact_iface(o, c[0], c[1], data, h->caplen);
		struct cg_event ev[2];
		int action;

		frames++;
		for (k = 0; k < 2; k++) {
			err = cg_replay_frame(g[k], ifname, data, h->caplen,
					      &ev[k], &action);
			if (err)
				break;
		}
		if (err == -EMSGSIZE) {
			errors++;
			continue;
		}
		if (err) {
			fprintf(stderr,
				"cranegate: test run of frame %llu failed: "
				"%s\n",
				(unsigned long long)frames, strerror(-err));
			goto out;
		}
		if ((err = impact_add(&im, &ev[0], &ev[1], frames)))
			goto out;
	}
	/*
	 * A capture read only in part is trouble (exit 2), whatever the
	 * frames read so far say: the rest may hold the change.
	 */
	impact_print(&im, o, po, pn, frames, errors, rc == PCAP_ERROR_BREAK,
		     stdout);
	fflush(stdout);
	err = 0;
	for (i = 0; i < im.n; i++)
		if (im.convs[i].changed)
			err = 1;
	if (!cg_capture_ended(o->capture, pc, rc, frames))
		err = -EIO;
out:
	for (i = 0; i < im.n; i++)
		free(im.convs[i].tr);
	free(im.convs);
	free(im.slots);
	free(ifnames);
	if (pc)
		pcap_close(pc);
	for (k = 0; k < 2; k++) {
		cg_gate_free(g[k]);
		cg_compiled_free(c[k]);
	}
	return err;
}

/* A policy to diff: a file (main.c resolves @active / @REV to one). */
static int load_ref(const char *ref, struct cg_policy **out)
{
	struct cg_diags d = {.file = ref};
	int err;

	err = cg_policy_load(ref, out, &d);
	cg_diags_print(&d, stderr);
	cg_diags_free(&d);
	return err;
}

int cg_diff_run(const struct cg_diff_opts *o)
{
	struct cg_policy *po = NULL, *pn = NULL;
	struct cg_diff *df = NULL;
	int err;

	err = load_ref(o->old_path, &po);
	if (!err)
		err = load_ref(o->new_path, &pn);
	if (err)
		goto out;
	if (o->capture) {
		err = diff_capture(o, po, pn);
		goto out;
	}
	err = cg_diff_policies(po, pn, &df);
	if (err == -E2BIG)
		fprintf(stderr,
			"cranegate: the policies are too large for a semantic "
			"diff (too many address classes or port classes); "
			"compare them on a capture with --pcap\n");
	if (err)
		goto out;
	if (o->json)
		cg_diff_print_json(df, stdout);
	else
		cg_diff_print_text(df, stdout);
	err = cg_diff_differs(df) ? 1 : 0;
out:
	cg_diff_free(df);
	cg_policy_free(po);
	cg_policy_free(pn);
	return err;
}
