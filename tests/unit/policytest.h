/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parser's unit tests share (test_policy.c, test_policy_valid.c):
 * a policy parsed from a string, its diagnostics as one text, and a
 * policy that must fail, or pass, with exactly these messages.
 */
#ifndef CRANEGATE_POLICYTEST_H
#define CRANEGATE_POLICYTEST_H

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "hex.h"
#include "policy.h"

static char lbuf[256] __attribute__((unused));
/* A test name built with printf. */
#define L(...) (snprintf(lbuf, sizeof(lbuf), __VA_ARGS__), lbuf)

/* Everything cg_diags_print() prints, as one malloc'ed string. */
static inline char *diag_text(const struct cg_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cg_diags_print(d, f);
	fclose(f);
	return buf;
}

static inline int parse(const char *yaml, struct cg_policy **p,
			struct cg_diags *d)
{
	return cg_policy_parse("t.yaml", yaml, strlen(yaml), p, d);
}

/* A policy that must be refused with exactly these messages. */
static inline void expect_fail(const char *name, const char *yaml,
			       const char *want)
{
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	int err = parse(yaml, &p, &d);
	char *got = diag_text(&d);

	ASSERT_EQ(err, -EINVAL, L("%s: refused", name));
	ASSERT_TRUE(p == NULL, L("%s: no policy", name));
	ASSERT_STREQ(got, want, L("%s: messages", name));
	free(got);
	cg_policy_free(p);
	cg_diags_free(&d);
}

/* A policy that must parse, with exactly these warnings ("" for none). */
static inline void expect_ok(const char *name, const char *yaml,
			     const char *want)
{
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	int err = parse(yaml, &p, &d);
	char *got = diag_text(&d);

	ASSERT_OK(err, L("%s: accepted", name));
	ASSERT_TRUE(p != NULL, L("%s: a policy", name));
	ASSERT_STREQ(got, want, L("%s: warnings", name));
	free(got);
	cg_policy_free(p);
	cg_diags_free(&d);
}

#endif
