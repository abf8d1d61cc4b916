/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The gateway's own addresses (`self`, README "The gateway itself"):
 * learned through rtnetlink on the interfaces a policy names, written to
 * an instance's self4/self6 maps, and watched for changes by `run`.
 */
#ifndef CRANEGATE_SELF_H
#define CRANEGATE_SELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/*
 * The addresses of the interfaces named in `ifnames` (current network
 * namespace), through getifaddrs(3), which asks rtnetlink (RTM_GETADDR).
 * Interfaces that do not exist are skipped. 0 or a negative errno.
 */
int cg_self_learn(char (*ifnames)[CG_IFNAME_MAX], size_t n,
		  struct cg_self_set *out);
void cg_self_set_free(struct cg_self_set *s);

/*
 * Make the maps (fds of self4, self6) hold exactly `s`: every address of
 * `s` is added first, then the entries not in `s` are removed, so an
 * address that stays is never absent; and self_filter (fdf; < 0: an
 * instance loaded before the filter, which has none) its bits, never
 * missing one the maps hold (maps/cranegate.h). 0 or a negative errno;
 * on error with -E2BIG the set exceeds CG_SELF_MAX for a family.
 */
int cg_self_fill(int fd4, int fd6, int fdf, const struct cg_self_set *s);

/*
 * Learn the addresses again and write them to every instance of the gate
 * (the slots of `progs`: enforcing, standby and shadow). Returns the
 * number of addresses, or a negative errno.
 */
struct cg_env;
int cg_self_refresh_gate(const struct cg_env *env,
			 char (*ifnames)[CG_IFNAME_MAX], size_t n);

/*
 * A netlink socket subscribed to RTNLGRP_IPV4_IFADDR and
 * RTNLGRP_IPV6_IFADDR (non-blocking), or a negative errno.
 * cg_self_watch_drain() reads what is waiting: 1 if an address was added
 * or removed (or messages were lost: the caller refreshes), 0 if not.
 */
int cg_self_watch_open(void);
int cg_self_watch_drain(int fd);

/* Does any flow of the policy name `self` in `to` / in `from`? */
bool cg_policy_reaches_self(const struct cg_policy *p);

#endif

/*
 * apply over SSH: would `p` cut the session SSH_CONNECTION describes
 * ("client_ip client_port server_ip server_port")? The session is cut
 * when server_ip is one of the gateway's addresses on the interfaces the
 * policy names (learned now) and no flow with `to: self` allows tcp from
 * client_ip to server_port. Returns 1 (cut; `why` says what is missing and
 * how to add it), 0 (not cut, or not a session over the gate), or a
 * negative errno.
 */
struct cg_compiled;
int cg_self_ssh_cut(const struct cg_policy *p, const struct cg_compiled *c,
		    const char *ssh_connection, char *why, size_t len);
