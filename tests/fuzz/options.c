// SPDX-License-Identifier: GPL-2.0
/*
 * Sanitizer defaults for the fuzz targets and their regression replay,
 * compiled into both: stop at the first report of any kind, and read the
 * suppressions of known, reported bugs (tests/fuzz/ubsan.supp; the
 * Makefile passes its absolute path as CG_FUZZ_SUPP).
 */
#ifndef CG_FUZZ_SUPP
#define CG_FUZZ_SUPP "tests/fuzz/ubsan.supp"
#endif

const char *__ubsan_default_options(void);
const char *__asan_default_options(void);

const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1:suppressions=" CG_FUZZ_SUPP;
}

const char *__asan_default_options(void)
{
	return "detect_leaks=1:abort_on_error=1";
}
