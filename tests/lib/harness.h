/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small test harness in the kernel-selftest idiom. Every assertion
 * prints one TAP line ("ok N - what" or "not ok N - what: detail") and
 * returns whether it held, so that
 *
 *	if (!ASSERT_OK(err, "load"))
 *		goto out;
 *
 * reads right. tests/run.sh counts the "ok" and "not ok" lines of every
 * test program; a program that exits non-zero without printing a failure
 * is counted as one failure.
 */
#ifndef CG_TEST_HARNESS_H
#define CG_TEST_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern int cg_test_n, cg_test_failed;

#define CG_TEST_GLOBALS int cg_test_n, cg_test_failed

static inline bool cg_test_report(bool ok, const char *name, const char *fmt,
				  long long a, long long b)
{
	cg_test_n++;
	if (ok) {
		printf("ok %d - %s\n", cg_test_n, name);
	} else {
		cg_test_failed++;
		printf("not ok %d - %s: ", cg_test_n, name);
		printf(fmt, a, b);
		printf("\n");
	}
	fflush(stdout);
	return ok;
}

/* Each macro evaluates its arguments exactly once. */
#define ASSERT_TRUE(c, name)                                                   \
	cg_test_report(!!(c), (name), "expected true%.0lld%.0lld", 0, 0)
#define ASSERT_FALSE(c, name)                                                  \
	cg_test_report(!(c), (name), "expected false%.0lld%.0lld", 0, 0)
#define ASSERT_OK(e, name)                                                     \
	({                                                                     \
		long long _e = (long long)(e);                                 \
		cg_test_report(_e == 0, (name), "error %lld%.0lld", _e, 0);    \
	})
#define ASSERT_EQ(a, b, name)                                                  \
	({                                                                     \
		long long _a = (long long)(a), _b = (long long)(b);            \
		cg_test_report(_a == _b, (name), "got %lld, expected %lld",    \
			       _a, _b);                                        \
	})
#define ASSERT_NEQ(a, b, name)                                                 \
	({                                                                     \
		long long _a = (long long)(a), _b = (long long)(b);            \
		cg_test_report(_a != _b, (name),                               \
			       "got %lld, expected anything but %lld", _a,     \
			       _b);                                            \
	})
#define ASSERT_STREQ(a, b, name)                                               \
	({                                                                     \
		const char *_a = (a), *_b = (b);                               \
		bool _ok = _a && _b && strcmp(_a, _b) == 0;                    \
		if (!_ok)                                                      \
			printf("# got \"%s\"\n# expected \"%s\"\n",            \
			       _a ? _a : "(null)", _b ? _b : "(null)");        \
		cg_test_report(_ok, (name), "strings differ%.0lld%.0lld", 0,   \
			       0);                                             \
	})

/* Call at the end of main(): exit status 1 if anything failed. */
static inline int cg_test_done(void)
{
	printf("# %d assertions, %d failed\n", cg_test_n, cg_test_failed);
	return cg_test_failed ? 1 : 0;
}

#endif
