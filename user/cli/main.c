// SPDX-License-Identifier: GPL-2.0
/*
 * cranegate: the command line. A table of subcommands, each with its
 * usage line and options; options may come before or after arguments.
 * Functions below return 0 or a negative errno; only main() turns that
 * into an exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "compile.h"
#include "daemon.h"
#include "diff.h"
#include "history.h"
#include "lint.h"
#include "loader.h"
#include "metrics.h"
#include "perm.h"
#include "replay.h"
#include "runlock.h"
#include "self.h"
#include "shadow.h"
#include "status_print.h"
#include "learn.h"

struct args {
	struct cg_env env;
	const char *policy; /* --policy */
	const char *iface;  /* --iface */
	bool by_source;
	long long count;
	int timeout;
	/* run, metrics, capture */
	const char *log;     /* --log FILE */
	const char *metrics; /* --metrics ADDR:PORT */
	long long summary;   /* --summary SECONDS, or -1 */
	const char *ipfix;   /* run --ipfix HOST:PORT */
	bool detach_on_exit;
	bool no_reload; /* run --no-reload */
	bool watch;	/* run --watch */
	bool insecure;	/* trust a policy file others can write */
	const char *reason, *flow, *zone; /* capture filters */
	const char *write;		  /* -w FILE */
	bool all;			  /* capture --all */
	/* check, diff, apply --confirm */
	bool strict;	     /* check --strict */
	const char *confirm; /* apply --confirm SECONDS */
	const char *pcap;    /* diff --pcap CAPTURE */
	bool shadow;	     /* apply --shadow */
	bool promote;	     /* apply --promote */
	bool shadow_stop;    /* apply --shadow-stop */
	bool force; /* apply --force: even if it cuts this SSH session */
	char **pos; /* positional arguments */
	int n_pos;
};

/* Long-only options: values beyond any char, so no short option clashes. */
enum {
	OPT_LOG = 0x200,
	OPT_METRICS,
	OPT_SUMMARY,
	OPT_DETACH_ON_EXIT,
	OPT_REASON,
	OPT_FLOW,
	OPT_ZONE,
	OPT_ALL,
	OPT_STRICT,
	OPT_CONFIRM,
	OPT_PCAP,
	OPT_INSECURE,
	OPT_NO_RELOAD,
	OPT_WATCH,
	OPT_SHADOW,
	OPT_PROMOTE,
	OPT_SHADOW_STOP,
	OPT_IPFIX,
	OPT_FORCE,
};

struct command {
	const char *name;
	const char *usage;
	const char *help;
	int n_pos; /* positional arguments required */
	int (*run)(struct args *a);
	int n_opt_pos; /* optional positional arguments after those */
	/* The long options it takes, space-separated, besides those every
	 * command takes (--pin-root, --state-dir, --verbose, --help). Any
	 * other is a usage error. */
	const char *opts;
};

static int do_check(struct args *a)
{
	struct cg_diags d = {.file = a->pos[0]};
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	int err;

	/* check changes nothing: it warns where apply would refuse. */
	if (!a->insecure)
		cg_policy_perm_check(a->pos[0], true, stderr);
	err = cg_policy_load(a->pos[0], &p, &d);
	if (!err)
		err = cg_compile(p, &c, &d);
	/* Nothing reaches the gateway: its SSH and other services are
	 * closed to every zone (README, "The gateway itself"). */
	if (!err && p->n_zones && !cg_policy_reaches_self(p))
		cg_diag_add(&d, CG_WARNING, (struct cg_pos){1, 1},
			    "no flow reaches self: the gateway's own services "
			    "(SSH, ...) are closed to every zone; add a flow "
			    "with `to: self` from the zone that manages it");
	if (!err)
		err = cg_lint_check(p, &d, a->strict);
	cg_diags_print(&d, stderr);
	cg_audit_check(&a->env, a->pos[0], p, &d, err);
	if (!err) {
		printf("%s: policy '%s' is valid: %zu zones, %zu hosts, %zu "
		       "flows, mode %s\n",
		       a->pos[0], p->name, p->n_zones, p->n_hosts, p->n_flows,
		       p->mode == CG_POLICY_MONITOR ? "monitor" : "enforce");
		cg_compiled_summary(c, stdout);
	}
	cg_compiled_free(c);
	cg_policy_free(p);
	cg_diags_free(&d);
	return err ? -EINVAL : 0;
}

