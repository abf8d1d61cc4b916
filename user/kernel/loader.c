// SPDX-License-Identifier: GPL-2.0
/*
 * The live gate: apply, detach, status, events. See loader.h for the pin
 * layout.
 *
 * apply builds a complete new instance first (nothing in the kernel
 * changes while it does), then swaps it onto each interface with one
 * atomic program replacement (XDP_FLAGS_REPLACE, naming the program it
 * expects to replace), attaches it through libxdp where the gate was not
 * yet attached, and finally repins. If any interface fails, every
 * interface already switched is switched back and the old instance stays
 * the active one: nothing is half-applied.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "hex.h"
#include "gate.h"
#include "loader.h"
#include "narrow.h"
#include "output.h"
#include "perm.h"
#include "rxvlan.h"
#include "shadow_maps.h"

#define BPFFS "/sys/fs/bpf"

static int libxdp_quiet(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	return 0;
}

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

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* The XDP program attached to an interface, and how. */
static int xdp_query(int ifindex, uint32_t *prog_id, uint8_t *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);

	*prog_id = err ? 0 : q.prog_id;
	*mode = err ? 0 : q.attach_mode;
	return err;
}

static const char *mode_name(uint8_t mode)
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

static uint32_t mode_flags(uint8_t mode)
{
	return mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE
					: XDP_FLAGS_DRV_MODE;
}

/* One interface switched by apply, so that it can be switched back. */
struct switched {
	int ifindex;
	char name[IF_NAMESIZE];
	bool replaced; /* true: old program swapped out; false: new attach */
	bool kept;     /* a front of this gate was there and stays */
	uint8_t mode;
	int prev_fd;  /* the program swapped out, when not the pinned one */
	int front_fd; /* the front attached here (rxvlan.h), or -1 */
};

/*
 * An fd of program `id` if it is an instance of this gate that is not the
 * pinned one: a program left on an interface by an apply that was killed
 * between its swaps and its re-pin. An instance of this gate is one that
 * uses this pin root's connection table. -1 otherwise.
 */
static int stray_instance(const struct cg_env *env, uint32_t id)
{
	struct bpf_prog_info info = {};
	struct bpf_map_info mi = {};
	uint32_t len = sizeof(info), mlen = sizeof(mi), ids[64], i;
	char path[PATH_MAX];
	int fd, conns;

	cg_pin_path(env, "conns", path, sizeof(path));
	conns = bpf_obj_get(path);
	if (conns < 0 || bpf_obj_get_info_by_fd(conns, &mi, &mlen)) {
		if (conns >= 0)
			close(conns);
		return -1;
	}
	close(conns);
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -1;
	info.nr_map_ids = 64;
	info.map_ids = (uint64_t)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		for (i = 0; i < info.nr_map_ids && i < 64; i++)
			if (ids[i] == mi.id)
				return fd;
	close(fd);
	return -1;
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
static int enforcing_prog(const struct cg_env *env)
{
	char path[PATH_MAX];
	int fd = cg_gate_slot_prog(env, CG_SLOT_NONE, NULL);

	if (fd >= 0)
		return fd;
	cg_pin_path(env, "prog", path, sizeof(path));
	return bpf_obj_get(path);
}

static int attach_new(int ifindex, const char *name, int prog_fd, uint8_t *mode)
{
	struct xdp_program *xp = xdp_program__from_fd(prog_fd);
	int err;

	if (libxdp_get_error(xp))
		return (int)libxdp_get_error(xp);
	err = xdp_program__attach(xp, ifindex, XDP_MODE_NATIVE, 0);
	*mode = XDP_ATTACHED_DRV;
	if (err) {
		fprintf(stderr,
			"cranegate: warning: native XDP on %s failed (%s); "
			"using generic mode, which is slower\n",
			name, strerror(-err));
		err = xdp_program__attach(xp, ifindex, XDP_MODE_SKB, 0);
		*mode = XDP_ATTACHED_SKB;
	}
	xdp_program__close(xp);
	return err;
}

static void switch_back(const struct switched *s, size_t n, int new_fd,
			int old_fd)
{
	while (n--) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o,
			    .old_prog_fd = s[n].front_fd >= 0 ? s[n].front_fd
							      : new_fd);
		int err;

		if (s[n].kept)
			continue;
		if (s[n].replaced)
			err = bpf_xdp_attach(
				s[n].ifindex,
				s[n].prev_fd >= 0 ? s[n].prev_fd : old_fd,
				XDP_FLAGS_REPLACE | mode_flags(s[n].mode), &o);
		else
			err = bpf_xdp_detach(
				s[n].ifindex,
				XDP_FLAGS_REPLACE | mode_flags(s[n].mode), &o);
		if (err)
			fprintf(stderr, "cranegate: could not restore %s: %s\n",
				s[n].name, strerror(-err));
	}
}

/*
 * After the commit: connections whose flow the new policy gives a window,
 * or an earlier end, end with it (narrow.h). The policy is applied
 * already; a failure here is a warning.
 */
static void narrow_conns(const struct cg_gate *g, const struct cg_compiled *c)
{
	struct cg_narrow_stats st;
	int err = cg_conns_narrow(cg_gate_map_fd(g, "conns"), c, &st);

	if (err)
		fprintf(stderr,
			"cranegate: warning: re-judging open connections "
			"failed (%s); %lu of %lu connections were narrowed, "
			"the others end with the window their flow had\n",
			strerror(-err), st.narrowed + st.cut, st.walked);
	if (st.narrowed || st.cut)
		printf("open connections under the new windows: %lu end at "
		       "their flow's new until, %lu ended now (of %lu)\n",
		       st.narrowed, st.cut, st.walked);
}

static bool in_policy(const struct cg_compiled *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_ifnames; i++)
		if (!strcmp(c->ifnames[i], name))
			return true;
	return false;
}

static struct cg_change_hooks hooks;

void cg_change_hooks_set(const struct cg_change_hooks *h)
{
	memset(&hooks, 0, sizeof(hooks));
	if (h)
		hooks = *h;
}

unsigned cg_change_rev_of_id(const struct cg_env *env, unsigned long long id)
{
	return hooks.rev_of_id ? hooks.rev_of_id(env, id) : 0;
}

int cg_apply(const struct cg_env *env, const char *policy_path)
{
	return cg_apply_change(env, policy_path, NULL);
}

