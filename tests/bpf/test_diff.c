// SPDX-License-Identifier: GPL-2.0
/*
 * The differential test: random policies and random frames through the
 * real XDP program (BPF_PROG_TEST_RUN) and through the reference
 * evaluator (user/policy/reference.c), which must agree on every frame:
 * verdict, reason, the reason it would have had (monitor mode), the deciding
 * flow, and the ingress and destination zones where both know them.
 *
 * Environment:
 *   CG_DIFF_POLICIES  policies to try (default 100)
 *   CG_DIFF_FRAMES    frames per policy (default 10000)
 *   CG_DIFF_SEED      seed (default: from the clock; always printed)
 *   CG_DIFF_ONLY      run only the policy with this index
 *   CG_DIFF_VERBOSE   print the YAML of every policy with a mismatch
 *   CG_DIFF_JOBS      worker processes (default: one per CPU, at most 8)
 *
 * Policy i draws from its own generator seeded with (seed, i), so
 * CG_DIFF_SEED=S CG_DIFF_ONLY=i reproduces one policy's run exactly.
 * One gate instance and one reference evaluator per policy: connection
 * state carries from frame to frame within a policy, as in replay.
 *
 * Loading a policy (the verifier) costs far more than its frames, so
 * policies are spread over worker processes. Each worker writes what it
 * has to say about a policy into that policy's slot of a shared mapping;
 * the parent prints the slots in policy order, so the output does not
 * depend on the number of workers.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/types.h>

#include "cranegate.h"
#include "compile.h"
#include "gate.h"
#include "reference.h"
#include "self.h"
#include "frames.h"
#include "gen.h"
#include "harness.h"

CG_TEST_GLOBALS;

#define MAX_REPORTED 10 /* mismatches printed in full */
#define MAX_JOBS 8
#define TEXT_MAX 16384 /* what one policy's run may print */

/* For CG_DIFF_TRACE: a TCP frame's ports, sequence number, flags, data. */
static void trace_tcp(const uint8_t *b, size_t len, char *out, size_t n)
{
	size_t off = 14, l4, dl;
	unsigned et;
	uint8_t proto;

	*out = 0;
	if (len < 14)
		return;
	et = b[12] << 8 | b[13];
	if (et == 0x8100 && len >= 18) {
		et = b[16] << 8 | b[17];
		off = 18;
	}
	if (et == 0x0800 && len >= off + 20) {
		proto = b[off + 9];
		l4 = off + (b[off] & 15) * 4;
		dl = (size_t)(b[off + 2] << 8 | b[off + 3]) + off;
	} else if (et == 0x86dd && len >= off + 40) {
		proto = b[off + 6];
		l4 = off + 40;
		dl = (size_t)(b[off + 4] << 8 | b[off + 5]) + off + 40;
	} else {
		return;
	}
	if (proto != 6 || len < l4 + 20)
		return;
	snprintf(out, n, " [%u>%u seq %u ack %u fl %02x win %u data %d]",
		 b[l4] << 8 | b[l4 + 1], b[l4 + 2] << 8 | b[l4 + 3],
		 (unsigned)(b[l4 + 4] << 24 | b[l4 + 5] << 16 | b[l4 + 6] << 8 |
			    b[l4 + 7]),
		 (unsigned)(b[l4 + 8] << 24 | b[l4 + 9] << 16 |
			    b[l4 + 10] << 8 | b[l4 + 11]),
		 b[l4 + 13], b[l4 + 14] << 8 | b[l4 + 15],
		 (int)dl - (int)(l4 + (b[l4 + 12] >> 4) * 4));
}

static unsigned long long env_ull(const char *name, unsigned long long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

static uint64_t policy_seed(uint64_t seed, unsigned long i)
{
	return seed ^ (0x9e3779b97f4a7c15ull * (i + 1));
}

static const char *reason_name(unsigned int r)
{
	return r < CG_R_MAX ? cg_reason_names[r] : "?";
}

static void print_yaml(FILE *out, const char *yaml)
{
	const char *s = yaml, *nl;

	while (*s) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s);
		fprintf(out, "#   %.*s\n", (int)(nl - s), s);
		s = *nl ? nl + 1 : nl;
	}
}