/*
 * apply over SSH: refuse a policy that would cut the session it is applied
 * over (README, "The gateway itself"). The loader asks this (the vet hook)
 * of the policy it has just parsed and compiled, before anything changes;
 * only `apply POLICY` without --force sets ssh_vet_on. 0: go on;
 * CG_EXIT_CUTS_SSH: refused (recorded in the audit log as failed).
 */
#define CG_EXIT_CUTS_SSH 3

static bool ssh_vet_on;

static int ssh_vet(const struct cg_env *env, struct cg_change *ch,
		   const struct cg_policy *p, const struct cg_compiled *c,
		   const char *path)
{
	const char *session = getenv("SSH_CONNECTION");
	char why[1024];

	(void)env;
	if (!ssh_vet_on || !session ||
	    (ch->action && strcmp(ch->action, "apply")))
		return 0;
	if (cg_self_ssh_cut(p, c, session, why, sizeof(why)) != 1)
		return 0;
	fprintf(stderr,
		"cranegate apply: refused: %s would cut the SSH session this "
		"apply runs over: %s"
		"Nothing was changed. Apply with --force to cut the session "
		"anyway.\n",
		path, why);
	ch->why = "the policy would cut the SSH session the apply ran over";
	return CG_EXIT_CUTS_SSH;
}

static int do_apply(struct args *a)
{
	int modes = a->shadow + a->promote + a->shadow_stop;
	int err;

	if (modes > 1 ||
	    (a->promote || a->shadow_stop ? a->n_pos : !a->n_pos) ||
	    ((a->shadow || a->shadow_stop) && a->confirm)) {
		fprintf(stderr,
			"usage: cranegate apply [--confirm SECONDS] "
			"[--insecure] [--force] POLICY\n"
			"       cranegate apply --shadow [--insecure] POLICY\n"
			"       cranegate apply --promote [--confirm SECONDS]\n"
			"       cranegate apply --shadow-stop\n");
		return 2;
	}
	/* A policy file from the operator (not our kept copy) must be
	 * safe from other users. */
	if (a->n_pos && !a->insecure &&
	    (err = cg_policy_perm_check(a->pos[0], false, stderr)))
		return err;
	ssh_vet_on = a->n_pos && !a->shadow && !a->force;
	if (a->shadow)
		return cg_shadow_start(&a->env, a->pos[0]);
	if (a->shadow_stop)
		return cg_shadow_stop(&a->env);
	if (a->promote)
		return cg_shadow_promote(&a->env, a->confirm);
	if (a->confirm)
		return cg_apply_confirmed(&a->env, a->pos[0], a->confirm);
	return cg_apply(&a->env, a->pos[0]);
}

static int do_status(struct args *a)
{
	return cg_status(&a->env, stdout);
}

static int do_events(struct args *a)
{
	return cg_events_run(&a->env, a->count, a->timeout);
}

static int do_detach(struct args *a)
{
	int pid;

	/* run would put the gate back at once: it re-guards. */
	if (cg_run_holder(&a->env, &pid)) {
		fprintf(stderr,
			"cranegate detach: `cranegate run` (pid %d) manages "
			"the "
			"gate at %s and would attach it again at once; stop it "
			"first (systemctl stop cranegate, or kill %d), then "
			"detach, or stop it with `run --detach-on-exit`\n",
			pid, a->env.pin_root, pid);
		return -EBUSY;
	}
	return cg_detach(&a->env);
}

