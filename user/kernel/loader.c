// SPDX-License-Identifier: GPL-2.0
/*
 * The apply transaction and detach. See loader.h for the pin layout, and
 * pins.c for the pin root, its lock and the hand-off slots.
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
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "gate.h"
#include "loader.h"
#include "narrow.h"
#include "rxvlan.h"
#include "shadow_maps.h"

static int libxdp_quiet(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	return 0;
}

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
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
	int err = cg_conns_narrow(cg_gate_map_fd(g, "conns"),
				  cg_gate_map_fd(g, "conns4"), c, &st);

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

const struct cg_change_hooks *cg_change_hooks(void)
{
	return &hooks;
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
	if (hooks.prepare)
		hooks.prepare(env, ch);
	err = cg_policy_load(policy_path, &p, &d);
	if (!err)
		err = cg_compile(p, &c, &d);
	cg_diags_print(&d, stderr);
	if (err)
		goto out;
	if (hooks.vet && (err = hooks.vet(env, ch, p, c, policy_path)))
		goto out;

	if ((err = cg_lock(env, &lock_fd)))
		goto out;
	libxdp_set_print(libxdp_quiet);

	cg_pin_path(env, "prog", prog_pin, sizeof(prog_pin));
	old_fd = cg_enforcing_prog(env);
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
	cg_gate_carry_flow_stats(g, p, old_fd);
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
		cg_xdp_query(s->ifindex, &cur, &s->mode);
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

		cg_xdp_query(it->if_index, &cur, &mode);
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
		printf(" %s (%s%s%s)", sw[i].name, cg_xdp_mode_name(sw[i].mode),
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
	fd = cg_enforcing_prog(env);
	id = prog_id_of(fd);
	ifs = if_nameindex();
	for (it = ifs; it && it->if_index; it++) {
		uint32_t cur;
		uint8_t mode;
		int stray = -1;

		cg_xdp_query(it->if_index, &cur, &mode);
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
	/* The per-source LRU of gates from before the event sketch. */
	cg_pin_path(env, "event_sources", path, sizeof(path));
	unlink(path);
	rmdir(env->pin_root);
	if (!n)
		printf("no interface had this gate attached\n");
	cg_unlock(lock_fd);
	if (hooks.detached)
		hooks.detached(env, 0);
	return 0;
}
