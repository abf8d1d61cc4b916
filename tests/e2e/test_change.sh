#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: change control on a live gate in namespaces. Policy A lets
# the HMI reach the hoist PLC on TCP 502; B does not. Checked by real
# connections through the gate:
#
#   check --strict and diff before a change; history and rollback (to the
#   previous revision and to a numbered one); the audit log (one complete
#   JSON line per check, apply, rollback, revert, confirm and detach;
#   files 0600, directories 0700); apply --confirm with confirm (the
#   policy stays), without (it reverts by itself), and with the applying
#   shell killed (it still reverts); a plain apply cancelling a pending
#   confirmation; diff --pcap on a real capture. TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up
T=$CG_TMP
S=$CG_STATE_DIR
CAPTURES=${CG_CAPTURES:-$CG_TOP/../shared/captures}

policy() { # NAME EXTRA_FLOWS
	cat <<EOF
version: 1
name: $1
zones:
  business:
    interfaces: [biz0]
    networks: [198.18.10.0/24, 2001:2:0:10::/64]
  crane-control:
    interfaces: [crane0]
    networks: [198.18.20.0/24, 2001:2:0:20::/64]
  crane-cctv:
    interfaces: [cctv0]
    networks: [198.18.21.0/24]
  crane-mgmt:
    interfaces: [mgmt0]
    networks: [198.18.30.0/24, 2001:2:0:30::/64]
hosts:
  scada-hmi: 198.18.10.5
  plc-hoist: 198.18.20.11
flows:
  - name: hmi-pings-plcs
    from: scada-hmi
    to: crane-control
    proto: icmp
  - name: mgmt-ssh
    from: crane-mgmt
    to: [crane-control, crane-cctv]
    proto: tcp
    ports: [22]
  - name: mgmt-to-gateway
    from: crane-mgmt
    to: self
    proto: tcp
    ports: [22]
$2
EOF
}
policy change-a "  - name: hmi-polls-hoist
    from: scada-hmi
    to: plc-hoist
    proto: tcp
    ports: [502]" >"$T/a.yaml"
policy change-b "" >"$T/b.yaml"
sed 's/^    proto: icmp$/    proto: [icmp/' "$T/a.yaml" >"$T/broken.yaml"

tcp_echo_server plc 502 600 || diag "the TCP server on the PLC did not start"

active() { cg_policy_field name; }
polls() { tcp_connects biz $PLC 502; }
# The audit lines of one action, as JSON lines.
audit() { jq -c --arg a "$1" 'select(.action == $a)' "$S/audit.jsonl" 2>/dev/null; }
audit_last() { audit "$1" | tail -n 1; }
field() { jq -r "$2" <<<"$1" 2>/dev/null; }
is_active() { [ "$(active)" = "$1" ]; }

# ---- before the change: check and diff
check "check --strict A: valid, and no warning" cg check --strict "$T/a.yaml"
out=$(cg check --strict "$T/b.yaml" 2>&1)
expect "check --strict B: refused (plc-hoist is used by no flow)" "$?" -eq 1
expect "... naming the unused host at its line" \
	"$(grep -c "b.yaml:[0-9]*:3: error: host 'plc-hoist' is not used by any flow \[--strict\]" <<<"$out")" -eq 1
out=$(cg diff "$T/a.yaml" "$T/b.yaml")
expect "diff A B: exit 1 (they differ)" "$?" -eq 1
expect "... HMI -> hoist TCP 502 newly denied, by flow hmi-polls-hoist before" \
	"$(grep -A3 '^newly denied:' <<<"$out" | grep -c 'scada-hmi -> plc-hoist  tcp 502  (old: flow hmi-polls-hoist; new: no-rule)')" -eq 1
cg diff "$T/a.yaml" "$T/a.yaml" >/dev/null
expect "diff A A: exit 0 (same)" "$?" -eq 0
cg diff "$T/a.yaml" "$T/broken.yaml" >/dev/null 2>&1
expect "diff A broken: exit 2 (trouble)" "$?" -eq 2

# ---- history and rollback
check "apply A" cg apply "$T/a.yaml"
check "with A, the HMI polls the hoist" polls
check "apply B" cg apply "$T/b.yaml"
check_fails "with B, the poll is dropped" polls
hist=$(cg history)
diag "$hist"
expect "history: newest first, revision 2 (B) active" \
	"$(sed -n 2p <<<"$hist" | awk '{print $1, $3, $4}')" = "*2 apply change-b"
