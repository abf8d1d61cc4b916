// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-filter's installed programs, loaded for comparison. Their layout,
 * read with `bpftool btf dump file xdpfilt_dny_all.o` (xdp-tools 1.3):
 *
 *   filter_ipv4      PERCPU_HASH  __u32 (address, network order) -> __u64
 *   filter_ipv6      PERCPU_HASH  struct in6_addr                -> __u64
 *   filter_ethernet  PERCPU_HASH  6-byte MAC                     -> __u64
 *   filter_ports     PERCPU_ARRAY 65536, __u32 index = the port as it
 *                    is in the header (network order) -> __u64
 *   xdp_stats_map    PERCPU_ARRAY per XDP action
 *
 * The value's low bits say what an entry matches (xdp-filter's
 * common_kern_user.h: 1 source, 2 destination, 4 TCP, 8 UDP), the bits
 * from 6 up count hits. Every map asks to be pinned by name under
 * /sys/fs/bpf; the benchmark clears the pin paths so that nothing is
 * pinned and nothing is shared with a real xdp-filter.
 *
 * The program checks, in order and each only when its map could match:
 * destination and source MAC, destination and source address, then the
 * destination and source port of TCP or UDP; the first hit decides.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"

#define XDPF_SRC (1u << 0)
#define XDPF_DST (1u << 1)
#define XDPF_TCP (1u << 2)
#define XDPF_UDP (1u << 3)

struct bench_xdpf {
	struct bpf_object *obj;
	int prog_fd;
};

static bool verbose;

static int print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void bench_libbpf_quiet(bool v)
{
	verbose = v;
	libbpf_set_print(print);
}

double bench_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

const char *bench_xdpf_dir(void)
{
	static const char *const dirs[] = {
		"/usr/lib/x86_64-linux-gnu/bpf",
		"/usr/lib/aarch64-linux-gnu/bpf",
		"/usr/lib/bpf",
		"/usr/lib64/bpf",
		"/usr/local/lib/bpf",
	};
	static char buf[256];
	const char *env = getenv("XDPFILT_DIR");
	size_t i;

	if (env && *env)
		return env;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, sizeof(buf), "%s/xdpfilt_alw_all.o", dirs[i]);
		if (!access(buf, R_OK))
			return dirs[i];
	}
	return NULL;
}

const char *bench_xdpf_name(enum bench_xdpf_kind kind)
{
	return kind == BENCH_XDPF_ALLOW ? "xdp-filter allow-list"
					: "xdp-filter block-list";
}

void bench_xdpf_free(struct bench_xdpf *x)
{
	if (!x)
		return;
	bpf_object__close(x->obj);
	free(x);
}

int bench_xdpf_prog_fd(const struct bench_xdpf *x)
{
	return x->prog_fd;
}

/*
 * Fill a per-CPU map with n keys of key_size bytes, every CPU's value
 * being `flags`. One batch where the kernel has it, else one by one.
 */
static int fill(struct bpf_map *map, const void *keys, size_t key_size,
		size_t n, uint64_t flags)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(map), err = 0;
	uint64_t *vals;
	uint32_t count = n;
	size_t i;

	if (!n)
		return 0;
	if (ncpu < 1)
		return -EINVAL;
	vals = malloc(n * ncpu * sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < n * ncpu; i++)
		vals[i] = flags;
	if (bpf_map_update_batch(fd, keys, vals, &count, NULL)) {
		for (i = 0; i < n && !err; i++)
			err = bpf_map_update_elem(
				      fd, (const char *)keys + i * key_size,
				      vals, BPF_ANY)
				      ? -errno
				      : 0;
	}
	free(vals);
	return err;
}

/*
 * IPv4 entries per list, the rest IPv6. The allow list covers every flow
 * host (198.18.0.0/17); the block list stays within 198.19.192.0/18, out
 * of every zone and clear of the spoofed source the benchmark sends
 * (198.19.128.1).
 */
static unsigned max_v4(enum bench_xdpf_kind kind)
{
	return kind == BENCH_XDPF_ALLOW ? 32768 : 16384;
}

/* Entry i of a list: IPv4 for i < max_v4(), IPv6 after. */
static void entry_v4(enum bench_xdpf_kind kind, unsigned i, uint8_t a[4])
{
	if (kind == BENCH_XDPF_ALLOW) {
		/* Host i of the flows' numbering, from 198.18.0.0 up. */
		a[0] = 198;
		a[1] = 18 + (i >> 16);
		a[2] = (i >> 8) & 0xff;
		a[3] = i & 0xff;
	} else {
		/* From 198.19.255.255 down: in no zone, and never sent. */
		uint32_t h = 0xc613ffffu - i;

		a[0] = h >> 24;
		a[1] = (h >> 16) & 0xff;
		a[2] = (h >> 8) & 0xff;
		a[3] = h & 0xff;
	}
}

