// SPDX-License-Identifier: GPL-2.0
/*
 * cranegate: the command line. A table of subcommands, each with its
 * usage line and options; options may come before or after arguments.
 * Functions below return 0 or a negative errno; only main() turns that
 * into an exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "loader.h"
#include "replay.h"

struct args {
	struct cg_env env;
	const char *policy;	/* --policy */
	const char *iface;	/* --iface */
	bool by_source;
	long long count;
	int timeout;
	char **pos;		/* positional arguments */
	int n_pos;
};

struct command {
	const char *name;
	const char *usage;
	const char *help;
	int n_pos;	/* positional arguments required */
	int (*run)(struct args *a);
};

static int do_check(struct args *a)
{
	struct cg_diags d = { .file = a->pos[0] };
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	int err;

	err = cg_policy_load(a->pos[0], &p, &d);
	if (!err)
		err = cg_compile(p, &c, &d);
	cg_diags_print(&d, stderr);
	if (!err) {
		printf("%s: policy '%s' is valid: %zu zones, %zu hosts, %zu flows, mode %s\n",
		       a->pos[0], p->name, p->n_zones, p->n_hosts, p->n_flows,
		       p->mode == CG_POLICY_MONITOR ? "monitor" : "enforce");
		cg_compiled_summary(c, stdout);
	}
	cg_compiled_free(c);
	cg_policy_free(p);
	cg_diags_free(&d);
	return err ? -EINVAL : 0;
}

static int do_apply(struct args *a)
{
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
		fprintf(stderr, "cranegate replay: needs --policy POLICY and one of --iface IFNAME or --by-source\n");
		return -EINVAL;
	}
	return cg_replay(&o);
}

static const struct command commands[] = {
	{ "check", "check POLICY",
	  "Parse, validate and compile POLICY; print every error as\n"
	  "FILE:LINE:COL: error: MESSAGE, or the compiled sizes. Exit 0 if valid,\n"
	  "1 if not. Touches nothing in the kernel.",
	  1, do_check },
	{ "apply", "apply POLICY",
	  "Compile POLICY, load it as a new instance and switch every interface\n"
	  "the policy names to it atomically (no frame sees a mix of two\n"
	  "policies). If anything fails, nothing changes.",
	  1, do_apply },
	{ "status", "status [--json]",
	  "Attached interfaces, the active policy (name, sha256, applied at),\n"
	  "per-reason and per-flow counters, and event counts.",
	  0, do_status },
	{ "events", "events [--json] [--count N] [--timeout SECONDS]",
	  "Stream events (drops, monitor-mode would-drops, and new connections\n"
	  "of flows with `log: true`) as they happen, until signalled.",
	  0, do_events },
	{ "replay",
	  "replay --policy POLICY (--iface IFNAME | --by-source) [--json] CAPTURE",
	  "Run every frame of a pcap/pcapng capture, in order, through the real\n"
	  "XDP program with private maps, as if it arrived on IFNAME (or, with\n"
	  "--by-source, on the interface of the zone holding its source). Never\n"
	  "touches the running gate.",
	  1, do_replay },
	{ "detach", "detach",
	  "Detach the gate from every interface and remove its pins.", 0,
	  do_detach },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: cranegate COMMAND [OPTIONS] [ARGS]\n\n"
		"An XDP boundary gate for crane networks: zones, an allowlist of\n"
		"flows, and line-rate drops of everything else.\n\ncommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  cranegate %s\n", commands[i].usage);
	fprintf(out,
		"\noptions for every command:\n"
		"  --pin-root DIR    where maps and the program are pinned\n"
		"                    (default /sys/fs/bpf/cranegate)\n"
		"  --state-dir DIR   policy copies and history (default /var/lib/cranegate)\n"
		"  --verbose         show libbpf's messages (the verifier log on failure)\n"
		"  -h, --help        this text; `cranegate COMMAND --help` for one command\n\n"
		"A typical change: cranegate check new.yaml && cranegate replay --policy\n"
		"new.yaml --by-source recorded.pcap && cranegate apply new.yaml\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-root", required_argument, NULL, 'P' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "policy", required_argument, NULL, 'p' },
		{ "iface", required_argument, NULL, 'i' },
		{ "by-source", no_argument, NULL, 'b' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct args a = {
		.env = { .pin_root = "/sys/fs/bpf/cranegate",
			 .state_dir = "/var/lib/cranegate" },
	};
	const struct command *cmd = NULL;
	bool help = false;
	size_t i;
	int c, err, k;

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
			if (!strcmp(argv[k], "-h") || !strcmp(argv[k], "--help") ||
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
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
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
			a.count = atoll(optarg);
			break;
		case 't':
			a.timeout = atoi(optarg);
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
	if (a.n_pos != cmd->n_pos) {
		fprintf(stderr, "usage: cranegate %s\n", cmd->usage);
		return 2;
	}
	err = cmd->run(&a);
	if (err == -EINVAL && !strcmp(cmd->name, "check"))
		return 1;
	return err ? 1 : 0;
}