/*
 * History and audit (history.c, through cg_change_hooks) hook in at two
 * points: before anything switches (keep a copy of the policy, arm a
 * commit-confirmed revert; a failure there changes nothing) and on every
 * way out (the audit line).
 */
int cg_apply_change(const struct cg_env *env, const char *policy_path,
		    struct cg_change *ch)
{
	struct cg_change plain = {.action = "apply"};
	char prog_pin[PATH_MAX], tmp_pin[PATH_MAX + 8];
	struct cg_diags d = {.file = policy_path};
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_gate *g = NULL;
	struct cg_gate_opts go = {.pin_root = env->pin_root,
				  .learn_self = true,
				  .verbose = env->verbose};
	struct switched *sw = NULL;
	struct if_nameindex *ifs = NULL, *it;
	size_t n_sw = 0, i;
	uint32_t old_id, new_id;
	int err, lock_fd = -1, old_fd = -1, new_fd, attach_fd;
	int progs_fd = -1, live_fd = -1;
	struct cg_live live = {};
	bool installed = false;

	if (!ch)
		ch = &plain;
	err = cg_policy_load(policy_path, &p, &d);
	if (!err)
		err = cg_compile(p, &c, &d);
	cg_diags_print(&d, stderr);
	if (err)
		goto out;

	if ((err = cg_lock(env, &lock_fd)))
		goto out;
	libxdp_set_print(libxdp_quiet);

	cg_pin_path(env, "prog", prog_pin, sizeof(prog_pin));
	old_fd = enforcing_prog(env);
	old_id = prog_id_of(old_fd);
	if (hooks.begin && (err = hooks.begin(env, ch, p, policy_path)))
		goto out;

	/* The new instance goes into the slot that does not enforce. */
	cg_live_open(env, &progs_fd, &live_fd, &live);
	go.slot = live.slot == CG_SLOT_A ? CG_SLOT_B : CG_SLOT_A;
	if ((err = cg_gate_load(c, &go, &g)))
		goto out;
	new_fd = cg_gate_prog_fd(g);
	if (progs_fd < 0)
		cg_live_open(env, &progs_fd, &live_fd, &live);
	if (progs_fd < 0 || live_fd < 0 ||
	    bpf_map_update_elem(progs_fd, &go.slot, &new_fd, BPF_ANY)) {
		err = progs_fd < 0 || live_fd < 0 ? -ENOENT : -errno;
		fprintf(stderr,
			"cranegate: installing the new program in %s/progs "
			"failed: %s\n",
			env->pin_root, strerror(-err));
		goto out;
	}
	installed = true;
	/* Flows the new policy keeps keep their counters. */
	cg_gate_carry_flow_stats(g, old_fd);
	new_id = prog_id_of(new_fd);

	/* Switch every interface the policy names. */
	sw = calloc(c->n_ifnames + 1, sizeof(*sw));
	if (!sw) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < c->n_ifnames; i++) {
		struct switched *s = &sw[n_sw];
		uint32_t cur;

		s->ifindex = if_nametoindex(c->ifnames[i]);
		s->prev_fd = -1;
		s->front_fd = -1;
		snprintf(s->name, sizeof(s->name), "%s", c->ifnames[i]);
		xdp_query(s->ifindex, &cur, &s->mode);
		if (cur && cg_front_of(env, cur)) {
			/* A front hands frames to whatever `live` names. */
			s->kept = true;
			n_sw++;
			continue;
		}
		/* How the gate will see VLAN tags here (rxvlan.h). */
		attach_fd = new_fd;
		if (cg_rxvlan_meta_supported(s->ifindex)) {
			err = cg_front_load(env, s->ifindex, s->name,
					    &s->front_fd);
			attach_fd = s->front_fd;
		} else {
			err = cg_rxvlan_frame(env, s->name);
		}
		if (err) {
			switch_back(sw, n_sw, new_fd, old_fd);
			goto out;
		}
		if (cur && cur != old_id &&
		    (s->prev_fd = stray_instance(env, cur)) >= 0) {
			/* Left by an apply that died half-way: finish it. */
			LIBBPF_OPTS(bpf_xdp_attach_opts, o,
				    .old_prog_fd = s->prev_fd);

			fprintf(stderr,
				"cranegate: %s carries program %u of this gate "
				"from an apply that did not finish; replacing "
				"it\n",
				s->name, cur);
			s->replaced = true;
			err = bpf_xdp_attach(
				s->ifindex, attach_fd,
				XDP_FLAGS_REPLACE | mode_flags(s->mode), &o);
		} else if (cur && cur == old_id) {
			LIBBPF_OPTS(bpf_xdp_attach_opts, o,
				    .old_prog_fd = old_fd);

			s->replaced = true;
			/* A device-bound front runs in native mode only. */
			if (s->front_fd >= 0)
				s->mode = XDP_ATTACHED_DRV;
			err = bpf_xdp_attach(
				s->ifindex, attach_fd,
				XDP_FLAGS_REPLACE | mode_flags(s->mode), &o);
		} else if (cur) {
			fprintf(stderr,
				"cranegate: %s already has an XDP program (id "
				"%u) that this gate (%s) did not attach; "
				"remove it first (ip link set dev %s xdp off) "
				"or use another --pin-root\n",
				s->name, cur, env->pin_root, s->name);
			err = -EBUSY;
		} else if (s->front_fd >= 0) {
			s->replaced = false;
			s->mode = XDP_ATTACHED_DRV;
			err = bpf_xdp_attach(s->ifindex, s->front_fd,
					     XDP_FLAGS_UPDATE_IF_NOEXIST |
						     XDP_FLAGS_DRV_MODE,
					     NULL);
		} else {
			s->replaced = false;
			err = attach_new(s->ifindex, s->name, new_fd, &s->mode);
		}
		if (err) {
			if (err != -EBUSY)
				fprintf(stderr,
					"cranegate: attaching to %s failed: "
					"%s\n",
					s->name, strerror(-err));
			switch_back(sw, n_sw, new_fd, old_fd);
			goto out;
		}
		n_sw++;
	}

	/*
	 * Commit: every interface now carries an instance that reads `live`;
	 * one write moves all of them to the new policy at once.
	 */
	live.slot = go.slot;
	if (bpf_map_update_elem(live_fd, &(uint32_t){0}, &live, BPF_ANY)) {
		err = -errno;
		fprintf(stderr,
			"cranegate: switching to the new policy failed: %s\n",
			strerror(-err));
		switch_back(sw, n_sw, new_fd, old_fd);
		goto out;
	}
	installed = false;
	/* A shadow now compares with the new live policy: from zero. */
	if (live.shadow)
		cg_shadow_reset(env);
	/* Windows the new policy narrows reach the open connections. */
	narrow_conns(g, c);

	/* Interfaces the old policy had and the new one does not. */
	ifs = if_nameindex();
	for (it = ifs; old_id && it && it->if_index; it++) {
		uint32_t cur;
		uint8_t mode;

		xdp_query(it->if_index, &cur, &mode);
		if (cur && cur != old_id &&
		    (!cg_front_of(env, cur) || in_policy(c, it->if_name)))
			continue;
		if (cur) {
			LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = -1);
			int fd = bpf_prog_get_fd_by_id(cur);

			o.old_prog_fd = cur == old_id ? old_fd : fd;
			if (bpf_xdp_detach(it->if_index,
					   XDP_FLAGS_REPLACE | mode_flags(mode),
					   &o))
				fprintf(stderr,
					"cranegate: warning: could not detach "
					"from %s\n",
					it->if_name);
			else
				printf("detached from %s (not in the new "
				       "policy)\n",
				       it->if_name);
			if (fd >= 0)
				close(fd);
		}
	}

	/* Repin: the new program replaces the old pin in one rename. */
	/* bpffs refuses names with dots. */
	snprintf(tmp_pin, sizeof(tmp_pin), "%s_new", prog_pin);
	unlink(tmp_pin);
	if (bpf_obj_pin(new_fd, tmp_pin) || rename(tmp_pin, prog_pin)) {
		err = -errno;
		fprintf(stderr,
			"cranegate: warning: pinning the program failed: %s; "
			"the gate is attached but `status` will not find it\n",
			strerror(-err));
		err = 0;
	}
	/* Every interface runs the new instance: the old one can go. */
	{
		uint32_t old_slot =
			go.slot == CG_SLOT_A ? CG_SLOT_B : CG_SLOT_A;

		bpf_map_delete_elem(progs_fd, &old_slot);
	}
	printf("applied policy '%s' (%s, %zu flows) as program %u on", p->name,
	       p->mode == CG_POLICY_MONITOR ? "monitor" : "enforce", p->n_flows,
	       new_id);
	for (i = 0; i < n_sw; i++)
		printf(" %s (%s%s%s)", sw[i].name, mode_name(sw[i].mode),
		       sw[i].replaced ? ", swapped" : "",
		       sw[i].kept || sw[i].front_fd >= 0
			       ? ", VLAN tags from metadata"
			       : "");
	printf("\n");
	err = 0;
