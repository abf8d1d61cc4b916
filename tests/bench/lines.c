// SPDX-License-Identifier: GPL-2.0
/*
 * cgbench lines PROG_ID: where each source line of a loaded BPF program
 * starts in its JIT image, for tests/bench/lines.sh, which turns perf
 * samples into a per-line profile (perf annotate needs a perf built with
 * libopcode for BPF, which Debian's is not).
 *
 * The kernel gives, for each line record (struct bpf_line_info), the JIT
 * address it starts at (jited_line_info, in the same order). Prints one
 * line per record: the address in hex, FILE:LINE, and the source text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "cgbench.h"

int cmd_lines(unsigned id)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info), n, lrs, i;
	struct bpf_line_info *li = NULL;
	struct btf *btf = NULL;
	__u64 *jl = NULL;
	int fd, err = 1;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "cgbench: program %u: %s\n", id,
			strerror(errno));
		goto out;
	}
	n = info.nr_line_info;
	lrs = info.line_info_rec_size;
	if (!n || info.nr_jited_line_info != n || !info.btf_id) {
		fprintf(stderr,
			"cgbench: program %u has no line info for its JIT image\n",
			id);
		goto out;
	}
	li = calloc(n, lrs);
	jl = calloc(n, sizeof(*jl));
	if (!li || !jl)
		goto out;
	memset(&info, 0, sizeof(info));
	info.nr_line_info = n;
	info.line_info_rec_size = lrs;
	info.line_info = (uintptr_t)li;
	info.nr_jited_line_info = n;
	info.jited_line_info_rec_size = sizeof(*jl);
	info.jited_line_info = (uintptr_t)jl;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "cgbench: program %u: %s\n", id,
			strerror(errno));
		goto out;
	}
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf) {
		fprintf(stderr, "cgbench: program %u: its BTF: %s\n", id,
			strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct bpf_line_info *l =
			(const void *)((const char *)li + (size_t)i * lrs);
		const char *file = btf__name_by_offset(btf, l->file_name_off);
		const char *src = btf__name_by_offset(btf, l->line_off);
		const char *base = file ? strrchr(file, '/') : NULL;

		printf("%llx\t%s:%u\t%s\n", (unsigned long long)jl[i],
		       base ? base + 1 : (file ? file : "?"),
		       BPF_LINE_INFO_LINE_NUM(l->line_col), src ? src : "");
	}
	err = 0;
out:
	btf__free(btf);
	free(li);
	free(jl);
	if (fd >= 0)
		close(fd);
	return err;
}