/* What one policy's run found; one slot per policy, shared memory. */
struct policy_result {
	bool done;
	bool setup_failed; /* parse, compile, load or test run failed */
	unsigned long mismatches;
	unsigned long frames_run;
	unsigned long frames_skipped; /* too short for BPF_PROG_TEST_RUN */
	unsigned long reason_hits[CG_R_MAX];
	/* Mismatches by (program's reason, reference's reason), before
	 * monitor mode: what kind of frames the two disagree on. */
	unsigned long pairs[CG_R_MAX][CG_R_MAX];
	unsigned long stream_frames; /* made by the generator's streams */
	unsigned long function_only; /* same decision, another function */
	unsigned long timed_allowed; /* frames a time-boxed flow allowed */
	unsigned long self_frames;   /* frames to the gateway (self) */
	unsigned long self_allowed;  /* ... that a to: self flow allowed */
	unsigned long resets;	     /* refused and answered (deny: reset) */
	unsigned long enip_passed;   /* EtherNet/IP requests passed, */
	unsigned long enip_refused;  /* ... and refused (ics-denied) */
	bool windows_closed;	     /* it has a window not open now */
	char text[TEXT_MAX]; /* comment lines to print before its TAP line */
};

struct diff_run {
	uint64_t seed;
	unsigned long n_policies;
	unsigned long n_frames;
	bool verbose;
	unsigned long *reported; /* shared: mismatches printed so far */
	int trace;
	struct policy_result *results; /* shared: n_policies slots */
};

/* Does the program's event agree with the reference? */
static bool agrees(const struct cg_event *ev, int action,
		   const struct cg_ref_result *res)
{
	int want_action = res->reset		      ? XDP_TX
			  : res->verdict == CG_V_PASS ? XDP_PASS
						      : XDP_DROP;

	if (ev->verdict != res->verdict || ev->reason != res->reason ||
	    ev->would != res->would || ev->flow != res->flow ||
	    action != want_action || !!(ev->flags & CG_EV_RESET) != res->reset)
		return false;
	if (ev->function != res->function)
		return false;
	/* Zones only where both sides got that far. */
	if (ev->zone_from != CG_ZONE_NONE && res->zone_from != CG_ZONE_NONE &&
	    ev->zone_from != res->zone_from)
		return false;
	if (ev->zone_to != CG_ZONE_NONE && res->zone_to != CG_ZONE_NONE &&
	    ev->zone_to != res->zone_to)
		return false;
	return true;
}

static int zone_num(uint16_t z)
{
	return z == CG_ZONE_NONE ? -1 : z;
}

static void report(FILE *out, const struct diff_run *run, unsigned long pi,
		   unsigned long fi, const struct cg_gen_frame *fr,
		   const struct cg_event *ev, int action,
		   const struct cg_ref_result *res)
{
	fprintf(out, "# mismatch: seed %llu policy %lu frame %lu on %s (%s)\n",
		(unsigned long long)run->seed, pi, fi, fr->ifname, fr->what);
	fprintf(out,
		"#   bpf:       verdict %u reason %s would %s flow %d "
		"zone_from %d zone_to %d action %d function %#x\n",
		ev->verdict, reason_name(ev->reason), reason_name(ev->would),
		(int)ev->flow, zone_num(ev->zone_from), zone_num(ev->zone_to),
		action, ev->function);
	fprintf(out,
		"#   reference: verdict %u reason %s would %s flow %d "
		"zone_from %d zone_to %d function %#x reset %d\n",
		res->verdict, reason_name(res->reason), reason_name(res->would),
		(int)res->flow, zone_num(res->zone_from),
		zone_num(res->zone_to), res->function, res->reset);
	cg_frame_hexdump(out, "#   ", fr->buf, fr->len);
}

/* One policy: generate, parse, compile, load, and run every frame. */
static void run_policy(const struct diff_run *run, unsigned long pi,
		       struct policy_result *pr, FILE *out)
{
	struct cg_gate_opts gopts = {.pin_root = NULL, .record = true};
	struct cg_diags diags = {.file = "generated"};
	struct cg_policy *policy = NULL;
	struct cg_compiled *comp = NULL;
	struct cg_gate *gate = NULL;
	struct cg_refeval *ref = NULL;
	struct cg_gen_frames *gen = NULL;
	struct cg_gen_frame *fr = NULL;
	unsigned long fi, first_bad = 0;
	bool reported = false;
	struct cg_rng rng;
	struct cg_self_addr self_v[64];
	struct cg_self_set self = {0};
	char *yaml;
	int err;

