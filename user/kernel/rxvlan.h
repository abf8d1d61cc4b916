/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How the gate sees the outer VLAN tag on each interface (contract: "A VLAN
 * tag counts wherever the NIC put it").
 *
 * At attach, for every interface, in this order:
 *  1. metadata: the driver reports a stripped tag to XDP (netdev netlink
 *     family, xdp-rx-metadata-features has vlan-tag; kernel >= 6.8). A
 *     device-bound front program (bpf/front.bpf.c) is attached and hands
 *     every frame, with the tag, to the live instance.
 *  2. frame: rx VLAN offload (rx-vlan-hw-parse, rx-vlan-stag-hw-parse) is
 *     off, or this gate turns it off (ethtool SFEATURES) and records that
 *     in STATE_DIR/rx-vlan-offload, so that `detach` turns it back on,
 *     even after the loader that changed it was killed.
 *  3. otherwise the interface is refused, with an error naming it and the
 *     fix.
 */
#ifndef CRANEGATE_RXVLAN_H
#define CRANEGATE_RXVLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "loader.h"

enum cg_rx_vlan {
	CG_RXV_UNKNOWN,	      /* the features could not be read */
	CG_RXV_METADATA,      /* a front reads the tag the driver stripped */
	CG_RXV_FRAME,	      /* no rx VLAN offload: tags stay in the frame */
	CG_RXV_FRAME_BY_GATE, /* as FRAME, because this gate turned it off */
	CG_RXV_BLIND,	      /* offload on and no front: tags are not seen */
};

/* Names for status: "metadata", "frame", "frame (offload off by
 * cranegate)", "blind". */
const char *cg_rx_vlan_name(enum cg_rx_vlan how);

/* Does the driver of `ifindex` report stripped VLAN tags to XDP? */
bool cg_rxvlan_meta_supported(int ifindex);

/* Is program `prog_id` a front of the gate pinned at env->pin_root? */
bool cg_front_of(const struct cg_env *env, uint32_t prog_id);

/* Is the interface guarded by the gate whose enforcing program is
 * `gate_id`: the gate itself, or one of its fronts, is attached? */
bool cg_guarded(const struct cg_env *env, uint32_t cur, uint32_t gate_id);

/*
 * Load a front for `ifindex` (device-bound, on the pinned hand-off maps)
 * and return its fd in *fd. Negative errno, with a message on stderr.
 */
int cg_front_load(const struct cg_env *env, int ifindex, const char *name,
		  int *fd);

/*
 * Make the interface show VLAN tags in the frame, for an interface that
 * gets the gate itself (no front): turn rx VLAN offload off where it is
 * on, recording the change. 0, or -EOPNOTSUPP with the error printed
 * (the interface must be refused).
 */
int cg_rxvlan_frame(const struct cg_env *env, const char *name);

/* Turn back on every offload that this gate turned off (detach). */
void cg_rxvlan_restore(const struct cg_env *env);

/* How tags are seen on an interface now, given its XDP program. */
enum cg_rx_vlan cg_rxvlan_now(const struct cg_env *env, const char *name,
			      uint32_t cur);

#endif