static void entry_v6(enum bench_xdpf_kind kind, unsigned i, uint8_t a[16])
{
	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[3] = 0x02;
	a[5] = kind == BENCH_XDPF_ALLOW ? 0xaa : 0xbb;
	a[12] = i >> 24;
	a[13] = i >> 16;
	a[14] = i >> 8;
	a[15] = i;
}

static int fill_maps(struct bench_xdpf *x, enum bench_xdpf_kind kind,
		     unsigned n, const char *l4)
{
	unsigned n4 = n < max_v4(kind) ? n : max_v4(kind), n6 = n - n4, i;
	uint8_t(*v4)[4] = calloc(n4 ? n4 : 1, 4);
	uint8_t(*v6)[16] = calloc(n6 ? n6 : 1, 16);
	uint32_t *ports = calloc(65536, sizeof(*ports));
	struct bpf_map *m;
	unsigned n_ports = 0;
	int err = -ENOMEM;
	static bool seen[65536];

	if (!v4 || !v6 || !ports)
		goto out;
	for (i = 0; i < n4; i++)
		entry_v4(kind, i, v4[i]);
	for (i = 0; i < n6; i++)
		entry_v6(kind, i, v6[i]);
	/* Only the allow list names ports: the flows' destination ports. */
	memset(seen, 0, sizeof(seen));
	for (i = 0; kind == BENCH_XDPF_ALLOW && i < n; i++) {
		struct bench_flow f;

		bench_flow(i, &f);
		if (seen[f.port])
			continue;
		seen[f.port] = true;
		ports[n_ports++] = htons(f.port);
	}
	err = -ENOENT;
	if (!(m = bpf_object__find_map_by_name(x->obj, "filter_ipv4")) ||
	    (err = fill(m, v4, 4, n4, XDPF_SRC)))
		goto out;
	if (!(m = bpf_object__find_map_by_name(x->obj, "filter_ipv6")) ||
	    (err = fill(m, v6, 16, n6, XDPF_SRC)))
		goto out;
	if (!(m = bpf_object__find_map_by_name(x->obj, "filter_ports")) ||
	    (err = fill(m, ports, 4, n_ports,
			XDPF_DST | (strcmp(l4, "udp") ? XDPF_TCP : XDPF_UDP))))
		goto out;
	err = 0;
out:
	free(v4);
	free(v6);
	free(ports);
	return err;
}

int bench_xdpf_load(enum bench_xdpf_kind kind, unsigned n, const char *l4,
		    struct bench_xdpf **out)
{
	const char *dir = bench_xdpf_dir();
	struct bench_xdpf *x = NULL;
	struct bpf_program *prog;
	struct bpf_map *m;
	char path[512];
	int err;

	*out = NULL;
	if (!dir)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s", dir,
		 kind == BENCH_XDPF_ALLOW ? "xdpfilt_dny_all.o"
					  : "xdpfilt_alw_all.o");
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->obj = bpf_object__open_file(path, NULL);
	if (!x->obj) {
		err = -errno;
		fprintf(stderr, "cgbench: cannot open %s: %s\n", path,
			strerror(-err));
		goto fail;
	}
	bpf_object__for_each_map(m, x->obj)
	{
		const char *name = bpf_map__name(m);
		unsigned n4 = n < max_v4(kind) ? n : max_v4(kind);
		unsigned want = 0;

		bpf_map__set_pin_path(m, NULL);
		if (!strcmp(name, "filter_ipv4"))
			want = n4;
		else if (!strcmp(name, "filter_ipv6"))
			want = n - n4;
		if (want > bpf_map__max_entries(m))
			bpf_map__set_max_entries(m, want);
	}
	err = bpf_object__load(x->obj);
	if (err) {
		fprintf(stderr, "cgbench: cannot load %s: %s\n", path,
			strerror(-err));
		goto fail;
	}
	prog = bpf_object__next_program(x->obj, NULL);
	if (!prog) {
		err = -ENOENT;
		goto fail;
	}
	x->prog_fd = bpf_program__fd(prog);
	err = fill_maps(x, kind, n, l4);
	if (err) {
		fprintf(stderr, "cgbench: filling the maps of %s failed: %s\n",
			path, strerror(-err));
		goto fail;
	}
	*out = x;
	return 0;
fail:
	bench_xdpf_free(x);
	return err;
}