	cg_rng_seed(&rng, policy_seed(run->seed, pi));
	yaml = cg_gen_policy(&rng);

	err = cg_policy_parse("generated", yaml, strlen(yaml), &policy, &diags);
	if (!err)
		err = cg_compile(policy, &comp, &diags);
	if (err) {
		cg_diags_print(&diags, out);
		goto fail;
	}
	err = cg_gate_load(comp, &gopts, &gate);
	if (err) {
		fprintf(out, "# cg_gate_load: %s\n", strerror(-err));
		goto fail;
	}
	ref = cg_ref_new(policy);
	/* Every third single-address host is an address of the gateway
	 * (`self`), in both the gate and the reference. */
	self.n = 0;
	for (fi = 0; fi < policy->n_hosts && fi < 64; fi++) {
		const struct cg_prefix *h = &policy->hosts[fi].addr;

		if (fi % 3 || h->len != (h->family == 4 ? 32 : 128))
			continue;
		self_v[self.n].family = h->family;
		memcpy(self_v[self.n].addr, h->addr, 16);
		self_v[self.n].ifindex = 0;
		self.n++;
	}
	self.v = self_v;
	if (ref)
		cg_ref_set_self(ref, &self);
	if ((err = cg_gate_set_self(gate, &self))) {
		fprintf(out, "# cg_gate_set_self: %s\n", strerror(-err));
		goto fail;
	}
	gen = cg_gen_frames_new(policy);
	for (fi = 0; fi < policy->n_flows; fi++)
		if (!cg_window_open(&policy->flows[fi].valid,
				    (int64_t)time(NULL) * 1000000000LL))
			pr->windows_closed = true;
	fr = malloc(sizeof(*fr));
	if (!ref || !gen || !fr) {
		fprintf(out, "# out of memory\n");
		goto fail;
	}

	for (fi = 0; fi < run->n_frames; fi++) {
		struct cg_ref_result res;
		struct cg_event ev;
		int action = -1;

		cg_gen_frame(gen, &rng, fr);
		/* BPF_PROG_TEST_RUN refuses frames shorter than Ethernet. */
		if (fr->len < 14) {
			pr->frames_skipped++;
			continue;
		}
		memset(&ev, 0, sizeof(ev));
		err = cg_gate_test_run(gate, (int)if_nametoindex(fr->ifname),
				       fr->buf, fr->len, &ev, &action);
		if (err) {
			fprintf(out, "# test run failed at frame %lu: %s\n", fi,
				strerror(-err));
			goto fail;
		}
		cg_ref_eval(ref, fr->ifname, fr->buf, fr->len, &res);
		/* Streams move on with what passed (the reference's word,
		 * independent of the program's). */
		cg_gen_feedback(gen, res.verdict == CG_V_PASS &&
					     res.reason != CG_R_MONITOR);
		pr->frames_run++;
		if (run->trace) {
			char tcp[96];

			trace_tcp(fr->buf, fr->len, tcp, sizeof(tcp));
			fprintf(stderr, "# trace %lu %s %s%s: bpf %s ref %s\n",
				fi, fr->ifname, fr->what, tcp,
				cg_reason_names[ev.would < CG_R_MAX ? ev.would
								    : 0],
				cg_reason_names[res.would < CG_R_MAX ? res.would
								     : 0]);
		}
		if (!strncmp(fr->what, "stream ", 7))
			pr->stream_frames++;
		if (res.would < CG_R_MAX)
			pr->reason_hits[res.would]++;
		if (res.would == CG_R_ALLOWED && res.flow < policy->n_flows &&
		    policy->flows[res.flow].valid.timed)
			pr->timed_allowed++;
		pr->resets += res.reset;
		if (res.zone_to == CG_ZONE_SELF) {
			pr->self_frames++;
			pr->self_allowed += res.would == CG_R_ALLOWED;
		}
		if (ev.ics_proto == CG_ICS_PROTO_ENIP) {
			pr->enip_passed += ev.would == CG_R_ALLOWED;
			pr->enip_refused += ev.would == CG_R_ICS_DENIED;
		}
		if (agrees(&ev, action, &res))
			continue;
		if (!pr->mismatches++)
			first_bad = fi;
		if (ev.would < CG_R_MAX && res.would < CG_R_MAX)
			pr->pairs[ev.would][res.would]++;
		if (ev.would == res.would && ev.verdict == res.verdict &&
		    ev.flow == res.flow && ev.function != res.function)
			pr->function_only++;
		if (__atomic_fetch_add(run->reported, 1, __ATOMIC_RELAXED) <
		    MAX_REPORTED) {
			report(out, run, pi, fi, fr, &ev, action, &res);
			reported = true;
		}
	}
	if (pr->mismatches) {
		fprintf(out,
			"# policy %lu: %lu of %lu frames differ, first at "
			"frame %lu\n",
			pi, pr->mismatches, run->n_frames, first_bad);
		if (run->verbose || reported)
			print_yaml(out, yaml);
	}
	goto out;
fail:
	pr->setup_failed = true;
	print_yaml(out, yaml);
out:
	free(fr);
	cg_gen_frames_free(gen);
	cg_ref_free(ref);
	cg_gate_free(gate);
	cg_compiled_free(comp);
	cg_policy_free(policy);
	cg_diags_free(&diags);
	free(yaml);
}