out:
	/* Not committed: the slot must not keep the new program alive. */
	if (installed)
		bpf_map_delete_elem(progs_fd, &go.slot);
	if (progs_fd >= 0)
		close(progs_fd);
	if (live_fd >= 0)
		close(live_fd);
	if (g)
		cg_gate_iface_stats_settle(g, !err);
	if (hooks.end)
		hooks.end(env, ch, p, policy_path, err);
	if (ifs)
		if_freenameindex(ifs);
	for (i = 0; sw && i < n_sw + 1 && i < c->n_ifnames; i++) {
		if (sw[i].prev_fd > 0)
			close(sw[i].prev_fd);
		if (sw[i].front_fd > 0)
			close(sw[i].front_fd);
	}
	free(sw);
	if (old_fd >= 0)
		close(old_fd);
	cg_gate_free(g);
	cg_compiled_free(c);
	cg_policy_free(p);
	cg_diags_free(&d);
	cg_unlock(lock_fd);
	return err;
}

int cg_detach(const struct cg_env *env)
{
	struct if_nameindex *ifs, *it;
	char path[PATH_MAX];
	uint32_t id;
	size_t i;
	int fd, err, lock_fd, n = 0;

	if ((err = cg_lock(env, &lock_fd)))
		return err;
	/* Recorded before it happens, or it does not happen. */
	if (hooks.detaching && (err = hooks.detaching(env))) {
		cg_unlock(lock_fd);
		return err;
	}
	fd = enforcing_prog(env);
	id = prog_id_of(fd);
	ifs = if_nameindex();
	for (it = ifs; it && it->if_index; it++) {
		uint32_t cur;
		uint8_t mode;
		int stray = -1;

		xdp_query(it->if_index, &cur, &mode);
		/* A front of this gate (rxvlan.h). */
		if (cur && cur != id && cg_front_of(env, cur))
			stray = bpf_prog_get_fd_by_id(cur);
		/* The pinned program, or one an unfinished apply left. */
		if (cur && (cur == id || stray >= 0 ||
			    (stray = stray_instance(env, cur)) >= 0)) {
			LIBBPF_OPTS(bpf_xdp_attach_opts, o,
				    .old_prog_fd = stray >= 0 ? stray : fd);

			if (bpf_xdp_detach(it->if_index,
					   XDP_FLAGS_REPLACE | mode_flags(mode),
					   &o)) {
				fprintf(stderr,
					"cranegate: could not detach from %s: "
					"%s\n",
					it->if_name, strerror(errno));
				err = -errno;
			} else {
				printf("detached from %s\n", it->if_name);
				n++;
			}
		}
		if (stray >= 0)
			close(stray);
	}
	if (ifs)
		if_freenameindex(ifs);
	if (fd >= 0)
		close(fd);
	if (err) {
		cg_unlock(lock_fd);
		if (hooks.detached)
			hooks.detached(env, err);
		return err;
	}
	/* Offloads this gate turned off, even by a loader since killed. */
	cg_rxvlan_restore(env);
	cg_pin_path(env, "prog", path, sizeof(path));
	unlink(path);
	for (i = 0; i < cg_n_state_maps; i++) {
		cg_pin_path(env, cg_state_maps[i], path, sizeof(path));
		unlink(path);
	}
	rmdir(env->pin_root);
	if (!n)
		printf("no interface had this gate attached\n");
	cg_unlock(lock_fd);
	if (hooks.detached)
		hooks.detached(env, 0);
	return 0;
}

/* The active instance, read back through the pinned program. */
struct cg_active {
	int prog_fd;
	uint32_t prog_id;
	int meta_fd, names_fd, flow_stats_fd, ics_stats_fd, flow_info_fd;
	struct cg_policy_meta meta;
	struct cg_name *names; /* zones, then flows */
};

