// SPDX-License-Identifier: GPL-2.0
/*
 * Printing a diff (diff.h): text for people, JSON for tools. The model
 * and the diff itself are diff.c's.
 */
#include <stdio.h>

#include "hex.h"
#include "diff.h"
#include "output.h"

/* ------------------------------------------------------------------ */
/* Printing                                                            */

const char *cg_decision_text(const struct cg_decision *dec,
			     const struct cg_policy *p, char *buf, size_t len)
{
	if (dec->reason == CG_R_ALLOWED && p && dec->flow < p->n_flows &&
	    p->flows[dec->flow].valid.timed) {
		char w[80];

		cg_window_text(&p->flows[dec->flow].valid, w, sizeof(w));
		snprintf(buf, len, "flow %s, valid %s",
			 p->flows[dec->flow].name, w);
	} else if (dec->reason == CG_R_ALLOWED && p && dec->flow < p->n_flows)
		snprintf(buf, len, "flow %s", p->flows[dec->flow].name);
	else
		snprintf(buf, len, "%s", cg_reason_names[dec->reason]);
	return buf;
}

static const char *const kind_title[CG_DIFF_N_KINDS] = {
	"newly allowed", "newly denied", "allowed by another flow or rule"};

static const char *const kind_key[CG_DIFF_N_KINDS] = {
	"newly-allowed", "newly-denied", "allowed-otherwise"};

void cg_diff_summary(const struct cg_diff *d, char *buf, size_t len)
{
	snprintf(buf, len,
		 "%zu newly allowed, %zu newly denied, %zu allowed by another "
		 "flow or rule, %zu other changes",
		 d->n_kind[CG_DIFF_ALLOWED], d->n_kind[CG_DIFF_DENIED],
		 d->n_kind[CG_DIFF_MOVED], d->n_counted_items);
}

void cg_diff_print_text(const struct cg_diff *d, FILE *out)
{
	char a[64], b[CG_NAME_MAX + 16], c[CG_NAME_MAX + 16], sum[160];
	size_t i, k;

	cg_hex(d->old->sha256, 6, a);
	fprintf(out, "--- %s  policy '%s'  sha256 %s\n",
		d->old->file ? d->old->file : "OLD", d->old->name, a);
	cg_hex(d->new_->sha256, 6, a);
	fprintf(out, "+++ %s  policy '%s'  sha256 %s\n",
		d->new_->file ? d->new_->file : "NEW", d->new_->name, a);
	for (i = 0; i < d->n_items; i++) {
		const struct cg_diff_item *it = &d->items[i];

		fprintf(out, "%s%s%s: ", it->kind, it->subject[0] ? " " : "",
			it->subject);
		if (it->old && it->new_)
			fprintf(out, "%s %s -> %s\n", it->what, it->old,
				it->new_);
		else if (it->new_)
			fprintf(out, "%s, %s\n", it->what, it->new_);
		else if (it->old)
			fprintf(out, "%s (%s)\n", it->what, it->old);
		else
			fprintf(out, "%s\n", it->what);
	}
	for (k = 0; k < CG_DIFF_N_KINDS; k++) {
		if (!d->n_kind[k])
			continue;
		fprintf(out, "%s:\n", kind_title[k]);
		for (i = 0; i < d->n_lines; i++) {
			const struct cg_diff_line *l = &d->lines[i];

			if (l->kind != k)
				continue;
			fprintf(out, "  %s -> %s  %s%s%s  (old: %s; new: %s)\n",
				l->from, l->to, l->proto,
				l->ports[0] ? " " : "", l->ports,
				cg_decision_text(&l->old, d->old, b, sizeof(b)),
				cg_decision_text(&l->new_, d->new_, c,
						 sizeof(c)));
		}
	}
	if (!cg_diff_differs(d))
		fprintf(out, "same: both policies allow and deny the same "
			     "traffic\n");
	cg_diff_summary(d, sum, sizeof(sum));
	fprintf(out, "summary: %s\n", sum);
}

static void json_decision(FILE *out, const struct cg_decision *dec,
			  const struct cg_policy *p)
{
	fprintf(out, "{\"verdict\": \"%s\", \"reason\": \"%s\", \"flow\": ",
		dec->verdict == CG_V_DROP ? "drop" : "pass",
		cg_reason_names[dec->reason]);
	cg_json_str(out, dec->reason == CG_R_ALLOWED && dec->flow < p->n_flows
				 ? p->flows[dec->flow].name
				 : NULL);
	fputc('}', out);
}

static void json_names(FILE *out, char *const *v, size_t n)
{
	size_t i;

	fputc('[', out);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : "", out);
		cg_json_str(out, v[i]);
	}
	fputc(']', out);
}

void cg_policy_json(FILE *out, const struct cg_policy *p)
{
	char sha[65];

	cg_hex(p->sha256, 32, sha);
	fputs("{\"file\": ", out);
	cg_json_str(out, p->file);
	fputs(", \"name\": ", out);
	cg_json_str(out, p->name);
	fprintf(out, ", \"sha256\": \"%s\"}", sha);
}

void cg_diff_summary_json(const struct cg_diff *d, FILE *out)
{
	char sum[160];

	cg_diff_summary(d, sum, sizeof(sum));
	fprintf(out,
		"\"differs\": %s, \"newly_allowed\": %zu, \"newly_denied\": "
		"%zu, \"allowed_otherwise\": %zu, \"other_changes\": %zu, "
		"\"text\": ",
		cg_diff_differs(d) ? "true" : "false",
		d->n_kind[CG_DIFF_ALLOWED], d->n_kind[CG_DIFF_DENIED],
		d->n_kind[CG_DIFF_MOVED], d->n_counted_items);
	cg_json_str(out, sum);
}

void cg_diff_print_json(const struct cg_diff *d, FILE *out)
{
	size_t i;

	fputs("{\"old\": ", out);
	cg_policy_json(out, d->old);
	fputs(", \"new\": ", out);
	cg_policy_json(out, d->new_);
	fputs(", \"changes\": [", out);
	for (i = 0; i < d->n_items; i++) {
		const struct cg_diff_item *it = &d->items[i];

		fprintf(out,
			"%s{\"kind\": \"%s\", \"subject\": ", i ? ", " : "",
			it->kind);
		cg_json_str(out, it->subject[0] ? it->subject : NULL);
		fprintf(out, ", \"what\": \"%s\", \"old\": ", it->what);
		cg_json_str(out, it->old);
		fputs(", \"new\": ", out);
		cg_json_str(out, it->new_);
		fputc('}', out);
	}
	fputs("], \"traffic\": [", out);
	for (i = 0; i < d->n_lines; i++) {
		const struct cg_diff_line *l = &d->lines[i];

		fprintf(out, "%s{\"change\": \"%s\", \"from\": ", i ? ", " : "",
			kind_key[l->kind]);
		json_names(out, l->from_names, l->n_from_names);
		fputs(", \"to\": ", out);
		json_names(out, l->to_names, l->n_to_names);
		fprintf(out, ", \"proto\": \"%s\", \"ports\": ", l->proto);
		cg_json_str(out, l->ports[0] ? l->ports : NULL);
		fputs(", \"old\": ", out);
		json_decision(out, &l->old, d->old);
		fputs(", \"new\": ", out);
		json_decision(out, &l->new_, d->new_);
		fputc('}', out);
	}
	fputs("], \"summary\": {", out);
	cg_diff_summary_json(d, out);
	fputs("}}\n", out);
}
