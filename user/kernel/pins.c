// SPDX-License-Identifier: GPL-2.0
/*
 * The live gate's places (loader.h): the pin root and its lock, the
 * program on an interface, and the hand-off of the enforcing instance
 * (`progs` slots and `live`). The apply transaction (loader.c), the
 * snapshot, the shadow's counters and the tools above all find the gate
 * through these.
 */
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "perm.h"

#define BPFFS "/sys/fs/bpf"

void cg_pin_path(const struct cg_env *env, const char *name, char *buf,
		 size_t len)
{
	snprintf(buf, len, "%s/%s", env->pin_root, name);
}

int cg_pin_fd(const struct cg_env *env, const char *name)
{
	char path[PATH_MAX];

	cg_pin_path(env, name, path, sizeof(path));
	return bpf_obj_get(path);
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

int cg_lock(const struct cg_env *env, int *lock_fd)
{
	int fd;

	*lock_fd = -1;
	if (!strncmp(env->pin_root, BPFFS "/", strlen(BPFFS) + 1) &&
	    !is_bpffs(BPFFS)) {
		if (mount("bpf", BPFFS, "bpf", 0, "mode=0700")) {
			fprintf(stderr,
				"cranegate: cannot mount the BPF filesystem on "
				"%s: %s\n",
				BPFFS, strerror(errno));
			return -errno;
		}
	}
	if (mkdir(env->pin_root, 0700) && errno != EEXIST) {
		fprintf(stderr, "cranegate: cannot create %s: %s\n",
			env->pin_root, strerror(errno));
		return -errno;
	}
	if (!is_bpffs(env->pin_root)) {
		fprintf(stderr,
			"cranegate: %s is not on a BPF filesystem (mount -t "
			"bpf bpf DIR)\n",
			env->pin_root);
		return -ENOTSUP;
	}
	/* Before its lock: a lock someone else can hold is no lock. */
	if (cg_dir_perm_check(env->pin_root, "pin root", true, stderr))
		return -EPERM;
	fd = open(env->pin_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		fprintf(stderr,
			"cranegate: waiting for another cranegate working on "
			"%s\n",
			env->pin_root);
		if (flock(fd, LOCK_EX)) {
			close(fd);
			return -errno;
		}
	}
	*lock_fd = fd;
	return 0;
}

void cg_unlock(int lock_fd)
{
	if (lock_fd >= 0)
		close(lock_fd);
}

/* The XDP program attached to an interface, and how. */
int cg_xdp_query(int ifindex, uint32_t *prog_id, uint8_t *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);

	*prog_id = err ? 0 : q.prog_id;
	*mode = err ? 0 : q.attach_mode;
	return err;
}

const char *cg_xdp_mode_name(uint8_t mode)
{
	switch (mode) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "generic";
	case XDP_ATTACHED_HW:
		return "offload";
	}
	return "none";
}

/*
 * The hand-off maps (see maps/cranegate.h), or -1 when no apply has
 * created them yet.
 */
void cg_live_open(const struct cg_env *env, int *progs_fd, int *live_fd,
		  struct cg_live *l)
{
	char path[PATH_MAX];
	uint32_t zero = 0;

	memset(l, 0, sizeof(*l));
	cg_pin_path(env, "progs", path, sizeof(path));
	*progs_fd = bpf_obj_get(path);
	cg_pin_path(env, "live", path, sizeof(path));
	*live_fd = bpf_obj_get(path);
	if (*live_fd >= 0 && bpf_map_lookup_elem(*live_fd, &zero, l))
		memset(l, 0, sizeof(*l));
}

/* The program in a slot of `progs`: an fd, or -1 when the slot is empty. */
int cg_slot_prog(int progs_fd, uint32_t slot)
{
	uint32_t id;

	if (progs_fd < 0 || slot == CG_SLOT_NONE ||
	    bpf_map_lookup_elem(progs_fd, &slot, &id))
		return -1;
	return bpf_prog_get_fd_by_id(id);
}

int cg_gate_slot_prog(const struct cg_env *env, uint32_t slot,
		      struct cg_live *l)
{
	struct cg_live own;
	int progs_fd, live_fd, fd;

	if (!l)
		l = &own;
	cg_live_open(env, &progs_fd, &live_fd, l);
	fd = cg_slot_prog(progs_fd, slot == CG_SLOT_NONE ? l->slot : slot);
	if (progs_fd >= 0)
		close(progs_fd);
	if (live_fd >= 0)
		close(live_fd);
	return fd;
}

/*
 * The instance that enforces: the live slot's program; before the first
 * switch of `live` (or for a gate from before the hand-off), the pinned
 * program. -1 when there is none.
 */
int cg_enforcing_prog(const struct cg_env *env)
{
	char path[PATH_MAX];
	int fd = cg_gate_slot_prog(env, CG_SLOT_NONE, NULL);

	if (fd >= 0)
		return fd;
	cg_pin_path(env, "prog", path, sizeof(path));
	return bpf_obj_get(path);
}