int cg_active_open(const struct cg_env *env, struct cg_active **out)
{
	return cg_instance_open(enforcing_prog(env), out);
}

int cg_instance_open(int prog_fd, struct cg_active **out)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info), ids[64], i, zero = 0;
	struct cg_active *a;

	*out = NULL;
	if (prog_fd < 0)
		return -ENOENT;
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(prog_fd);
		return -ENOMEM;
	}
	a->meta_fd = a->names_fd = a->flow_stats_fd = a->ics_stats_fd = -1;
	a->flow_info_fd = -1;
	a->prog_fd = prog_fd;
	info.nr_map_ids = 64;
	info.map_ids = (uint64_t)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(a->prog_fd, &info, &len)) {
		cg_active_close(a);
		return -errno;
	}
	a->prog_id = info.id;
	for (i = 0; i < info.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi = {};
		uint32_t mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		bpf_obj_get_info_by_fd(fd, &mi, &mlen);
		if (!strcmp(mi.name, "meta") && a->meta_fd < 0)
			a->meta_fd = fd;
		else if (!strcmp(mi.name, "names") && a->names_fd < 0)
			a->names_fd = fd;
		else if (!strcmp(mi.name, "flow_stats") && a->flow_stats_fd < 0)
			a->flow_stats_fd = fd;
		else if (!strcmp(mi.name, "ics_stats") && a->ics_stats_fd < 0)
			a->ics_stats_fd = fd;
		else if (!strcmp(mi.name, "flow_info") && a->flow_info_fd < 0)
			a->flow_info_fd = fd;
		else
			close(fd);
	}
	if (a->meta_fd < 0 ||
	    bpf_map_lookup_elem(a->meta_fd, &zero, &a->meta)) {
		cg_active_close(a);
		return -ENOENT;
	}
	a->names = calloc(a->meta.n_zones + a->meta.n_flows + 1,
			  sizeof(*a->names));
	for (i = 0; a->names && a->names_fd >= 0 &&
		    i < a->meta.n_zones + a->meta.n_flows;
	     i++)
		bpf_map_lookup_elem(a->names_fd, &i, &a->names[i]);
	*out = a;
	return 0;
}

void cg_active_close(struct cg_active *a)
{
	if (!a)
		return;
	if (a->prog_fd >= 0)
		close(a->prog_fd);
	if (a->meta_fd >= 0)
		close(a->meta_fd);
	if (a->names_fd >= 0)
		close(a->names_fd);
	if (a->flow_stats_fd >= 0)
		close(a->flow_stats_fd);
	if (a->ics_stats_fd >= 0)
		close(a->ics_stats_fd);
	if (a->flow_info_fd >= 0)
		close(a->flow_info_fd);
	free(a->names);
	free(a);
}

const char *cg_active_zone(const struct cg_active *a, unsigned id)
{
	if (!a || !a->names || id >= a->meta.n_zones)
		return NULL;
	return a->names[id].name;
}

const char *cg_active_flow(const struct cg_active *a, unsigned id)
{
	if (!a || !a->names || id >= a->meta.n_flows)
		return NULL;
	return a->names[a->meta.n_zones + id].name;
}

const struct cg_policy_meta *cg_active_meta(const struct cg_active *a)
{
	return &a->meta;
}

unsigned cg_active_prog_id(const struct cg_active *a)
{
	return a->prog_id;
}

unsigned long long cg_active_policy_id(const struct cg_active *a)
{
	unsigned long long id = 0;
	int i;

	for (i = 0; a && i < 8; i++)
		id = (id << 8) | a->meta.sha256[i];
	return id;
}

/* Sum a per-CPU counter over CPUs. */
static int percpu_sum(int fd, uint32_t key, void *vals, size_t val_size,
		      int ncpu, uint64_t *sums, size_t nsums)
{
	int cpu;
	size_t j;

	memset(sums, 0, nsums * sizeof(*sums));
	if (bpf_map_lookup_elem(fd, &key, vals))
		return -errno;
	for (cpu = 0; cpu < ncpu; cpu++) {
		const uint64_t *v =
			(const uint64_t *)((char *)vals + cpu * val_size);

		for (j = 0; j < nsums; j++)
			sums[j] += v[j];
	}
	return 0;
}

/*
 * When a per-CPU counter was last hit, as Unix time (0: never): the
 * newest `last` (jiffies) of any CPU, dated back from jiffies now.
 */
static time_t last_hit(const void *vals, int ncpu, unsigned long long jnow,
		       unsigned hz)
{
	const struct cg_counter *c = vals;
	unsigned long long last = 0;
	int cpu;

	for (cpu = 0; cpu < ncpu; cpu++)
		if (c[cpu].last > last)
			last = c[cpu].last;
	if (!last || !jnow || !hz || last > jnow)
		return last ? time(NULL) : 0;
	return time(NULL) - (time_t)((jnow - last) / hz);
}

static void print_sha(FILE *out, const uint8_t *sha)
{
	char hex[65];

	cg_hex(sha, 32, hex);
	fputs(hex, out);
}

/*
 * The window of a time-boxed flow as the kernel holds it: its state
 * ("not-yet", "open", "ended") at the kernel's CLOCK_TAI, and its bounds
 * in UTC ("" for an open end), turned back with the current TAI-UTC
 * offset. Returns false for a flow without a window.
 */
