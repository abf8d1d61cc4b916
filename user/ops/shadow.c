// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow evaluation: apply --shadow, --promote, --shadow-stop, and what
 * status shows of it. See shadow.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hex.h"
#include "gate.h"
#include "history.h"
#include "output.h"
#include "shadow.h"

/*
 * Stop comparing (one write to `live`), then empty the slot. With
 * `only_sha`, only if the candidate in the slot is that policy. *was
 * receives the candidate's metadata. Under the pin root's lock.
 */
static int stop_locked(const struct cg_env *env, const uint8_t *only_sha,
		       struct cg_policy_meta *was)
{
	struct cg_active *sh = NULL;
	struct cg_live l;
	uint32_t slot = CG_SLOT_SHADOW, zero = 0;
	int progs_fd, live_fd, err = 0;

	memset(was, 0, sizeof(*was));
	cg_live_open(env, &progs_fd, &live_fd, &l);
	if (progs_fd < 0 || live_fd < 0) {
		err = -ENOENT;
		goto out;
	}
	cg_instance_open(cg_slot_prog(progs_fd, slot), &sh);
	if (sh)
		*was = *cg_active_meta(sh);
	if (!sh && !l.shadow) {
		err = -ENOENT;
		goto out;
	}
	if (only_sha && (!sh || memcmp(was->sha256, only_sha, 32))) {
		err = -ESTALE;
		goto out;
	}
	if (l.shadow) {
		l.shadow = 0;
		if (bpf_map_update_elem(live_fd, &zero, &l, BPF_ANY)) {
			err = -errno;
			fprintf(stderr,
				"cranegate: switching the shadow off failed: "
				"%s\n",
				strerror(-err));
			goto out;
		}
	}
	bpf_map_delete_elem(progs_fd, &slot);
out:
	cg_active_close(sh);
	if (progs_fd >= 0)
		close(progs_fd);
	if (live_fd >= 0)
		close(live_fd);
	return err;
}

int cg_shadow_start(const struct cg_env *env, const char *policy_path)
{
	struct cg_diags d = {.file = policy_path};
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_gate *g = NULL;
	struct cg_active *live = NULL;
	struct cg_gate_opts go = {.pin_root = env->pin_root,
				  .learn_self = true,
				  .verbose = env->verbose,
				  .slot = CG_SLOT_SHADOW};
	struct cg_live l;
	uint32_t slot = CG_SLOT_SHADOW, zero = 0;
	int err, lock_fd = -1, progs_fd = -1, live_fd = -1, fd;
	const char *why = NULL;
	char sha[65];

	err = cg_policy_load(policy_path, &p, &d);
	if (!err)
		err = cg_compile(p, &c, &d);
	cg_diags_print(&d, stderr);
	if (err) {
		why = "the policy does not parse or validate";
		goto out;
	}
	if ((err = cg_lock(env, &lock_fd)))
		goto out;
	if (cg_active_open(env, &live) || !live) {
		fprintf(stderr,
			"cranegate: no live policy at %s: apply one first, "
			"then shadow a candidate beside it\n",
			env->pin_root);
		why = "no live policy";
		err = -ENOENT;
		goto out;
	}
	cg_live_open(env, &progs_fd, &live_fd, &l);
	if (progs_fd < 0 || live_fd < 0) {
		fprintf(stderr,
			"cranegate: the gate at %s has no hand-off maps (it "
			"predates shadow evaluation): apply the live policy "
			"again first\n",
			env->pin_root);
		why = "no hand-off maps";
		err = -ENOENT;
		goto out;
	}
	/* promote applies this copy. */
	if ((err = cg_history_keep(env, p, policy_path))) {
		why = "no copy of the candidate could be kept";
		goto out;
	}
	if ((err = cg_gate_load(c, &go, &g)))
		goto out;

	/* A candidate already in the slot stops being compared first. */
	if (l.shadow) {
		l.shadow = 0;
		if (bpf_map_update_elem(live_fd, &zero, &l, BPF_ANY)) {
			err = -errno;
			goto fail;
		}
	}
	cg_shadow_reset(env);
	fd = cg_gate_prog_fd(g);
	if (bpf_map_update_elem(progs_fd, &slot, &fd, BPF_ANY)) {
		err = -errno;
		goto fail;
	}
	/* Commit: one write, and every live frame is compared. */
	l.shadow = 1;
	if (bpf_map_update_elem(live_fd, &zero, &l, BPF_ANY)) {
		err = -errno;
		bpf_map_delete_elem(progs_fd, &slot);
		goto fail;
	}
	cg_hex(p->sha256, 32, sha);
	printf("shadowing policy '%s' (sha256 %.16s, %zu flows) beside the "
	       "live '%s': verdicts stay the live policy's; see `cranegate "
	       "status` and `cranegate events`, then `apply --promote` or "
	       "`apply --shadow-stop`\n",
	       p->name, sha, p->n_flows, cg_active_meta(live)->name);
	goto out;
fail:
	fprintf(stderr,
		"cranegate: installing the shadow in %s/progs failed: "
		"%s\n",
		env->pin_root, strerror(-err));
out:
	cg_audit_shadow(env, "shadow", p, NULL, NULL, policy_path, err, why);
	if (progs_fd >= 0)
		close(progs_fd);
	if (live_fd >= 0)
		close(live_fd);
	cg_active_close(live);
	cg_gate_free(g);
	cg_compiled_free(c);
	cg_policy_free(p);
	cg_diags_free(&d);
	cg_unlock(lock_fd);
	return err;
}

