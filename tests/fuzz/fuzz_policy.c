// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: the policy parser and compiler, as `cranegate check` runs
 * them. The input is a policy file's bytes. Every path must end in a
 * policy or in diagnostics, never in a crash, a hang, a leak or undefined
 * behaviour; whatever is returned must be freed cleanly.
 *
 * Built twice (see the Makefile): with libFuzzer for `make fuzz`, and with
 * regress_main.c as a plain program that replays the committed corpus and
 * every input that once failed (tests/fuzz/regress/policy/) in `make test`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compile.h"
#include "policy.h"

/* Diagnostics and summaries are printed, as check does, but to nowhere. */
static FILE *devnull(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_diags d = {.file = "fuzz.yaml"};
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	FILE *out = devnull();
	int err;

	err = cg_policy_parse("fuzz.yaml", (const char *)data, size, &p, &d);
	/* The contract of cg_policy_parse: a policy, or errors, never both
	 * missing. */
	if (err == 0 && (!p || d.n_errors))
		__builtin_trap();
	if (err && (p || !d.n_errors))
		__builtin_trap();
	if (!err)
		err = cg_compile(p, &c, &d);
	if (out) {
		cg_diags_print(&d, out);
		if (!err)
			cg_compiled_summary(c, out);
	}
	cg_compiled_free(c);
	cg_policy_free(p);
	cg_diags_free(&d);
	return 0;
}