static int do_replay(struct args *a)
{
	struct cg_replay_opts o = {
		.policy_path = a->policy,
		.capture = a->pos[0],
		.iface = a->iface,
		.by_source = a->by_source,
		.json = a->env.json,
		.verbose = a->env.verbose,
	};

	if (!a->policy || (!a->iface == !a->by_source)) {
		fprintf(stderr, "cranegate replay: needs --policy POLICY and "
				"one of --iface IFNAME or --by-source\n");
		return -EINVAL;
	}
	return cg_replay(&o);
}

static int do_learn(struct args *a)
{
	struct cg_learn_opts o = {
		.zones = a->pos[0],
		.pcap = a->pcap,
		.log = a->log,
		.iface = a->iface,
		.by_source = a->by_source,
	};

	if (!a->pcap == !a->log || (a->pcap && !a->iface == !a->by_source)) {
		fprintf(stderr,
			"cranegate learn: needs --pcap CAPTURE with one of "
			"--iface IFNAME or --by-source, or --log RUN_LOG\n");
		return 2;
	}
	return cg_learn(&o, stdout);
}

static int do_run(struct args *a)
{
	struct cg_run_opts o = {
		.policy = a->pos[0],
		.log_path = a->log,
		.metrics = a->metrics,
		.summary_s = 60,
		.detach_on_exit = a->detach_on_exit,
		.no_reload = a->no_reload,
		.watch = a->watch,
		.insecure = a->insecure,
		.ipfix = a->ipfix,
	};

	if (a->watch && a->no_reload) {
		fprintf(stderr, "cranegate run: --watch reloads the policy, "
				"--no-reload forbids it: choose one\n");
		return 2;
	}
	if (a->summary >= 0)
		o.summary_s = (int)a->summary;
	return cg_run(&a->env, &o);
}

static int do_metrics(struct args *a)
{
	return cg_metrics_print(&a->env, stdout);
}

static int do_top(struct args *a)
{
	return cg_top_run(&a->env, a->count);
}

static int do_capture(struct args *a)
{
	struct cg_capture_opts o = {
		.path = a->write,
		.reason = a->reason,
		.flow = a->flow,
		.zone = a->zone,
		.all = a->all,
		.count = a->count,
		.timeout_s = a->timeout,
	};

	return cg_capture_run(&a->env, &o);
}

/* diff's exit status is diff(1)'s: 0 same, 1 different, 2 trouble. */
static int do_diff(struct args *a)
{
	char old_path[PATH_MAX], new_path[PATH_MAX];
	struct cg_diff_opts o = {
		.old_path = a->pos[0],
		.new_path = a->pos[1],
		.capture = a->pcap,
		.iface = a->iface,
		.by_source = a->by_source,
		.json = a->env.json,
		.verbose = a->env.verbose,
	};
	int err;

	if (a->pcap && !a->iface == !a->by_source) {
		fprintf(stderr, "cranegate diff: --pcap needs one of --iface "
				"IFNAME or --by-source\n");
		return 2;
	}
	/* @active / @REV: the copy the state directory keeps. */
	if (o.old_path[0] == '@') {
		if (cg_history_policy_path(&a->env, o.old_path + 1, old_path,
					   sizeof(old_path)))
			return 2;
		o.old_path = old_path;
	}
	if (o.new_path[0] == '@') {
		if (cg_history_policy_path(&a->env, o.new_path + 1, new_path,
					   sizeof(new_path)))
			return 2;
		o.new_path = new_path;
	}
	err = cg_diff_run(&o);
	return err < 0 ? 2 : err;
}

static int do_history(struct args *a)
{
	return cg_history_print(&a->env, stdout);
}

static int do_rollback(struct args *a)
{
	return cg_rollback(&a->env, a->n_pos ? a->pos[0] : NULL);
}

static int do_confirm(struct args *a)
{
	return cg_confirm(&a->env);
}