int cg_shadow_stop(const struct cg_env *env)
{
	struct cg_policy_meta was;
	int err, lock_fd;

	if ((err = cg_lock(env, &lock_fd)))
		return err;
	err = stop_locked(env, NULL, &was);
	cg_unlock(lock_fd);
	if (err == -ENOENT) {
		fprintf(stderr, "cranegate: no shadow policy at %s\n",
			env->pin_root);
		return err;
	}
	if (!err)
		printf("stopped shadowing policy '%s'; the live policy is "
		       "unchanged\n",
		       was.name);
	cg_audit_shadow(env, "shadow-stop", NULL, was.name[0] ? was.name : NULL,
			was.name[0] ? was.sha256 : NULL, NULL, err, NULL);
	return err;
}

int cg_shadow_promote(const struct cg_env *env, const char *confirm_s)
{
	struct cg_change ch = {.action = "promote"};
	struct cg_policy_meta meta, was;
	struct cg_active *sh = NULL;
	char path[PATH_MAX];
	int err, lock_fd;

	cg_instance_open(cg_gate_slot_prog(env, CG_SLOT_SHADOW, NULL), &sh);
	if (!sh) {
		fprintf(stderr,
			"cranegate: no shadow policy at %s to promote (apply "
			"--shadow POLICY first)\n",
			env->pin_root);
		return -ENOENT;
	}
	meta = *cg_active_meta(sh);
	cg_active_close(sh);
	if (cg_history_copy(env, meta.sha256, path, sizeof(path))) {
		fprintf(stderr,
			"cranegate: the shadow policy '%s' has no kept copy in "
			"%s/policies (shadowed with another --state-dir?); "
			"apply it by its file instead\n",
			meta.name, env->state_dir);
		return -ENOENT;
	}
	err = confirm_s ? cg_apply_confirmed_as(env, path, confirm_s, "promote")
			: cg_apply_change(env, path, &ch);
	if (err)
		return err;
	/* Live now: the comparison has nothing left to say. */
	if (cg_lock(env, &lock_fd))
		return 0;
	if (!stop_locked(env, meta.sha256, &was))
		printf("promoted '%s'; shadow stopped\n", meta.name);
	cg_unlock(lock_fd);
	return 0;
}

static void flows_print(const struct cg_env *env, FILE *out, bool json,
			const struct cg_active *live,
			const struct cg_active *sh)
{
	int fd = cg_pin_fd(env, "shadow_flows");
	struct cg_shadow_key k, next;
	struct cg_counter c;
	void *kp = NULL;
	bool first = true;

	while (fd >= 0 && !bpf_map_get_next_key(fd, kp, &next)) {
		const char *lf, *sf;

		k = next;
		kp = &k;
		if (cg_counter_sum(fd, &k, &c) || !c.packets)
			continue;
		lf = k.live_flow == CG_FLOW_NONE
			     ? NULL
			     : cg_active_flow(live, k.live_flow);
		sf = k.shadow_flow == CG_FLOW_NONE
			     ? NULL
			     : cg_active_flow(sh, k.shadow_flow);
		if (json) {
			fputs(first ? "{\"live_rule\": " : ", {\"live_rule\": ",
			      out);
			cg_json_str(out, lf);
			fprintf(out,
				", \"live_verdict\": \"%s\", \"live_reason\": "
				"\"%s\", \"shadow_rule\": ",
				cg_reason_drops(k.live_reason) ? "drop"
							       : "pass",
				cg_reason_name(k.live_reason));
			cg_json_str(out, sf);
			fprintf(out,
				", \"shadow_verdict\": \"%s\", "
				"\"shadow_reason\": \"%s\", \"packets\": %llu, "
				"\"bytes\": %llu}",
				cg_reason_drops(k.shadow_reason) ? "drop"
								 : "pass",
				cg_reason_name(k.shadow_reason),
				(unsigned long long)c.packets,
				(unsigned long long)c.bytes);
		} else {
			if (first)
				fputs("          disagreements by flow (live "
				      "-> "
				      "shadow):\n",
				      out);
			fprintf(out,
				"            %s (%s) -> %s (%s) %12llu "
				"frames\n",
				lf ? lf : "-", cg_reason_name(k.live_reason),
				sf ? sf : "-", cg_reason_name(k.shadow_reason),
				(unsigned long long)c.packets);
		}
		first = false;
	}
	if (fd >= 0)
		close(fd);
}