expect "history: then revision 1 (A)" "$(sed -n 3p <<<"$hist" | awk '{print $1, $3, $4}')" = "1 apply change-a"
expect "history names who applied it" "$(sed -n 2p <<<"$hist" | awk '{print $6}')" = "$(id -un)"
check "rollback (to the revision before the active one)" cg rollback
expect "... A is active again" "$(active)" = change-a
check "... and the HMI polls the hoist again" polls
expect "history: revision 3 is A again, rolled back from revision 1" \
	"$(cg history --json | jq -r '.[0] | "\(.rev) \(.action) \(.policy) \(.from_rev) \(.active)"')" = "3 rollback change-a 1 true"
out=$(cg diff @2 @active)
expect "diff @2 @active (B, and A now active, from the kept copies): exit 1" "$?" -eq 1
expect "... B -> A newly allows HMI -> hoist TCP 502 again" \
	"$(grep -c 'scada-hmi -> plc-hoist  tcp 502  (old: no-rule; new: flow hmi-polls-hoist)' <<<"$out")" -eq 1
cg diff @active "$T/a.yaml" >/dev/null
expect "diff @active A: exit 0 (A is active)" "$?" -eq 0
cg diff @99 "$T/a.yaml" >/dev/null 2>&1
expect "diff @99 (no such revision): exit 2" "$?" -eq 2
check "rollback 2 (a numbered revision)" cg rollback 2
expect "... B is active" "$(active)" = change-b
check_fails "rollback 99 (no such revision) fails" cg rollback 99
expect "... and changes nothing" "$(active)" = change-b
check_fails "apply of a broken policy fails" cg apply "$T/broken.yaml"
expect "... and changes nothing" "$(active)" = change-b
expect "status names the active revision" "$(cg_status_json | jq -r .revision)" -eq 4
expect "history shows the failed apply, with no policy (it did not parse)" \
	"$(cg history --json | jq -r '[.[] | select(.action == "apply" and (.result | startswith("failed")))][0] | "\(.rev) \(.policy)"')" = "null null"

# ---- the audit log
expect "the audit log holds a line per action, in order" \
	"$(jq -r 'select(.result != "started") | "\(.action):\(.result)"' "$S/audit.jsonl" | tr '\n' ' ')" = \
	"check:valid check:invalid apply:ok apply:ok rollback:ok rollback:ok rollback:failed apply:failed "
expect "... and each change was recorded as started, with its revision, before it happened" \
	"$(jq -r 'select(.result == "started") | "\(.action):\(.rev)"' "$S/audit.jsonl" | tr '\n' ' ')" = \
	"apply:1 apply:2 rollback:3 rollback:4 "
bad=$(jq -c 'select((.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")) and (.user | length > 0) and has("uid") and (.action | length > 0) and has("policy") and has("sha256") and (.result | length > 0) and has("diff") | not)' "$S/audit.jsonl" 2>&1)
expect "every audit line is JSON with time, user, action, policy, sha256, diff and result" "${bad:-none}" = none
a2b=$(audit apply | jq -c 'select(.policy == "change-b" and .result == "ok")' | head -n 1)
expect "apply B: its sha256 is the file's" "$(field "$a2b" .sha256)" = "$(sha256sum "$T/b.yaml" | cut -d' ' -f1)"
expect "apply B: the previous policy was A (revision 1)" "$(field "$a2b" '"\(.previous.policy) \(.previous.rev)"')" = "change-a 1"
expect "apply B: the diff summary counts one newly denied line" "$(field "$a2b" .diff.newly_denied)" -eq 1
expect "apply B: ... and nothing newly allowed" "$(field "$a2b" .diff.newly_allowed)" -eq 0
failed=$(audit apply | jq -c 'select(.result == "failed")' | tail -n 1)
expect "the failed apply is audited, with its error" "$(field "$failed" '.error | length > 0')" = true
chk=$(audit_last check)
expect "check is audited (check --strict of B: invalid, one error)" "$(field "$chk" '"\(.result) \(.errors)"')" = "invalid 1"
rb=$(audit rollback | jq -c 'select(.result == "ok")' | tail -n 1)
expect "rollback is audited with the revision it restored" "$(field "$rb" '"\(.result) \(.from_rev) \(.rev)"')" = "ok 2 4"
expect "... and a failed one with its error" \
	"$(field "$(audit_last rollback)" '"\(.result) \(.error)"')" = "failed no such revision"