static const struct command commands[] = {
	{"check", "check [--strict] [--insecure] POLICY",
	 "Parse, validate and compile POLICY; print every error as\n"
	 "FILE:LINE:COL: error: MESSAGE, or the compiled sizes. Exit 0 if "
	 "valid,\n"
	 "1 if not. Touches nothing in the kernel. Also warns (FILE:LINE:COL:\n"
	 "warning:) about flows that never decide a frame (duplicate, "
	 "shadowed,\n"
	 "or taken by earlier flows or the zone rules), hosts and zones no\n"
	 "flow uses, and a policy in which no flow reaches `self` (the\n"
	 "gateway's own services); --strict makes every warning an error.\n"
	 "--insecure leaves out the warning about a policy file others can\n"
	 "write.",
	 1, do_check, 0, "strict insecure"},
	{"apply",
	 "apply [--confirm SECONDS] [--insecure] [--force] POLICY | --shadow "
	 "POLICY | "
	 "--promote [--confirm SECONDS] | --shadow-stop",
	 "Compile POLICY, load it as a new instance and switch every "
	 "interface\n"
	 "the policy names to it atomically (no frame sees a mix of two\n"
	 "policies). If anything fails, nothing changes. Every applied policy\n"
	 "is kept in the state directory (see history). With --confirm, the\n"
	 "previous policy comes back by itself after SECONDS unless\n"
	 "`cranegate confirm` runs first, even if this shell dies.\n"
	 "POLICY must not be writable by anyone but root (or you): not by its\n"
	 "group or others, nor its directories unless sticky; otherwise apply\n"
	 "refuses it, unless --insecure.\n"
	 "Run over SSH (SSH_CONNECTION), apply refuses a POLICY that would\n"
	 "cut the session (no `to: self` flow from the client to the port it\n"
	 "is connected to), naming the flow to add; exit 3, nothing changed.\n"
	 "--force applies it anyway.\n"
	 "--shadow POLICY judges every live frame with POLICY too, without\n"
	 "changing a verdict; status and events show where they disagree.\n"
	 "--promote applies the shadowed policy (as apply does, --confirm\n"
	 "too) and ends the shadow; --shadow-stop ends it without applying.\n"
	 "A plain apply keeps the shadow; detach ends it.\n"
	 "Every interface must show the gate its outer VLAN tag: where the\n"
	 "NIC strips it and the driver reports it to XDP, a front program\n"
	 "reads it; else rx VLAN offload is turned off (detach turns it back\n"
	 "on); else the interface is refused, and nothing changes.",
	 0, do_apply, 1, "confirm insecure force shadow promote shadow-stop"},
	{"status", "status [--json]",
	 "Attached interfaces (XDP mode; VLAN tags seen in metadata, in the\n"
	 "frame, or blind), the active policy (name, sha256, applied at),\n"
	 "per-reason and per-flow counters, and event counts.",
	 0, do_status, 0, "json"},
	{"events", "events [--json] [--count N] [--timeout SECONDS]",
	 "Stream events (drops, monitor-mode would-drops, and new connections\n"
	 "of flows with `log: true`) as they happen, until signalled. While\n"
	 "`run` serves the gate they come from run, so that run's log and\n"
	 "every reader each see every event; otherwise from the ring buffer.\n"
	 "--count N stops after N events, --timeout SECONDS after that long.",
	 0, do_events, 0, "json count timeout"},
	{"replay",
	 "replay --policy POLICY (--iface IFNAME | --by-source) [--json] "
	 "CAPTURE",
	 "Run every frame of a pcap/pcapng capture, in order, through the "
	 "real\n"
	 "XDP program with private maps, as if it arrived on IFNAME (or, with\n"
	 "--by-source, on the interface of the zone holding its source). "
	 "Never\n"
	 "touches the running gate. Exit 2 if CAPTURE cannot be read to its\n"
	 "end (truncated, a pcapng interface that is not Ethernet), after\n"
	 "printing what was judged.",
	 1, do_replay, 0, "policy iface by-source json"},
	{"learn",
	 "learn ZONES (--pcap CAPTURE (--iface IFNAME | --by-source) | --log "
	 "RUN_LOG)",
	 "Print a policy (YAML) whose flows admit the connections seen in\n"
	 "CAPTURE, or in RUN_LOG (run's connection records, and in mode:\n"
	 "monitor the events of what it would have dropped): the zones and\n"
	 "hosts of ZONES (a policy file), one flow per (source, destination,\n"
	 "protocol) with the ports seen, from and to single hosts, modbus: or\n"
	 "s7comm: read-only where every request seen was a read, else the\n"
	 "function codes seen (enip: read-only or any); a comment on each\n"
	 "flow says how many connections, first and last. Exit 2 if ZONES\n"
	 "or the input cannot be read.",
	 1, do_learn, 0, "pcap log iface by-source"},
	{"detach", "detach",
	 "Detach the gate from every interface and remove its pins.\n"
	 "Refuses while `cranegate run` manages the gate (it would attach it\n"
	 "again at once): stop the service first.",
	 0, do_detach, 0, ""},
	{"run",
	 "run POLICY [--log FILE] [--metrics ADDR:PORT] [--summary SECONDS] "
	 "[--watch] [--detach-on-exit] [--no-reload] [--insecure] "
	 "[--ipfix HOST:PORT]",
	 "Apply POLICY, then stream events as JSON lines to FILE (or stdout)\n"
	 "and to syslog, serve Prometheus metrics on http://ADDR:PORT/metrics\n"
	 "and write a summary line every SECONDS (default 60, 0: none).\n"
	 "SIGHUP re-applies POLICY (a broken file changes nothing); with\n"
	 "--watch, so does saving a changed POLICY (written in place or\n"
	 "renamed over it, or a symlink on the way to it changed, such as a\n"
	 "ConfigMap's ..data). SIGUSR1 only reopens FILE (logrotate). A\n"
	 "pending apply --confirm survives re-guards and restarts (run\n"
	 "applies it at start); a reload of another policy ends it. One run\n"
	 "per pin root. SIGTERM or SIGINT stop it and leave the gate\n"
	 "enforcing,\n"
	 "unless --detach-on-exit. Owns the event ring buffer and hands every\n"
	 "event on to `events` and `capture` (a socket in the state dir).\n"
	 "If an interface of the policy is removed and comes back, run "
	 "applies\n"
	 "the active policy again (rtnetlink), so that it is guarded again.\n"
	 "After the first apply, run drops every capability but CAP_BPF,\n"
	 "CAP_NET_ADMIN, CAP_PERFMON and CAP_SYS_ADMIN (reloads need them);\n"
	 "with --no-reload (SIGHUP is ignored, and interfaces are not\n"
	 "guarded again) it keeps only CAP_BPF and CAP_SYS_ADMIN, to read the\n"
	 "maps (and CAP_NET_ADMIN with --detach-on-exit). POLICY is checked\n"
	 "as by apply (--insecure) on every reload.\n"
	 "Connection records: one JSON line (\"type\": \"connection\") per\n"
	 "connection when it ends (fin, rst, idle, window, evicted) and an\n"
	 "interim one every `limits: record_interval` seconds (default 300);\n"
	 "with --ipfix HOST:PORT (UDP; tcp://HOST:PORT for TCP) also as IPFIX\n"
	 "(RFC 7011, biflow RFC 5103) to that collector.",
	 1, do_run, 0,
	 "log metrics summary watch detach-on-exit no-reload insecure ipfix"},
	{"metrics", "metrics",
	 "Print the gate's counters once in the Prometheus text format (for\n"
	 "node_exporter's textfile collector); the same text as /metrics.",
	 0, do_metrics, 0, ""},
	{"top", "top [--count N]",
	 "A live view of the busiest verdict reasons and flows (packets and\n"
	 "bits per second, totals) and of event rates, refreshed every "
	 "second;\n"
	 "--count N stops after N refreshes.",
	 0, do_top, 0, "count"},
	{"capture",
	 "capture [--reason R] [--flow F] [--zone Z] [--all] [--count N] "
	 "[--timeout SECONDS] -w FILE",
	 "Write dropped frames (and monitor-mode would-drops; with --all also\n"
	 "logged passes) to FILE as pcap, the first 128 bytes of each, until\n"
	 "signalled, N frames or SECONDS. -w - writes to stdout. Reads run's\n"
	 "events while `run` serves the gate (run's log keeps every one), the\n"
	 "ring buffer otherwise.",
	 0, do_capture, 0, "reason flow zone all count timeout write"},
	{"diff",
	 "diff [--json] OLD NEW [--pcap CAPTURE (--iface IFNAME | "
	 "--by-source)]",
	 "What NEW changes against OLD: the traffic it newly allows and newly\n"
	 "denies (zones, hosts and CIDRs x protocol x ports, with the "
	 "deciding\n"
	 "flow or rule on each side), and changes of zones, hosts, flows and\n"
	 "mode. With --pcap: replay CAPTURE through both policies (the real\n"
	 "program, private maps) and list the conversations whose verdict\n"
	 "changes. OLD or NEW may be @active (the active policy) or @REV (a\n"
	 "revision of the history). Exit 0 same, 1 different, 2 trouble (a\n"
	 "capture that cannot be read to its end is trouble).",
	 2, do_diff, 0, "json pcap iface by-source"},
	{"history", "history [--json]",
	 "The policies applied with this state directory, newest first: "
	 "revision,\n"
	 "time, action, policy name, sha256, user and result; also failed\n"
	 "applies, confirmations, reverts and detaches.",
	 0, do_history, 0, "json"},
	{"rollback", "rollback [REV]",
	 "Apply revision REV of the history again (default: the revision that\n"
	 "was active before the current one), atomically, as apply does.",
	 0, do_rollback, 1, ""},
	{"confirm", "confirm",
	 "Keep the policy of a pending `apply --confirm`. Exit 1 if nothing "
	 "was\n"
	 "pending (it may have been reverted already: see history).",
	 0, do_confirm, 0, ""},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: cranegate COMMAND [OPTIONS] [ARGS]\n\n"
		     "An XDP boundary gate for crane networks: zones, an "
		     "allowlist of\n"
		     "flows, and line-rate drops of everything "
		     "else.\n\ncommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  cranegate %s\n", commands[i].usage);
	fprintf(out,
		"\noptions for every command:\n"
		"  --pin-root DIR    where maps and the program are pinned\n"
		"                    (default /sys/fs/bpf/cranegate)\n"
		"  --state-dir DIR   policy copies and history (default "
		"/var/lib/cranegate)\n"
		"  --verbose         show libbpf's messages (the verifier log "
		"on failure)\n"
		"  -h, --help        this text; `cranegate COMMAND --help` for "
		"one command\n\n"
		"A typical change: cranegate check --strict new.yaml && "
		"cranegate diff\n"
		"live.yaml new.yaml && cranegate diff live.yaml new.yaml "
		"--by-source\n"
		"--pcap recorded.pcap; cranegate apply --shadow new.yaml, "
		"watch\n"
		"cranegate status; cranegate apply --promote --confirm 120, "
		"test,\n"
		"cranegate confirm (or cranegate rollback)\n");
}