static bool flow_window(const struct cg_active *a, uint32_t f, char *state,
			size_t slen, char *from, char *until, size_t tlen)
{
	struct cg_flow_info fi;
	struct timespec r, t;
	int64_t off, now;
	struct tm tm;
	time_t x;

	if (!a || a->flow_info_fd < 0 ||
	    bpf_map_lookup_elem(a->flow_info_fd, &f, &fi) ||
	    !(fi.flags & CG_FLOW_TIMED))
		return false;
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_TAI, &t);
	off = (int64_t)t.tv_sec - r.tv_sec;
	now = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
	from[0] = until[0] = 0;
	if (fi.valid_from) {
		x = (time_t)(fi.valid_from / 1000000000ull) - off;
		gmtime_r(&x, &tm);
		strftime(from, tlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (fi.valid_until) {
		x = (time_t)(fi.valid_until / 1000000000ull) - off;
		gmtime_r(&x, &tm);
		strftime(until, tlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (fi.valid_from && now < (int64_t)fi.valid_from)
		snprintf(state, slen, "not-yet");
	else if (fi.valid_until && now >= (int64_t)fi.valid_until)
		snprintf(state, slen, "ended");
	else
		snprintf(state, slen, "open");
	return true;
}

/*
 * A new zeroed element at the end of *arr (*n elements of `size` bytes),
 * or NULL when memory runs out (*arr is then unchanged).
 */
static void *append_zeroed(void **arr, size_t *n, size_t size)
{
	char *grown = realloc(*arr, (*n + 1) * size);

	if (!grown)
		return NULL;
	*arr = grown;
	memset(grown + *n * size, 0, size);
	return grown + (*n)++ * size;
}

/* Room for one per-CPU value of any state map, for every CPU. */
static void *percpu_buf(int ncpu)
{
	size_t sz = sizeof(struct cg_iface_stats);

	if (sz < sizeof(struct cg_counter))
		sz = sizeof(struct cg_counter);
	if (sz < sizeof(struct cg_event_counter))
		sz = sizeof(struct cg_event_counter);
	return ncpu > 0 ? calloc(ncpu, sz) : NULL;
}

static int cmp_ifstat(const void *a, const void *b)
{
	const struct cg_snap_ifstat *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

/*
 * The per-interface counters (state maps iface_slots, iface_stats), summed
 * over CPUs, sorted by ifindex. `prog_id` (0: none) marks the interfaces
 * the active program is attached to. 0 or a negative errno; no maps is no
 * entries.
 */
static int read_ifstats(const struct cg_env *env, uint32_t prog_id, int ncpu,
			struct cg_snap_ifstat **out, size_t *n)
{
	struct cg_iface_stats *v = NULL;
	struct cg_snap_ifstat *arr = NULL;
	uint32_t key, next, *kp = NULL, cur, slot;
	char path[PATH_MAX];
	uint8_t mode;
	int slots, stats, cpu, r, err = 0;

	*out = NULL;
	*n = 0;
	cg_pin_path(env, "iface_slots", path, sizeof(path));
	slots = bpf_obj_get(path);
	cg_pin_path(env, "iface_stats", path, sizeof(path));
	stats = bpf_obj_get(path);
	v = calloc(ncpu, sizeof(*v));
	if (slots < 0 || stats < 0 || !v)
		goto out;
	while (!bpf_map_get_next_key(slots, kp, &next)) {
		struct cg_snap_ifstat *si;

		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(slots, &key, &slot) ||
		    bpf_map_lookup_elem(stats, &slot, v))
			continue;
		si = append_zeroed((void **)&arr, n, sizeof(*arr));
		if (!si) {
			err = -ENOMEM;
			break;
		}
		si->ifindex = key;
		if (!if_indextoname(key, si->name))
			snprintf(si->name, sizeof(si->name), "#%u", key);
		si->attached = prog_id && !xdp_query(key, &cur, &mode) &&
			       cg_guarded(env, cur, prog_id);
		for (cpu = 0; cpu < ncpu; cpu++)
			for (r = 0; r < CG_R_MAX; r++) {
				si->reasons[r].packets += v[cpu].r[r].packets;
				si->reasons[r].bytes += v[cpu].r[r].bytes;
			}
	}
	if (arr)
		qsort(arr, *n, sizeof(*arr), cmp_ifstat);
out:
	if (slots >= 0)
		close(slots);
	if (stats >= 0)
		close(stats);
	free(v);
	if (!v && slots >= 0 && stats >= 0)
		err = -ENOMEM;
	*out = arr;
	return err;
}

/* Inspected ICS requests of the active instance, summed over CPUs. */
static int read_ics(const struct cg_active *a, int ncpu,
		    struct cg_snap_ics **out, size_t *n)
{
	struct cg_counter *v;
	struct cg_snap_ics *arr = NULL;
	struct cg_ics_key k, next;
	void *kp = NULL;
	int cpu, err = 0;

	*out = NULL;
	*n = 0;
	if (!a || a->ics_stats_fd < 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (!bpf_map_get_next_key(a->ics_stats_fd, kp, &next)) {
		struct cg_snap_ics *si;
		const char *flow;

		k = next;
		kp = &k;
		if (bpf_map_lookup_elem(a->ics_stats_fd, &k, v))
			continue;
		si = append_zeroed((void **)&arr, n, sizeof(*arr));
		if (!si) {
			err = -ENOMEM;
			break;
		}
		flow = cg_active_flow(a, k.flow);
		snprintf(si->flow, sizeof(si->flow), "%s", flow ? flow : "");
		si->protocol =
			k.proto == CG_ICS_PROTO_S7COMM ? "s7comm" : "modbus";
		si->function = k.function;
		si->verdict = cg_verdict_name(k.verdict);
		for (cpu = 0; cpu < ncpu; cpu++) {
			si->c.packets += v[cpu].packets;
			si->c.bytes += v[cpu].bytes;
		}
	}
	free(v);
	*out = arr;
	return err;
}

int cg_status(const struct cg_env *env, FILE *out)
{
	struct cg_active *a = NULL;
	struct if_nameindex *ifs, *it;
	char path[PATH_MAX];
	int ncpu = libbpf_num_possible_cpus(), fd, first;
	uint64_t sums[4];
	uint32_t r, f;
	void *vals;
	bool json = env->json, timed;
	char wstate[16], wfrom[32], wuntil[32], hit_at[32];
	unsigned long long jnow = 0;
	time_t hit;

	vals = percpu_buf(ncpu);
	if (!vals)
		return -ENOMEM;
	cg_active_open(env, &a);

	/* Attached interfaces: the kernel is the record. */
	fprintf(out, json ? "{\"pin_root\": " : "gate at %s\n", env->pin_root);
	if (json) {
		cg_json_str(out, env->pin_root);
		fputs(", \"attached\": [", out);
	} else {
		fputs("attached:", out);
	}
	first = 1;
	ifs = if_nameindex();
	for (it = ifs; a && it && it->if_index; it++) {
		uint32_t cur;
		uint8_t mode;

		enum cg_rx_vlan how;

		xdp_query(it->if_index, &cur, &mode);
		if (!cg_guarded(env, cur, a->prog_id))
			continue;
		how = cg_rxvlan_now(env, it->if_name, cur);
		if (json)
			fprintf(out,
				"%s{\"iface\": \"%s\", \"ifindex\": %u, "
				"\"mode\": \"%s\", \"vlan_tags\": \"%s\", "
				"\"rx_vlan_offload_off_by_gate\": %s}",
				first ? "" : ", ", it->if_name, it->if_index,
				mode_name(mode),
				how == CG_RXV_FRAME_BY_GATE
					? "frame"
					: cg_rx_vlan_name(how),
				how == CG_RXV_FRAME_BY_GATE ? "true" : "false");
		else
			fprintf(out, " %s (%s, VLAN tags: %s)", it->if_name,
				mode_name(mode), cg_rx_vlan_name(how));
		first = 0;
	}
	if (ifs)
		if_freenameindex(ifs);
	fputs(json ? "]" : (first ? " none\n" : "\n"), out);

	if (a) {
		char t[32];
		time_t at = a->meta.applied_at;
		struct tm tm;

		gmtime_r(&at, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (json) {
			fputs(", \"policy\": {\"name\": ", out);
			cg_json_str(out, a->meta.name);
			fputs(", \"sha256\": \"", out);
			print_sha(out, a->meta.sha256);
			fprintf(out,
				"\", \"applied_at\": \"%s\", \"mode\": \"%s\", "
				"\"program_id\": %u}",
				t, a->meta.mode ? "monitor" : "enforce",
				a->prog_id);
		} else {
			fprintf(out, "policy:   %s (%s), sha256 ", a->meta.name,
				a->meta.mode ? "monitor" : "enforce");
			print_sha(out, a->meta.sha256);
			fprintf(out, "\n          applied %s, program %u\n", t,
				a->prog_id);
		}
	} else {
		fputs(json ? ", \"policy\": null" : "policy:   none\n", out);
	}
	if (hooks.shadow_status)
		hooks.shadow_status(env, out, json, a);

	/* Per-reason counters (state: they survive reloads). */
	cg_pin_path(env, "reason_stats", path, sizeof(path));
	fd = bpf_obj_get(path);
	fputs(json ? ", \"reasons\": {" : "reasons:\n", out);
	for (r = 0, first = 1; fd >= 0 && r < CG_R_MAX; r++) {
		if (percpu_sum(fd, r, vals, sizeof(struct cg_counter), ncpu,
			       sums, 3))
			continue;
		if (json)
			fprintf(out,
				"%s\"%s\": {\"packets\": %llu, \"bytes\": "
				"%llu}",
				first ? "" : ", ", cg_reason_name(r),
				(unsigned long long)sums[0],
				(unsigned long long)sums[1]);
		else if (sums[0])
			fprintf(out, "  %-15s %12llu packets %14llu bytes\n",
				cg_reason_name(r), (unsigned long long)sums[0],
				(unsigned long long)sums[1]);
		first = 0;
	}
	if (fd >= 0)
		close(fd);
	fputs(json ? "}" : "", out);

	/* Per-flow counters (of the active policy). */
	fputs(json ? ", \"flows\": [" : "flows:\n", out);
	if (cg_kernel_jiffies(&jnow))
		jnow = 0;
	for (f = 0, first = 1;
	     a && a->flow_stats_fd >= 0 && f < a->meta.n_flows; f++) {
		if (percpu_sum(a->flow_stats_fd, f, vals,
			       sizeof(struct cg_counter), ncpu, sums, 3))
			continue;
		timed = flow_window(a, f, wstate, sizeof(wstate), wfrom, wuntil,
				    sizeof(wfrom));
		hit = last_hit(vals, ncpu, jnow, cg_kernel_hz());
		hit_at[0] = 0;
		if (hit) {
			struct tm tm;

			gmtime_r(&hit, &tm);
			strftime(hit_at, sizeof(hit_at), "%Y-%m-%dT%H:%M:%SZ",
				 &tm);
		}
		if (json) {
			fputs(first ? "{\"name\": " : ", {\"name\": ", out);
			cg_json_str(out, cg_active_flow(a, f));
			fprintf(out, ", \"packets\": %llu, \"bytes\": %llu",
				(unsigned long long)sums[0],
				(unsigned long long)sums[1]);
			fprintf(out, ", \"last_hit\": %s%s%s", hit ? "\"" : "",
				hit ? hit_at : "null", hit ? "\"" : "");
			if (timed) {
				fprintf(out, ", \"window\": {\"state\": \"%s\"",
					wstate);
				fprintf(out, ", \"from\": %s%s%s",
					*wfrom ? "\"" : "",
					*wfrom ? wfrom : "null",
					*wfrom ? "\"" : "");
				fprintf(out, ", \"until\": %s%s%s}",
					*wuntil ? "\"" : "",
					*wuntil ? wuntil : "null",
					*wuntil ? "\"" : "");
			}
			fputs("}", out);
		} else {
			fprintf(out, "  %-24s %12llu packets %14llu bytes",
				cg_active_flow(a, f),
				(unsigned long long)sums[0],
				(unsigned long long)sums[1]);
			if (hit)
				fprintf(out, "  last hit %s", hit_at);
			if (timed && !strcmp(wstate, "not-yet"))
				fprintf(out, "  window not yet open (from %s)",
					wfrom);
			else if (timed && !strcmp(wstate, "ended"))
				fprintf(out, "  window ended %s", wuntil);
			else if (timed && *wuntil)
				fprintf(out, "  window open, until %s", wuntil);
			else if (timed)
				fprintf(out, "  window open (since %s)", wfrom);
			fputs("\n", out);
		}
		first = 0;
	}
	fputs(json ? "]" : "", out);

	/* Per interface and reason (state: they survive reloads). */
	{
		struct cg_snap_ifstat *is;
		size_t n = 0, i;

		read_ifstats(env, a ? a->prog_id : 0, ncpu, &is, &n);
		fputs(json ? ", \"interfaces\": [" : "interfaces:\n", out);
		for (i = 0; i < n; i++) {
			unsigned long long tp = 0, tb = 0;

			for (r = 0; r < CG_R_MAX; r++) {
				tp += is[i].reasons[r].packets;
				tb += is[i].reasons[r].bytes;
			}
			if (json) {
				fputs(i ? ", {\"iface\": " : "{\"iface\": ",
				      out);
				cg_json_str(out, is[i].name);
				fprintf(out,
					", \"ifindex\": %u, \"attached\": %s, "
					"\"packets\": %llu, \"bytes\": %llu, "
					"\"reasons\": {",
					is[i].ifindex,
					is[i].attached ? "true" : "false", tp,
					tb);
				for (r = 0, first = 1; r < CG_R_MAX; r++) {
					if (!is[i].reasons[r].packets)
						continue;
					fprintf(out,
						"%s\"%s\": {\"packets\": %llu, "
						"\"bytes\": %llu}",
						first ? "" : ", ",
						cg_reason_name(r),
						is[i].reasons[r].packets,
						is[i].reasons[r].bytes);
					first = 0;
				}
				fputs("}}", out);
				continue;
			}
			fprintf(out, "  %-15s %12llu packets %14llu bytes%s\n",
				is[i].name, tp, tb,
				is[i].attached ? "" : "  (not attached)");
			for (r = 0; r < CG_R_MAX; r++)
				if (is[i].reasons[r].packets)
					fprintf(out,
						"    %-13s %12llu packets "
						"%14llu bytes\n",
						cg_reason_name(r),
						is[i].reasons[r].packets,
						is[i].reasons[r].bytes);
		}
		fputs(json ? "]" : "", out);
		free(is);
	}

	/* The state tables: sizes, use and what happened in them. */
	{
		static const char *const stat_names[CG_S_MAX] = {
			[CG_S_CONN_OPENED] = "connections_opened",
			[CG_S_CONN_FAILED] = "connections_failed",
			[CG_S_CONN_EXPIRED] = "connections_expired",
			[CG_S_MAC_LEARNED] = "macs_learned",
			[CG_S_FRAG_TRACKED] = "fragments_tracked",
		};
		static const char *const tables[] = {"conns", "macs", "frags"};
		uint64_t *pc = calloc(ncpu, sizeof(uint64_t));

		fputs(json ? ", \"state\": {" : "state:\n", out);
		first = 1;
		for (r = 0; r < 3; r++) {
			struct bpf_map_info mi = {};
			uint32_t mlen = sizeof(mi), used = 0;
			char key[64], *kp = NULL;

			cg_pin_path(env, tables[r], path, sizeof(path));
			fd = bpf_obj_get(path);
			if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &mlen)) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			while (mi.key_size <= sizeof(key) &&
			       !bpf_map_get_next_key(fd, kp, key)) {
				static char prev[64];

				memcpy(prev, key, mi.key_size);
				kp = prev;
				used++;
			}
			close(fd);
			if (json)
				fprintf(out,
					"%s\"%s\": {\"entries\": %u, \"max\": "
					"%u}",
					first ? "" : ", ", tables[r], used,
					mi.max_entries);
			else
				fprintf(out, "  %-8s %8u of %u entries\n",
					tables[r], used, mi.max_entries);
			first = 0;
		}
		cg_pin_path(env, "state_stats", path, sizeof(path));
		fd = bpf_obj_get(path);
		for (r = 0; fd >= 0 && pc && r < CG_S_MAX; r++) {
			uint64_t sum = 0;
			int cpu;

			if (bpf_map_lookup_elem(fd, &r, pc))
				continue;
			for (cpu = 0; cpu < ncpu; cpu++)
				sum += pc[cpu];
			if (json)
				fprintf(out, "%s\"%s\": %llu",
					first ? "" : ", ", stat_names[r],
					(unsigned long long)sum);
			else
				fprintf(out, "  %-20s %llu\n", stat_names[r],
					(unsigned long long)sum);
			first = 0;
		}
		if (fd >= 0)
			close(fd);
		free(pc);
		fputs(json ? "}" : "", out);
	}

	/* Inspected ICS requests, per flow, protocol, function and verdict. */
	fputs(json ? ", \"ics\": [" : "", out);
	if (a && a->ics_stats_fd >= 0) {
		struct cg_ics_key k, next;
		void *kp = NULL;

		first = 1;
		while (!bpf_map_get_next_key(a->ics_stats_fd, kp, &next)) {
			k = next;
			kp = &k;
			if (bpf_map_lookup_elem(a->ics_stats_fd, &k, vals))
				continue;
			sums[0] = sums[1] = 0;
			for (r = 0; r < (uint32_t)ncpu; r++) {
				sums[0] +=
					((struct cg_counter *)vals)[r].packets;
				sums[1] += ((struct cg_counter *)vals)[r].bytes;
			}
			if (json) {
				fputs(first ? "{\"flow\": " : ", {\"flow\": ",
				      out);
				cg_json_str(out, cg_active_flow(a, k.flow));
				fprintf(out,
					", \"protocol\": \"%s\", \"function\": "
					"%u, \"verdict\": \"%s\", \"packets\": "
					"%llu, \"bytes\": %llu}",
					k.proto == CG_ICS_PROTO_S7COMM
						? "s7comm"
						: "modbus",
					k.function, cg_verdict_name(k.verdict),
					(unsigned long long)sums[0],
					(unsigned long long)sums[1]);
			} else {
				if (first)
					fputs("ics requests:\n", out);
				fprintf(out,
					"  %-24s %-7s function %-5u %-4s "
					"%12llu packets\n",
					cg_active_flow(a, k.flow),
					k.proto == CG_ICS_PROTO_S7COMM
						? "s7comm"
						: "modbus",
					k.function, cg_verdict_name(k.verdict),
					(unsigned long long)sums[0]);
			}
			first = 0;
		}
	}
	fputs(json ? "]" : "", out);

	/* What happened to events. */
	cg_pin_path(env, "event_stats", path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		uint64_t tot[4] = {}, by[CG_R_MAX][4] = {};

		for (r = 0; r < CG_R_MAX; r++) {
			if (percpu_sum(fd, r, vals,
				       sizeof(struct cg_event_counter), ncpu,
				       by[r], 4))
				continue;
			tot[0] += by[r][0];
			tot[1] += by[r][1];
			tot[2] += by[r][2];
			tot[3] += by[r][3];
		}
		close(fd);
		if (json)
			fprintf(out,
				", \"events\": {\"emitted\": %llu, \"lost\": "
				"%llu, \"suppressed\": %llu, "
				"\"suppressed_by_source\": %llu, "
				"\"by_reason\": {",
				(unsigned long long)tot[0],
				(unsigned long long)tot[1],
				(unsigned long long)tot[2],
				(unsigned long long)tot[3]);
		else
			fprintf(out,
				"events:   %llu emitted, %llu lost (ring "
				"buffer full), %llu suppressed (rate limits; "
				"%llu of them by the per-source limit)\n",
				(unsigned long long)tot[0],
				(unsigned long long)tot[1],
				(unsigned long long)tot[2],
				(unsigned long long)tot[3]);
		/* Per reason (the reason a frame had, or would have had in
		 * monitor mode), where anything happened. */
		for (r = 0, first = 1; r < CG_R_MAX; r++) {
			if (!by[r][0] && !by[r][1] && !by[r][2])
				continue;
			if (json)
				fprintf(out,
					"%s\"%s\": {\"emitted\": %llu, "
					"\"lost\": %llu, \"suppressed\": %llu, "
					"\"suppressed_by_source\": %llu}",
					first ? "" : ", ", cg_reason_name(r),
					(unsigned long long)by[r][0],
					(unsigned long long)by[r][1],
					(unsigned long long)by[r][2],
					(unsigned long long)by[r][3]);
			else
				fprintf(out,
					"  %-15s %12llu emitted %8llu lost "
					"%8llu suppressed (%llu by source)\n",
					cg_reason_name(r),
					(unsigned long long)by[r][0],
					(unsigned long long)by[r][1],
					(unsigned long long)by[r][2],
					(unsigned long long)by[r][3]);
			first = 0;
		}
		fputs(json ? "}}" : "", out);
	}
	if (hooks.status)
		hooks.status(env, out, json);
	fputs(json ? "}\n" : "", out);
	cg_active_close(a);
	free(vals);
	return 0;
}

/* The snapshot: the same reads as status, into a struct. */
int cg_snapshot_read(const struct cg_env *env, struct cg_snapshot *s)
{
	int ncpu = libbpf_num_possible_cpus(), fd;
	struct cg_active *a = NULL;
	struct if_nameindex *ifs, *it;
	char path[PATH_MAX];
	uint64_t sums[4];
	unsigned long long jnow = 0;
	uint32_t r, f;
	void *vals;

	memset(s, 0, sizeof(*s));
	if (ncpu < 1)
		return ncpu < 0 ? ncpu : -EINVAL;
	vals = percpu_buf(ncpu);
	if (!vals)
		return -ENOMEM;

	cg_pin_path(env, "reason_stats", path, sizeof(path));
	fd = bpf_obj_get(path);
	for (r = 0; fd >= 0 && r < CG_R_MAX; r++) {
		if (percpu_sum(fd, r, vals, sizeof(struct cg_counter), ncpu,
			       sums, 3))
			continue;
		s->reasons[r].packets = sums[0];
		s->reasons[r].bytes = sums[1];
	}
	if (fd >= 0) {
		s->have_gate = true;
		close(fd);
	}
	cg_pin_path(env, "event_stats", path, sizeof(path));
	fd = bpf_obj_get(path);
	for (r = 0; fd >= 0 && r < CG_R_MAX; r++) {
		if (percpu_sum(fd, r, vals, sizeof(struct cg_event_counter),
			       ncpu, sums, 4))
			continue;
		s->events[r].emitted = sums[0];
		s->events[r].lost = sums[1];
		s->events[r].suppressed = sums[2];
		s->events[r].suppressed_source = sums[3];
	}
	if (fd >= 0)
		close(fd);
	{
		struct cg_shadow_totals st;

		if (!cg_shadow_totals_read(env, &st)) {
			s->shadow_active = st.active;
			s->shadow_frames = st.frames;
			s->shadow_disagree = st.disagree;
		}
	}

	if (cg_active_open(env, &a) || !a) {
		read_ifstats(env, 0, ncpu, &s->ifstats, &s->n_ifstats);
		goto out;
	}
	read_ifstats(env, a->prog_id, ncpu, &s->ifstats, &s->n_ifstats);
	read_ics(a, ncpu, &s->ics, &s->n_ics);
	s->have_policy = true;
	snprintf(s->policy_name, sizeof(s->policy_name), "%s", a->meta.name);
	memcpy(s->sha256, a->meta.sha256, sizeof(s->sha256));
	s->applied_at = a->meta.applied_at;
	s->monitor = a->meta.mode == CG_MODE_MONITOR;
	s->prog_id = a->prog_id;

	if (cg_kernel_jiffies(&jnow))
		jnow = 0;
	s->flows = calloc(a->meta.n_flows + 1, sizeof(*s->flows));
	for (f = 0; s->flows && f < a->meta.n_flows; f++) {
		struct cg_snap_flow *sf = &s->flows[s->n_flows++];
		const char *name = cg_active_flow(a, f);

		snprintf(sf->name, sizeof(sf->name), "%s", name ? name : "");
		if (a->flow_stats_fd < 0 ||
		    percpu_sum(a->flow_stats_fd, f, vals,
			       sizeof(struct cg_counter), ncpu, sums, 3))
			continue;
		sf->c.packets = sums[0];
		sf->c.bytes = sums[1];
		sf->last_hit = last_hit(vals, ncpu, jnow, cg_kernel_hz());
	}

	/* Attached interfaces: the kernel is the record. */
	ifs = if_nameindex();
	for (it = ifs; it && it->if_index; it++) {
		struct cg_snap_iface *si, *grown;
		uint32_t cur;
		uint8_t mode;

		xdp_query(it->if_index, &cur, &mode);
		if (!cg_guarded(env, cur, a->prog_id))
			continue;
		grown = realloc(s->attached,
				(s->n_attached + 1) * sizeof(*s->attached));
		if (!grown)
			break;
		s->attached = grown;
		si = &s->attached[s->n_attached++];
		snprintf(si->name, sizeof(si->name), "%s", it->if_name);
		si->ifindex = it->if_index;
		si->mode = mode_name(mode);
	}
	if (ifs)
		if_freenameindex(ifs);
out:
	cg_active_close(a);
	free(vals);
	return 0;
}

void cg_snapshot_free(struct cg_snapshot *s)
{
	free(s->attached);
	free(s->flows);
	free(s->ifstats);
	free(s->ics);
	s->attached = NULL;
	s->flows = NULL;
	s->ifstats = NULL;
	s->ics = NULL;
	s->n_attached = s->n_flows = s->n_ifstats = s->n_ics = 0;
}