perm=$(find "$S" -type f ! -perm 600 -o -type d ! -perm 700 2>/dev/null | grep -v "^$S\$")
expect "state files are 0600 and directories 0700" "${perm:-none}" = none
expect "every applied policy is kept by its sha256" \
	"$(ls "$S/policies" | sort | tr '\n' ' ')" = \
	"$(for f in a b; do sha256sum "$T/$f.yaml" | cut -d' ' -f1; done | sort | sed 's/$/.yaml/' | tr '\n' ' ')"

# ---- apply --confirm, confirmed: the policy stays
check "apply --confirm 4 A" cg apply --confirm 4 "$T/a.yaml"
st=$(cg_status_json)
expect "status shows the pending confirmation" "$(jq -r '.pending_confirm | "\(.rev) \(.policy) \(.revert_to) \(.watchdog_running)"' <<<"$st")" = "5 change-a change-b true"
check "status text says so too" bash -c "nsenter --net=/var/run/netns/${P}gw $CRANEGATE status --pin-root $CG_PIN_ROOT --state-dir $S | grep -q '^confirm:  revision 5 .change-a. reverts to change-b'"
check "confirm" cg confirm
sleep 6
expect "6 s later, the confirmed A is still active" "$(active)" = change-a
check "... and the HMI polls the hoist" polls
expect "history: revision 5 confirmed" "$(cg history --json | jq -r '[.[] | select(.rev == 5)][0].confirmed')" = true
check_fails "a second confirm finds nothing pending" cg confirm

# ---- apply --confirm, not confirmed: it reverts by itself
check "apply --confirm 2 B" cg apply --confirm 2 "$T/b.yaml"
expect "B is active at once" "$(active)" = change-b
if wait_until 15 is_active change-a; then
	ok "without confirm, A is back within 15 s"
else
	not_ok "without confirm, A is back within 15 s" "active: $(active)"
fi
check "... and the HMI polls the hoist again" polls
# The switch comes first, its audit line right after (with the diff).
revert_recorded() { [ "$(field "$(audit_last revert)" .result)" = ok ]; }
wait_until 10 revert_recorded || true
rv=$(audit_last revert)
expect "the revert is audited: revision 6 taken back, as revision 7" "$(field "$rv" '"\(.result) \(.reverts_rev) \(.rev) \(.policy)"')" = "ok 6 7 change-a"
expect "history: revision 6 reverted" "$(cg history --json | jq -r '[.[] | select(.rev == 6)][0].reverted')" = true
expect "no confirmation is pending any more" "$(cg_status_json | jq -r .pending_confirm)" = null
check_fails "confirm after the revert fails (nothing pending)" cg confirm

# ---- apply --confirm from a shell that is killed: it still reverts
setsid bash -c "nsenter --net=/var/run/netns/${P}gw $CRANEGATE apply --confirm 8 $T/b.yaml \
	--pin-root $CG_PIN_ROOT --state-dir $S >$T/killed.out 2>&1; sleep 120" </dev/null &
shell=$!
CG_PIDS+=("$shell")
if wait_until 10 is_active change-b; then
	ok "the killed shell's apply --confirm switched to B"
else
	not_ok "the killed shell's apply --confirm switched to B" "$(cat "$T/killed.out")"
fi
pc=$(cg_status_json | jq -c '.pending_confirm')
wd=$(jq -r '.watchdog_pid // empty' <<<"$pc")
exec 3>&2 2>/dev/null
kill -9 -- "-$shell" 2>/dev/null # the shell's whole process group
wait "$shell" 2>/dev/null
exec 2>&3 3>&-
# SIGKILL is delivered at once, but the group's processes leave the table
# when the kernel has torn them down: give that a moment on a busy machine.
group_gone() { ! pgrep -g "$shell" >/dev/null; }
wait_until 5 group_gone
expect "the shell and its process group are gone" "$(pgrep -g "$shell" | wc -l)" -eq 0
expect "the watchdog lives on, outside that group" "$( [ -n "$wd" ] && kill -0 "$wd" 2>/dev/null && echo alive) (pending: $pc)" = "alive (pending: $pc)"
if wait_until 15 is_active change-a; then
	ok "with the applying shell killed, A is back within 15 s"
else
	not_ok "with the applying shell killed, A is back within 15 s" "active: $(active)"
fi
check "... and the HMI polls the hoist again" polls

# ---- --confirm needs a way back: the active policy's kept copy
other=$T/other-state
sed 's/^name: change-a$/name: change-c/' "$T/a.yaml" >"$T/c.yaml"
nsenter --net="/var/run/netns/${P}gw" "$CRANEGATE" apply "$T/c.yaml" \
	--pin-root "$CG_PIN_ROOT" --state-dir "$other" >/dev/null 2>&1
