// SPDX-License-Identifier: GPL-2.0
/*
 * What the loader reads of the running kernel beside the gate's own
 * objects: its clock (HZ, jiffies), an array map read in batches, and the
 * private network namespace in which replay and diff --pcap load a
 * policy (gate.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gate.h"

/*
 * The kernel's HZ, which the program's clock (jiffies) ticks at: from
 * two samples of /proc/timer_list ("now at N nsecs", "jiffies: J") 20 ms
 * apart, rounded to the usual values. Falls back to 100, which errs
 * towards shorter connection timeouts.
 */
unsigned cg_kernel_hz(void)
{
	static unsigned hz;
	unsigned long long ns[2] = {}, j[2] = {};
	static const unsigned common[] = {100, 250, 300, 1000};
	double est, best = 1e9;
	int i;

	if (hz)
		return hz;
	for (i = 0; i < 2; i++) {
		FILE *f = fopen("/proc/timer_list", "r");
		char line[256];

		while (f && fgets(line, sizeof(line), f)) {
			if (!ns[i] &&
			    sscanf(line, "now at %llu nsecs", &ns[i]) == 1)
				continue;
			if (ns[i] && sscanf(line, "jiffies: %llu", &j[i]) == 1)
				break;
		}
		if (f)
			fclose(f);
		if (!i)
			usleep(20000);
	}
	hz = 100;
	if (!ns[0] || !j[0] || ns[1] <= ns[0])
		return hz;
	est = (double)(j[1] - j[0]) * 1e9 / (double)(ns[1] - ns[0]);
	for (i = 0; i < 4; i++)
		if (fabs(est - common[i]) < best) {
			best = fabs(est - common[i]);
			hz = common[i];
		}
	return hz;
}

int cg_kernel_jiffies(unsigned long long *jiffies)
{
	FILE *f = fopen("/proc/timer_list", "r");
	char line[256];
	int err = -ENOENT;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "jiffies: %llu", jiffies) == 1) {
			err = 0;
			break;
		}
	if (f)
		fclose(f);
	else
		err = -errno;
	return err;
}

int cg_array_read(int fd, uint32_t n, size_t size, void *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	uint32_t *keys, done = 0, count, out_batch, i;
	char *v = vals;
	bool first = true;
	int err = 0;

	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while (done < n) {
		count = n - done;
		err = bpf_map_lookup_batch(fd, first ? NULL : &out_batch,
					   &out_batch, keys + done,
					   v + (size_t)done * size, &count, &o);
		first = false;
		done += count;
		if (err) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
	}
	/* A batch hands back keys in order, but check. */
	for (i = 0; !err && i < done; i++)
		if (keys[i] != i)
			err = -EIO;
	if (err) {
		/* No batch operations here: one lookup per entry. */
		for (i = 0, err = 0; i < n; i++)
			if (bpf_map_lookup_elem(fd, &i, v + (size_t)i * size))
				memset(v + (size_t)i * size, 0, size);
	}
	free(keys);
	return 0;
}

int cg_sandbox_enter(char (*ifnames)[CG_IFNAME_MAX], size_t n)
{
	size_t i;
	int status;
	pid_t pid;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr,
			"cranegate: cannot create a private network namespace: "
			"%s\n",
			strerror(errno));
		return -errno;
	}
	for (i = 0; i < n; i++) {
		char peer[CG_IFNAME_MAX];

		if (if_nametoindex(ifnames[i]))
			continue;
		snprintf(peer, sizeof(peer), "cgp%u", (unsigned)(i % 100000));
		pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execlp("ip", "ip", "link", "add", ifnames[i], "type",
			       "veth", "peer", "name", peer, (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr,
				"cranegate: cannot create interface '%s' in "
				"the private namespace\n",
				ifnames[i]);
			return -EIO;
		}
	}
	return 0;
}