/* Does CMD take the long option NAME? */
static bool takes_option(const struct command *cmd, const char *name)
{
	static const char *const common[] = {"pin-root", "state-dir", "verbose",
					     "help"};
	size_t i, n = strlen(name);
	const char *p;

	for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (!strcmp(name, common[i]))
			return true;
	for (p = cmd->opts; p && *p;) {
		size_t w = strcspn(p, " ");

		if (w == n && !strncmp(p, name, n))
			return true;
		p += w;
		p += strspn(p, " ");
	}
	return false;
}

/* A usage error: what is wrong, then the command's usage; exit 2. */
static int usage_error(const struct command *cmd, const char *fmt,
		       const char *what)
{
	fprintf(stderr, "cranegate %s: ", cmd->name);
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nusage: cranegate %s\n", cmd->usage);
	return 2;
}

/* OPTARG as a whole number from MIN to MAX, or -1 (after saying so). */
static int parse_number(const struct command *cmd, const char *opt,
			const char *optarg_, long long min, long long max,
			long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(optarg_, &end, 10);
	if (errno || end == optarg_ || *end || v < min || v > max) {
		fprintf(stderr,
			"cranegate %s: --%s wants a whole number from %lld to "
			"%lld, not '%s'\nusage: cranegate %s\n",
			cmd->name, opt, min, max, optarg_, cmd->usage);
		return -1;
	}
	*out = v;
	return 0;
}