expect "(C applied with another state directory)" "$(active)" = change-c
out=$(cg apply --confirm 30 "$T/b.yaml" 2>&1)
expect "apply --confirm with no copy of the active policy to go back to fails" "$?" -ne 0
expect "... saying why" "$(grep -c 'cannot arm the revert' <<<"$out")" -eq 1
expect "... and changes nothing" "$(active)" = change-c
expect "... and is audited with the reason" \
	"$(field "$(audit_last apply)" '"\(.result): \(.error)"')" = "failed: the active policy has no copy to revert to"
check "apply A again with this state directory" cg apply "$T/a.yaml"

# ---- the same bytes again keep a pending confirmation; other bytes end it
check "apply --confirm 60 B" cg apply --confirm 60 "$T/b.yaml"
pc=$(cg_status_json | jq -c '.pending_confirm')
wd=$(jq -r '.watchdog_pid // empty' <<<"$pc")
prev=$(jq -r '.rev // empty' <<<"$pc")
out=$(cg apply "$T/b.yaml" 2>&1)
expect "a plain apply of the same B keeps the pending confirmation" \
	"$(cg_status_json | jq -r '.pending_confirm.rev')" = "$prev"
expect "... and does not say it cancels it" "$(grep -c 'cancels the pending confirmation' <<<"$out")" -eq 0
out=$(cg apply "$T/c.yaml" 2>&1)
expect "a plain apply of another policy (C) says it cancels the pending confirmation" \
	"$(grep -c "cancels the pending confirmation of revision $prev" <<<"$out")" -eq 1
expect "... nothing is pending" "$(cg_status_json | jq -r .pending_confirm)" = null
expect "... and its audit line names the confirmation it ended" \
	"$(field "$(audit_last apply)" '"\(.policy) \(.cancels_confirm_rev)"')" = "change-c $prev"
if wait_until 5 bash -c "! kill -0 $wd 2>/dev/null"; then
	ok "... and its watchdog exits"
else
	not_ok "... and its watchdog exits" "pid $wd still runs"
fi
check "apply B" cg apply "$T/b.yaml"
expect "... B stays" "$(active)" = change-b

# ---- the impact of a change on a recorded capture
if [ -r "$CAPTURES/sv-modbus.pcap" ]; then
	# The capture's own network: an HMI (.57) polling PLCs (.3, .8, .9).
	cap_policy() { # NAME TO
		cat <<EOF
version: 1
name: $1
zones:
  scada:
    interfaces: [biz0]
    networks: [10.0.0.48/28]
  plcs:
    interfaces: [crane0]
    networks: [10.0.0.0/28]
hosts:
  plc-3: 10.0.0.3
flows:
  - name: hmi-polls
    from: scada
    to: $2
    proto: tcp
    ports: [502]
EOF
	}
	cap_policy all-plcs plcs >"$T/cap-old.yaml"
	cap_policy plc-3-only plc-3 >"$T/cap-new.yaml"
	out=$(cg diff "$T/cap-old.yaml" "$T/cap-new.yaml" --pcap "$CAPTURES/sv-modbus.pcap" --by-source)
	rc=$?
	diag "$out"
	expect "diff --pcap sv-modbus.pcap: exit 1 (verdicts change)" "$rc" -eq 1
	# The capture starts inside one of them: its first frame is the PLC's.
	expect "... the three conversations of .57 with .8 change" \
		"$(grep -c '^tcp 10.0.0.57:[0-9]* -> 10.0.0.8:502 \|^tcp 10.0.0.8:502 -> 10.0.0.57:[0-9]* ' <<<"$out")" -eq 3
	expect "... with the rule on each side" \
		"$(grep -c 'old: pass allowed (flow hmi-polls); new: drop no-rule' <<<"$out")" -eq 3
	expect "... the polls of .3 do not change" "$(grep -c -- '-> 10.0.0.3:502' <<<"$out")" -eq 0
	json=$(cg diff --json "$T/cap-old.yaml" "$T/cap-new.yaml" --pcap "$CAPTURES/sv-modbus.pcap" --by-source)
	expect "... --json: 99 frames, 3 conversations change" \
		"$(jq -r '"\(.frames) \(.changed)"' <<<"$json")" = "99 3"
	cg diff "$T/cap-old.yaml" "$T/cap-old.yaml" --pcap "$CAPTURES/sv-modbus.pcap" --iface biz0 >/dev/null
	expect "diff --pcap of a policy with itself: exit 0" "$?" -eq 0