/* Worker `w` of `n_jobs`: policies w, w + n_jobs, ... */
static void worker(const struct diff_run *run, unsigned long only,
		   unsigned int w, unsigned int n_jobs)
{
	unsigned long i;

	for (i = w; i < run->n_policies; i += n_jobs) {
		struct policy_result *pr = &run->results[i];
		FILE *out;

		if (only != ~0ul && only != i)
			continue;
		out = fmemopen(pr->text, TEXT_MAX, "w");
		if (!out)
			continue;
		run_policy(run, i, pr, out);
		fclose(out);
		pr->text[TEXT_MAX - 1] = '\0';
		pr->done = true;
	}
}

int main(void)
{
	char ifnames[CG_GEN_N_IFNAMES][CG_IFNAME_MAX];
	unsigned long only, i, mismatches = 0, frames = 0, skipped = 0;
	unsigned long hits[CG_R_MAX] = {0}, n_run = 0, timed_allowed = 0,
		      closed = 0;
	unsigned long pairs[CG_R_MAX][CG_R_MAX] = {{0}}, stream_frames = 0;
	unsigned long function_only = 0, self_frames = 0, self_allowed = 0;
	unsigned long resets = 0, enip_passed = 0, enip_refused = 0;
	int q;
	struct diff_run run = {0};
	unsigned int n_jobs, w;
	struct timespec t0, t1;
	size_t shared_size;
	void *shared;
	long cpus;
	int err, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	run.n_policies = env_ull("CG_DIFF_POLICIES", 100);
	run.n_frames = env_ull("CG_DIFF_FRAMES", 10000);
	/* CG_DIFF_TRACE: every frame's description and both reasons. */
	run.trace = env_ull("CG_DIFF_TRACE", 0);
	run.seed = env_ull("CG_DIFF_SEED", (unsigned long long)time(NULL));
	only = env_ull("CG_DIFF_ONLY", ~0ul);
	run.verbose = env_ull("CG_DIFF_VERBOSE", 0) != 0;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	n_jobs = (unsigned int)env_ull("CG_DIFF_JOBS", cpus > 0 ? cpus : 1);
	if (n_jobs < 1)
		n_jobs = 1;
	if (n_jobs > MAX_JOBS)
		n_jobs = MAX_JOBS;
	printf("# seed %llu (CG_DIFF_SEED=%llu reproduces this run), %u "
	       "workers\n",
	       (unsigned long long)run.seed, (unsigned long long)run.seed,
	       n_jobs);

	/* Every interface any generated policy names, and one none does. */
	for (i = 0; i < CG_GEN_N_IFNAMES; i++)
		snprintf(ifnames[i], CG_IFNAME_MAX, "%s", cg_gen_ifnames[i]);
	err = cg_sandbox_enter(ifnames, CG_GEN_N_IFNAMES);
	if (err) {
		printf("ok 1 # SKIP cannot enter a network sandbox (%s); run "
		       "as root\n",
		       strerror(-err));
		return 0;
	}

	shared_size = sizeof(unsigned long) +
		      run.n_policies * sizeof(struct policy_result);
	shared = mmap(NULL, shared_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		ASSERT_TRUE(false, "map the shared results");
		return cg_test_done();
	}
	run.reported = shared;
	run.results = (struct policy_result *)((char *)shared +
					       sizeof(unsigned long));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (w = 0; w < n_jobs; w++) {
		pid_t pid = fork();

		if (pid == 0) {
			worker(&run, only, w, n_jobs);
			_exit(0);
		}
		if (pid < 0)
			worker(&run, only, w, n_jobs); /* do it ourselves */
	}
	while (wait(NULL) > 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);

	for (i = 0; i < run.n_policies; i++) {
		const struct policy_result *pr = &run.results[i];
		char name[96];

		if (only != ~0ul && only != i)
			continue;
		n_run++;
		snprintf(name, sizeof(name), "policy %lu (seed %llu)", i,
			 (unsigned long long)run.seed);
		fputs(pr->text, stdout);
		if (!pr->done) {
			printf("# policy %lu: its worker died (see stderr)\n",
			       i);
			ASSERT_TRUE(false, name);
			continue;
		}
		if (pr->setup_failed)
			ASSERT_TRUE(false, name);
		else
			ASSERT_EQ(pr->mismatches, 0, name);
		mismatches += pr->mismatches;
		frames += pr->frames_run;
		skipped += pr->frames_skipped;
		for (r = 0; r < CG_R_MAX; r++) {
			hits[r] += pr->reason_hits[r];
			for (q = 0; q < CG_R_MAX; q++)
				pairs[r][q] += pr->pairs[r][q];
		}
		stream_frames += pr->stream_frames;
		function_only += pr->function_only;
		timed_allowed += pr->timed_allowed;
		self_frames += pr->self_frames;
		self_allowed += pr->self_allowed;
		resets += pr->resets;
		enip_passed += pr->enip_passed;
		enip_refused += pr->enip_refused;
		closed += pr->windows_closed;
	}

	/* The generator's windows must reach the gate (see gen.c). */
	printf("# time-boxed flows: %lu frames allowed by one, %lu policies "
	       "with a window not open now\n",
	       timed_allowed, closed);
	if (only == ~0ul && run.n_policies >= 50) {
		ASSERT_TRUE(timed_allowed > 0,
			    "some frames are allowed by time-boxed flows");
		ASSERT_TRUE(closed > 0, "some policies have closed windows");
	}

	/* The gateway's addresses (self) must be reached, and allowed. */
	printf("# self: %lu frames to the gateway, %lu allowed by to: self\n",
	       self_frames, self_allowed);
	if (only == ~0ul && run.n_policies >= 50) {
		ASSERT_TRUE(self_frames > 0, "some frames go to the gateway");
		ASSERT_TRUE(self_allowed > 0,
			    "some frames are allowed by to: self flows");
	}

	/* Refused requests on deny: reset flows, answered by both. */
	printf("# deny: reset: %lu requests answered with a RST\n", resets);
	if (only == ~0ul && run.n_policies >= 50)
		ASSERT_TRUE(resets > 0, "some refused requests are reset");

	/* EtherNet/IP requests must reach the walk, both ways. */
	printf("# enip: %lu requests passed, %lu refused\n", enip_passed,
	       enip_refused);
	if (only == ~0ul && run.n_policies >= 50) {
		ASSERT_TRUE(enip_passed > 0, "some enip requests pass");
		ASSERT_TRUE(enip_refused > 0, "some enip requests are refused");
	}

	printf("# reasons seen (before monitor):");
	for (r = 0; r < CG_R_MAX; r++)
		if (hits[r])
			printf(" %s %lu", cg_reason_names[r], hits[r]);
	printf("\n");
	printf("# stream frames (the generator's TCP streams on inspected "
	       "flows): %lu\n",
	       stream_frames);
	for (r = 0; r < CG_R_MAX; r++)
		for (q = 0; q < CG_R_MAX; q++)
			if (pairs[r][q])
				printf("# mismatches: program %s, reference "
				       "%s: "
				       "%lu\n",
				       cg_reason_names[r], cg_reason_names[q],
				       pairs[r][q]);
	printf("# mismatches in the function alone: %lu\n", function_only);
	printf("# %lu frames run, %lu too short to run, %.1f s\n", frames,
	       skipped,
	       (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("# %lu policies x %lu frames: %lu mismatches\n", n_run,
	       run.n_frames, mismatches);
	munmap(shared, shared_size);
	return cg_test_done();
}