void cg_shadow_status(const struct cg_env *env, FILE *out, bool json,
		      const struct cg_active *live)
{
	struct cg_active *sh = NULL;
	const struct cg_policy_meta *m;
	struct cg_event_counter ev = {};
	struct cg_shadow_matrix *t;
	struct cg_live l;
	char tbuf[32], sha[65];
	time_t at;
	struct tm tm;
	uint32_t lr, sr, zero = 0;
	int fd;
	bool first = true;

	cg_instance_open(cg_gate_slot_prog(env, CG_SLOT_SHADOW, &l), &sh);
	t = calloc(1, sizeof(*t));
	if (!sh || !t) {
		fputs(json ? ", \"shadow\": null" : "shadow:   none\n", out);
		cg_active_close(sh);
		free(t);
		return;
	}
	m = cg_active_meta(sh);
	at = m->applied_at;
	gmtime_r(&at, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cg_hex(m->sha256, 32, sha);
	cg_shadow_matrix_read(env, t);
	fd = cg_pin_fd(env, "shadow_event_stats");
	if (fd >= 0) {
		int ncpu = libbpf_num_possible_cpus(), i;
		struct cg_event_counter *v = calloc(ncpu, sizeof(*v));

		if (v && !bpf_map_lookup_elem(fd, &zero, v))
			for (i = 0; i < ncpu; i++) {
				ev.emitted += v[i].emitted;
				ev.lost += v[i].lost;
				ev.suppressed += v[i].suppressed;
			}
		free(v);
		close(fd);
	}

	if (json) {
		fputs(", \"shadow\": {\"policy\": ", out);
		cg_json_str(out, m->name);
		fprintf(out,
			", \"sha256\": \"%s\", \"mode\": \"%s\", \"since\": "
			"\"%s\", \"program_id\": %u, \"comparing\": %s, "
			"\"frames\": %llu, \"agree\": %llu, \"disagree\": "
			"%llu, \"live_pass_shadow_drop\": %llu, "
			"\"live_drop_shadow_pass\": %llu, \"pairs\": [",
			sha, m->mode ? "monitor" : "enforce", tbuf,
			cg_active_prog_id(sh), l.shadow ? "true" : "false",
			t->frames, t->frames - t->disagree, t->disagree,
			t->pass_drop, t->drop_pass);
	} else {
		fprintf(out,
			"shadow:   %s (%s), sha256 %s\n"
			"          since %s, program %u%s\n"
			"          %llu frames compared: %llu agree, %llu "
			"disagree (%llu live pass -> shadow drop, %llu live "
			"drop -> shadow pass)\n",
			m->name, m->mode ? "monitor" : "enforce", sha, tbuf,
			cg_active_prog_id(sh),
			l.shadow ? "; verdicts stay the live policy's"
				 : "; NOT comparing (live.shadow is off)",
			t->frames, t->frames - t->disagree, t->disagree,
			t->pass_drop, t->drop_pass);
	}
	/* Every pair of reasons seen; text shows those that differ. */
	for (lr = 0; lr < CG_R_MAX; lr++)
		for (sr = 0; sr < CG_R_MAX; sr++) {
			const struct cg_counter *c = &t->pair[lr][sr];
			bool differ =
				cg_reason_drops(lr) != cg_reason_drops(sr);

			if (!c->packets)
				continue;
			if (json) {
				fprintf(out,
					"%s{\"live\": \"%s\", \"shadow\": "
					"\"%s\", \"disagree\": %s, "
					"\"packets\": "
					"%llu, \"bytes\": %llu}",
					first ? "" : ", ", cg_reason_name(lr),
					cg_reason_name(sr),
					differ ? "true" : "false",
					(unsigned long long)c->packets,
					(unsigned long long)c->bytes);
				first = false;
			} else if (lr != sr) {
				fprintf(out,
					"          live %-15s -> shadow %-15s "
					"%12llu frames%s\n",
					cg_reason_name(lr), cg_reason_name(sr),
					(unsigned long long)c->packets,
					differ ? "  (verdict differs)" : "");
			}
		}
	fputs(json ? "], \"flows\": [" : "", out);
	flows_print(env, out, json, live, sh);
	if (json)
		fprintf(out,
			"], \"events\": {\"emitted\": %llu, \"lost\": %llu, "
			"\"suppressed\": %llu}}",
			(unsigned long long)ev.emitted,
			(unsigned long long)ev.lost,
			(unsigned long long)ev.suppressed);
	else
		fprintf(out,
			"          disagreement events: %llu emitted, %llu "
			"lost, %llu suppressed\n",
			(unsigned long long)ev.emitted,
			(unsigned long long)ev.lost,
			(unsigned long long)ev.suppressed);
	cg_active_close(sh);
	free(t);
}