else
	skip "diff --pcap on sv-modbus.pcap" "$CAPTURES/sv-modbus.pcap is missing"
fi

# ---- captures that cannot be replayed: a clear error, exit 2 (trouble)
printf 'not a capture\n' >"$T/notpcap.pcap"
# A valid pcap header with link type 101 (raw IP, no Ethernet).
"$PYTHON" -c "import struct, sys; sys.stdout.buffer.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))" >"$T/rawip.pcap"
out=$(cg diff "$T/a.yaml" "$T/b.yaml" --pcap "$T/notpcap.pcap" --iface biz0 2>&1)
expect "diff --pcap of a file that is no capture: exit 2" "$?" -eq 2
expect "... naming the file" "$(grep -c "notpcap.pcap: " <<<"$out")" -ge 1
out=$(cg diff "$T/a.yaml" "$T/b.yaml" --pcap "$T/rawip.pcap" --iface biz0 2>&1)
expect "diff --pcap of a raw-IP capture: exit 2" "$?" -eq 2
expect "... saying it is not Ethernet" "$(grep -c "rawip.pcap: link type .* is not Ethernet" <<<"$out")" -eq 1
out=$(cg replay --policy "$T/a.yaml" --iface biz0 "$T/rawip.pcap" 2>&1)
expect "replay of a raw-IP capture fails" "$?" -ne 0
expect "... saying it is not Ethernet" "$(grep -c "rawip.pcap: link type .* is not Ethernet" <<<"$out")" -eq 1

# ---- applies at once: each waits for the lock, and each audit line's diff
# is against the policy that was active just before it (apply starts
# parsing that policy's copy before it takes the lock: a change in between
# must not leave a diff against the wrong one)
first_rev=$(( $(jq -s 'map(.rev // 0) | max' "$S/audit.jsonl") + 1 ))
appliers=()
for v in a b a b a b; do
	timeout 60 nsenter --net="/var/run/netns/${P}gw" "$CG_BIN" apply "$T/$v.yaml" \
		--pin-root "$CG_PIN_ROOT" --state-dir "$S" >/dev/null 2>&1 &
	appliers+=("$!")
	CG_PIDS+=("$!")
done
# Only these: a bare `wait` would also wait for the test's servers.
wait "${appliers[@]}"
lines=$(jq -c --argjson r "$first_rev" 'select(.action == "apply" and .result == "ok" and .rev >= $r)' "$S/audit.jsonl" | jq -sc 'sort_by(.rev)[]')
expect "six applies at once: six applied" "$(grep -c . <<<"$lines")" -eq 6
prev=$(jq -rs '.[0].previous.policy' <<<"$lines")
mism=
while read -r l; do
	pol=$(jq -r .policy <<<"$l")
	was=$(jq -r .previous.policy <<<"$l")
	want=$( [ "$pol" = "$was" ] && echo false || echo true)
	[ "$was" = "$prev" ] || mism+=" rev $(jq -r .rev <<<"$l"): previous $was, active was $prev;"
	[ "$(jq -r .diff.differs <<<"$l")" = "$want" ] || mism+=" rev $(jq -r .rev <<<"$l"): $was -> $pol differs $(jq -r .diff.differs <<<"$l");"
	prev=$pol
done <<<"$lines"
expect "... each audit line names the policy active before it, and diffs against it" "${mism:-none}" = none

# ---- detach is audited too
check "detach" cg detach
dt=$(audit_last detach)
expect "detach is audited" "$(field "$dt" .result)" = ok

# ---- apply --confirm with no policy active before: the revert detaches
check "apply --confirm 2 A on a detached gate" cg apply --confirm 2 "$T/a.yaml"
detached() { ! xdp_attached biz0; }
if wait_until 15 detached; then
	ok "without confirm, the gate detaches again within 15 s"
else
	not_ok "without confirm, the gate detaches again within 15 s" "$(cg status 2>&1)"
fi
# The detach comes first, its audit line right after.
wait_until 10 revert_recorded || true
expect "... and the revert is audited as a revert" \
	"$(field "$(audit_last revert)" '"\(.result) \(.reverts_rev)"')" = "ok $(cg history --json | jq -r '[.[] | select(.action == "apply")][0].rev')"
left=$(pins_left)
expect "no pins left under the pin root" "${left:-none}" = none

tap_done
