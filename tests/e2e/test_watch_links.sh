#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: `cranegate run --watch` follows POLICY through symlinks
# (issue 19.6). POLICY is a chain of three links, the way deploy tools and
# Kubernetes ConfigMaps publish a file:
#
#   etc/policy.yaml -> ../cm/policy.yaml
#   cm/policy.yaml  -> ..data/policy.yaml
#   cm/..data       -> ..v1                (the ConfigMap's current version)
#
# and each of these reloads, with real traffic following the new policy:
#   the file at the end of the chain edited in place;
#   ..data swapped atomically to a new version (ln -s + mv -T);
#   the new version's file edited (the watch followed the swap);
#   etc/policy.yaml re-pointed at another file;
# while editing the old version's file (no longer POLICY) changes nothing,
# and a swap to a version with a broken file is refused with FILE:LINE:COL
# and leaves the running policy enforcing.
#
# Bounded: about 40 s. TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up
T=$CG_TMP
LOG=$T/run.log

policy() { # NAME PROTO: HMI -> crane-control, that protocol only
	cat <<EOF2
version: 1
name: $1
$(topo_zones)
hosts:
  scada-hmi: 198.18.10.5
flows:
  - name: hmi-$2
    from: scada-hmi
    to: crane-control
    proto: $2
EOF2
}

# put FILE NAME PROTO: write a policy in place (mode 0600 for run).
put() {
	policy "$2" "$3" >"$1"
	chmod 0600 "$1"
}

# applied NAME: run logged an apply of policy NAME, triggered by the watch.
applied() {
	wait_until 15 log_has ".type == \"apply\" and .trigger == \"watch\" and .ok and .policy == \"$1\""
}
n_applies() { jq -s '[.[] | select(.type == "apply")] | length' "$LOG" 2>/dev/null || echo 0; }

mkdir -p "$T/etc" "$T/cm/..v1" "$T/cm/..v2" "$T/cm/..v3" "$T/releases/v8"
put "$T/cm/..v1/policy.yaml" links-a icmp
ln -s ..v1 "$T/cm/..data"
ln -s ..data/policy.yaml "$T/cm/policy.yaml"
ln -s ../cm/policy.yaml "$T/etc/policy.yaml"
POLICY=$T/etc/policy.yaml

cg_bg 150 "$T/run.out" run "$POLICY" --watch --log "$LOG" --summary 0
RUN=$CG_LAST_PID
if wait_until 15 log_has '.type == "apply" and .ok and .policy == "links-a"'; then
	ok "run --watch applies the policy behind three symlinks"
else
	not_ok "run --watch applies the policy behind three symlinks" "$(cat "$T/run.out.err")"
fi
check "policy A (ICMP allowed): the HMI pings the PLC" pings biz $PLC 2

# ---- the target at the end of the chain, edited in place
put "$T/cm/..v1/policy.yaml" links-b tcp
if applied links-b; then
	ok "the file at the end of the chain, edited in place, is applied"
else
	not_ok "the file at the end of the chain, edited in place, is applied" "$(tail -3 "$LOG")"
fi
check_fails "policy B (TCP only): pings drop" pings biz $PLC 2
expect "... the watch record names the file it resolved to" \
	"$(jq -r -s '[.[] | select(.type == "watch")] | last | .resolved' "$LOG")" = \
	"$(realpath "$T/cm/..v1/policy.yaml")"

# ---- ..data swapped atomically to a new version
put "$T/cm/..v2/policy.yaml" links-c icmp
ln -s ..v2 "$T/cm/..data_tmp"
mv -T "$T/cm/..data_tmp" "$T/cm/..data"
if applied links-c; then
	ok "an atomic swap of ..data (ln -s, mv -T) is applied"
else
	not_ok "an atomic swap of ..data (ln -s, mv -T) is applied" "$(tail -3 "$LOG")"
fi
check "policy C (ICMP allowed): the HMI pings the PLC again" pings biz $PLC 2

# ---- the new version's file edited: the watch followed the swap
put "$T/cm/..v2/policy.yaml" links-d tcp
if applied links-d; then
	ok "after the swap, editing the new version's file is applied"
else
	not_ok "after the swap, editing the new version's file is applied" "$(tail -3 "$LOG")"
fi

# ---- the old version is no longer POLICY
n=$(n_applies)
put "$T/cm/..v1/policy.yaml" links-stale icmp
sleep 1.5
expect "editing the old version's file (no longer POLICY) applies nothing" "$(n_applies)" -eq "$n"
expect "... status still names policy D" "$(cg_policy_field name)" = links-d

# ---- a swap to a version whose file is broken: refused, nothing changes
sha_d=$(cg_policy_field sha256)
{ policy links-broken tcp; printf '    ports: [70000]\n'; } >"$T/cm/..v3/policy.yaml"
chmod 0600 "$T/cm/..v3/policy.yaml"
ln -s ..v3 "$T/cm/..data_tmp"
mv -T "$T/cm/..data_tmp" "$T/cm/..data"
if wait_until 15 log_has '.type == "apply" and .trigger == "watch" and (.ok | not)'; then
	rec=$(jq -c 'select(.type == "apply")' "$LOG" | tail -1)
	if jq -r '.errors[]' <<<"$rec" | grep -qE "policy\.yaml:[0-9]+:[0-9]+: error: "; then
		ok "a swap to a broken file is refused, with its errors at FILE:LINE:COL"
	else
		not_ok "a swap to a broken file is refused, with its errors at FILE:LINE:COL" "$rec"
	fi
else
	not_ok "a swap to a broken file is refused and logged" "$(tail -3 "$LOG")"
fi
expect "... the running policy stays (sha256 unchanged)" "$(cg_policy_field sha256)" = "$sha_d"
check_fails "... and still enforces (pings drop)" pings biz $PLC 2
check "... and run still runs" kill -0 "$RUN"

# ---- the first link re-pointed at another file
put "$T/releases/v8/policy.yaml" links-e icmp
ln -sfn ../releases/v8/policy.yaml "$T/etc/policy.yaml"
if applied links-e; then
	ok "re-pointing POLICY's own symlink at another file is applied"
else
	not_ok "re-pointing POLICY's own symlink at another file is applied" "$(tail -3 "$LOG")"
fi
check "policy E (ICMP allowed): the HMI pings the PLC" pings biz $PLC 2

kill -TERM "$RUN" 2>/dev/null
wait "$RUN" 2>/dev/null
check "detach" cg detach
tap_done
