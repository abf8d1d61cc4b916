// SPDX-License-Identifier: GPL-2.0
/*
 * The regression mode of a fuzz target: a main() without libFuzzer that
 * feeds files through the target's LLVMFuzzerTestOneInput(), one TAP
 * line per directory. Linked with fuzz_policy.c or fuzz_pcap.c and built
 * with AddressSanitizer and UndefinedBehaviorSanitizer (see the Makefile),
 * so that an input that once crashed, leaked or hit undefined behaviour
 * fails `make test` again if the bug comes back.
 *
 *   regress_TARGET              tests/fuzz/regress/TARGET and
 *                               tests/fuzz/corpus/TARGET, from the top of
 *                               the tree
 *   regress_TARGET PATH...      those files or directories
 *
 * Each input runs in a child process: a sanitizer report (on stderr)
 * aborts only that child, which is named in a TAP comment and fails its
 * directory's line. CG_FUZZ_VERBOSE=1 names every input as it runs.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include "harness.h"

CG_TEST_GLOBALS;

#ifndef FUZZ_TARGET
#define FUZZ_TARGET "?"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int verbose;

static int run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	FILE *f;
	size_t n;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st)) {
		printf("# %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	/* One extra byte so that an empty file still gets a buffer: the
	 * target sees size 0 and a valid pointer, as under libFuzzer. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (verbose)
		printf("# %s (%zu bytes)\n", path, n);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

/*
 * One input in a child process, so that a sanitizer's abort names its
 * input and the others still run. The sanitizer report goes to stderr.
 */
static bool run_isolated(const char *path)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return run_file(path) == 0;
	if (pid == 0)
		_exit(run_file(path) ? 2 : 0);
	if (waitpid(pid, &status, 0) != pid)
		return false;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFSIGNALED(status))
		printf("# %s: killed by signal %d\n", path, WTERMSIG(status));
	else
		printf("# %s: exit status %d\n", path, WEXITSTATUS(status));
	return false;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of a directory, in name order; or one file. */
static void run_path(const char *path)
{
	struct timespec t0, t1;
	struct dirent *e;
	char **names = NULL, desc[512], full[4096];
	size_t n = 0, cap = 0, i;
	long ran = 0, bad = 0;
	struct stat st;
	DIR *dir;

	if (stat(path, &st)) {
		snprintf(desc, sizeof(desc), "%s exists", path);
		ASSERT_TRUE(false, desc);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!S_ISDIR(st.st_mode)) {
		bad += !run_isolated(path);
		ran = 1;
	} else if ((dir = opendir(path))) {
		while ((e = readdir(dir))) {
			if (e->d_name[0] == '.')
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				names = realloc(names, cap * sizeof(*names));
				if (!names)
					abort();
			}
			names[n++] = strdup(e->d_name);
		}
		closedir(dir);
		if (n)
			qsort(names, n, sizeof(*names), name_cmp);
		for (i = 0; i < n; i++) {
			snprintf(full, sizeof(full), "%s/%s", path, names[i]);
			if (stat(full, &st) || !S_ISREG(st.st_mode) ||
			    strstr(names[i], "README"))
				continue;
			bad += !run_isolated(full);
			ran++;
		}
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %s: %ld inputs in %.2f s\n", path, ran,
	       (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	snprintf(desc, sizeof(desc),
		 "fuzz_%s: %s replays without a sanitizer report", FUZZ_TARGET,
		 path);
	ASSERT_EQ(bad, 0, desc);
}

int main(int argc, char **argv)
{
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	verbose = getenv("CG_FUZZ_VERBOSE") != NULL;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			run_path(argv[i]);
	} else {
		run_path("tests/fuzz/regress/" FUZZ_TARGET);
		run_path("tests/fuzz/corpus/" FUZZ_TARGET);
	}
	printf("1..%d\n", cg_test_n);
	return cg_test_done();
}
