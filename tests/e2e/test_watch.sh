#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: `cranegate run --watch` reloads the policy when its file
# changes on disk, with the all-or-nothing rule of SIGHUP:
#
#   a new policy renamed over the file (as editors and config management
#   write) is applied, and real traffic follows it;
#   the same bytes written again change nothing (no second apply);
#   a broken file is logged with FILE:LINE:COL and the running policy
#   stays, enforcing;
#   a good policy written in place is applied;
#   --watch with --no-reload is refused.
#
# Bounded: about 30 s. TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up
T=$CG_TMP
LOG=$T/run.log
POLICY=$T/policy.yaml

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

n_applies() { jq -s '[.[] | select(.type == "apply")] | length' "$LOG" 2>/dev/null || echo 0; }

policy watch-a icmp >"$POLICY"
chmod 0600 "$POLICY"
cg_bg 120 "$T/run.out" run "$POLICY" --watch --log "$LOG" --summary 0
RUN=$CG_LAST_PID
if wait_until 15 log_has '.type == "apply" and .ok and .policy == "watch-a"'; then
	ok "run --watch applies the policy at start"
else
	not_ok "run --watch applies the policy at start" "$(cat "$T/run.out.err")"
fi
check "policy A (ICMP allowed): the HMI pings the PLC" pings biz $PLC
prog_a=$(cg_policy_field program_id)
# An event decided by A: run now names events through A's instance.
send_frame biz --dst-mac "$(gw_mac biz0)" --src $HMI --dst $PLC --proto udp --dport 9 --count 1
wait_until 5 log_has '.type == "event" and .reason == "no-rule" and .dport == 9' ||
	diag "no event of A reached the log"

# ---- a new policy renamed over the file
policy watch-b tcp >"$T/new.yaml"
chmod 0600 "$T/new.yaml"
mv "$T/new.yaml" "$POLICY"
if wait_until 15 log_has '.type == "apply" and .trigger == "watch" and .ok and .policy == "watch-b"'; then
	ok "a policy renamed over the file is applied (trigger watch)"
else
	not_ok "a policy renamed over the file is applied (trigger watch)" "$(tail -3 "$LOG")"
fi
expect "... status names it" "$(cg_policy_field name)" = watch-b
expect "... the change is logged with the file's sha256" \
	"$(jq -r -s '[.[] | select(.type == "watch")] | last | .sha256' "$LOG")" = \
	"$(sha256sum "$POLICY" | cut -d' ' -f1)"
# run names events through the instance that decided them; after a reload
# it must let go of the old one (the kernel frees it then, after RCU).
if wait_until 5 bash -c "! bpftool prog show id $prog_a >/dev/null 2>&1"; then
	ok "policy A's program is gone after the reload (run keeps no hold on it)"
else
	not_ok "policy A's program is gone after the reload (run keeps no hold on it)" \
		"$(bpftool prog show id "$prog_a" 2>&1)"
fi
check_fails "policy B (TCP only): pings drop" pings biz $PLC 2

# ---- the same bytes again: nothing to do
n=$(n_applies)
cat "$POLICY" >"$T/same.yaml"
cat "$T/same.yaml" >"$POLICY"
sleep 1.5
expect "the same bytes written again: no new apply" "$(n_applies)" -eq "$n"

# ---- a broken file: logged, the running policy stays
sha_b=$(cg_policy_field sha256)
{ policy watch-broken tcp; printf '    ports: [70000]\n'; } >"$T/broken.yaml"
chmod 0600 "$T/broken.yaml"
mv "$T/broken.yaml" "$POLICY"
if wait_until 15 log_has '.type == "apply" and .trigger == "watch" and (.ok | not)'; then
	rec=$(jq -c 'select(.type == "apply")' "$LOG" | tail -1)
	if jq -r '.errors[]' <<<"$rec" | grep -qE "policy\.yaml:[0-9]+:[0-9]+: error: "; then
		ok "a broken file is refused, with its errors at FILE:LINE:COL"
	else
		not_ok "a broken file is refused, with its errors at FILE:LINE:COL" "$rec"
	fi
else
	not_ok "a broken file is refused and logged" "$(tail -3 "$LOG")"
fi
expect "... the running policy stays (sha256 unchanged)" "$(cg_policy_field sha256)" = "$sha_b"
check_fails "... and still enforces (pings drop)" pings biz $PLC 2
check "... and run still runs" kill -0 "$RUN"

# ---- a good policy written in place
policy watch-c icmp >"$POLICY"
if wait_until 15 log_has '.type == "apply" and .trigger == "watch" and .ok and .policy == "watch-c"'; then
	ok "a good policy written in place is applied"
else
	not_ok "a good policy written in place is applied" "$(tail -3 "$LOG")"
fi
check "policy C (ICMP allowed): the HMI pings the PLC again" pings biz $PLC

# ---- stop; the gate stays
kill -TERM "$RUN" 2>/dev/null
wait "$RUN" 2>/dev/null
expect "after SIGTERM the gate still enforces C" "$(cg_policy_field name)" = watch-c

out=$(cg run "$POLICY" --watch --no-reload 2>&1)
expect "--watch with --no-reload is refused" "$?" -eq 2
expect "... saying why" "$(grep -c 'choose one' <<<"$out")" -eq 1

check "detach" cg detach
tap_done