/* The layers above the apply transaction, handed to it as hooks. */
static const struct cg_change_hooks hooks = {
	.vet = ssh_vet,
	.prepare = cg_change_prepare,
	.begin = cg_change_begin,
	.end = cg_change_end,
	.detaching = cg_change_detaching,
	.detached = cg_change_detached,
	.rev_of_id = cg_history_rev_of_id,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pin-root", required_argument, NULL, 'P'},
		{"state-dir", required_argument, NULL, 'S'},
		{"verbose", no_argument, NULL, 'v'},
		{"json", no_argument, NULL, 'j'},
		{"policy", required_argument, NULL, 'p'},
		{"iface", required_argument, NULL, 'i'},
		{"by-source", no_argument, NULL, 'b'},
		{"count", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 't'},
		{"log", required_argument, NULL, OPT_LOG},
		{"metrics", required_argument, NULL, OPT_METRICS},
		{"summary", required_argument, NULL, OPT_SUMMARY},
		{"ipfix", required_argument, NULL, OPT_IPFIX},
		{"detach-on-exit", no_argument, NULL, OPT_DETACH_ON_EXIT},
		{"reason", required_argument, NULL, OPT_REASON},
		{"flow", required_argument, NULL, OPT_FLOW},
		{"zone", required_argument, NULL, OPT_ZONE},
		{"all", no_argument, NULL, OPT_ALL},
		{"write", required_argument, NULL, 'w'},
		{"strict", no_argument, NULL, OPT_STRICT},
		{"confirm", required_argument, NULL, OPT_CONFIRM},
		{"pcap", required_argument, NULL, OPT_PCAP},
		{"insecure", no_argument, NULL, OPT_INSECURE},
		{"force", no_argument, NULL, OPT_FORCE},
		{"no-reload", no_argument, NULL, OPT_NO_RELOAD},
		{"watch", no_argument, NULL, OPT_WATCH},
		{"shadow", no_argument, NULL, OPT_SHADOW},
		{"promote", no_argument, NULL, OPT_PROMOTE},
		{"shadow-stop", no_argument, NULL, OPT_SHADOW_STOP},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	struct args a = {
		.summary = -1,
		.env = {.pin_root = "/sys/fs/bpf/cranegate",
			.state_dir = "/var/lib/cranegate"},
	};
	const struct command *cmd = NULL;
	bool help = false;
	long long num;
	size_t i;
	int c, err, k, li;

	/* Every change is recorded: history and shadow hook into the
	 * transaction (loader.h), which does not call up to them. */
	cg_change_hooks_set(&hooks);

	/* The command is the first word that names one, so that options may
	 * come before it too (cranegate --pin-root DIR status). */
	for (k = 1; k < argc && !cmd; k++) {
		for (i = 0; i < N_COMMANDS; i++)
			if (!strcmp(argv[k], commands[i].name))
				cmd = &commands[i];
		if (!cmd && argv[k][0] != '-' &&
		    (k == 1 || (strcmp(argv[k - 1], "--pin-root") &&
				strcmp(argv[k - 1], "--state-dir"))))
			break;
	}
	if (!cmd) {
		bool want_help = argc < 2;

		for (k = 1; k < argc; k++)
			if (!strcmp(argv[k], "-h") ||
			    !strcmp(argv[k], "--help") ||
			    !strcmp(argv[k], "help"))
				want_help = true;
		if (want_help) {
			usage(argc < 2 ? stderr : stdout);
			return argc < 2 ? 2 : 0;
		}
		fprintf(stderr, "cranegate: unknown command '%s'\n\n",
			k < argc ? argv[k] : argv[argc - 1]);
		usage(stderr);
		return 2;
	}
	/* Drop the command word; getopt permutes the rest. */
	for (k--; k + 1 < argc; k++)
		argv[k] = argv[k + 1];
	argc--;
	/* getopt's own complaint (unknown option, missing argument) is
	 * followed by the command's usage; so is an option of another
	 * command. */
	for (li = -1; (c = getopt_long(argc, argv, "hvw:", opts, &li)) != -1;
	     li = -1) {
		const char *name = li >= 0    ? opts[li].name
				   : c == 'w' ? "write"
				   : c == 'v' ? "verbose"
				   : c == 'h' ? "help"
					      : NULL;

		if (name && !takes_option(cmd, name))
			return usage_error(cmd,
					   "--%s is not an option of this "
					   "command",
					   name);
		switch (c) {
		case 'P':
			a.env.pin_root = optarg;
			break;
		case 'S':
			a.env.state_dir = optarg;
			break;
		case 'v':
			a.env.verbose = true;
			break;
		case 'j':
			a.env.json = true;
			break;
		case 'p':
			a.policy = optarg;
			break;
		case 'i':
			a.iface = optarg;
			break;
		case 'b':
			a.by_source = true;
			break;
		case 'c':
			if (parse_number(cmd, "count", optarg, 1,
					 1000000000000LL, &a.count))
				return 2;
			break;
		case 't':
			if (parse_number(cmd, "timeout", optarg, 1, INT_MAX,
					 &num))
				return 2;
			a.timeout = (int)num;
			break;
		case OPT_LOG:
			a.log = optarg;
			break;
		case OPT_METRICS:
			a.metrics = optarg;
			break;
		case OPT_SUMMARY:
			if (parse_number(cmd, "summary", optarg, 0, 31536000,
					 &a.summary))
				return 2;
			break;
		case OPT_IPFIX:
			a.ipfix = optarg;
			break;
		case OPT_DETACH_ON_EXIT:
			a.detach_on_exit = true;
			break;
		case OPT_REASON:
			a.reason = optarg;
			break;
		case OPT_FLOW:
			a.flow = optarg;
			break;
		case OPT_ZONE:
			a.zone = optarg;
			break;
		case OPT_ALL:
			a.all = true;
			break;
		case 'w':
			a.write = optarg;
			break;
		case OPT_STRICT:
			a.strict = true;
			break;
		case OPT_CONFIRM:
			a.confirm = optarg;
			break;
		case OPT_PCAP:
			a.pcap = optarg;
			break;
		case OPT_INSECURE:
			a.insecure = true;
			break;
		case OPT_FORCE:
			a.force = true;
			break;
		case OPT_WATCH:
			a.watch = true;
			break;
		case OPT_NO_RELOAD:
			a.no_reload = true;
			break;
		case OPT_SHADOW:
			a.shadow = true;
			break;
		case OPT_PROMOTE:
			a.promote = true;
			break;
		case OPT_SHADOW_STOP:
			a.shadow_stop = true;
			break;
		case 'h':
			help = true;
			break;
		default:
			fprintf(stderr, "usage: cranegate %s\n", cmd->usage);
			return 2;
		}
	}
	if (help) {
		printf("usage: cranegate %s\n\n%s\n", cmd->usage, cmd->help);
		return 0;
	}
	a.pos = argv + optind;
	a.n_pos = argc - optind;
	if (a.n_pos < cmd->n_pos || a.n_pos > cmd->n_pos + cmd->n_opt_pos) {
		fprintf(stderr, "usage: cranegate %s\n", cmd->usage);
		return 2;
	}
	err = cmd->run(&a);
	if (err == -EINVAL && !strcmp(cmd->name, "check"))
		return 1;
	/* A positive value is the exit status itself (diff). */
	if (err > 0)
		return err;
	return err ? 1 : 0;
}
