#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: shadow evaluation on a live gate in namespaces. The live
# policy lets the HMI send UDP 5000 to the hoist PLC; the candidate allows
# UDP 6000 instead. With the candidate shadowed, real datagrams keep the
# live verdicts (5000 arrives, 6000 does not), and status --json and
# events --json count and show every disagreement, per direction and per
# flow; apply --promote makes the candidate live (6000 arrives, 5000 does
# not), also with --confirm; --shadow-stop ends a shadow without changing
# the live policy; a broken candidate changes nothing; detach ends it all.
# Audit lines for each step; events name their revision. TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up
T=$CG_TMP
S=$CG_STATE_DIR

policy() { # NAME PORT
	cat <<EOF
version: 1
name: $1
$(topo_zones)
hosts:
  scada-hmi: $HMI
  plc-hoist: $PLC
flows:
  - name: hmi-pings-plcs
    from: scada-hmi
    to: crane-control
    proto: icmp
  - name: udp-$2
    from: scada-hmi
    to: plc-hoist
    proto: udp
    ports: [$2]
EOF
}
policy shadow-live 5000 >"$T/live.yaml"
policy shadow-cand 6000 >"$T/cand.yaml"
sed 's/^    ports: \[6000\]$/    ports: [6000/' "$T/cand.yaml" >"$T/broken.yaml"

# One datagram per call, from a fixed source port, to the PLC.
send_udp() { # PORT COUNT
	local i
	for ((i = 0; i < $2; i++)); do
		printf 'd%d\n' "$i" | in_ns biz timeout 5 socat -u - \
			"UDP4-SENDTO:$PLC:$1,sourceport=4$1,reuseaddr" 2>/dev/null
	done
}
received() { # PORT: datagrams the PLC received on it
	wc -l <"$T/rx$1.out" 2>/dev/null || echo 0
}
for port in 5000 6000; do
	: >"$T/rx$port.out"
	bg_in_ns 120 plc socat -u "UDP4-RECV:$port,reuseaddr" \
		"OPEN:$T/rx$port.out,creat,append"
done
shadow() { cg_status_json | jq -r ".shadow$1"; }
audit() { jq -c --arg a "$1" 'select(.action == $a)' "$S/audit.jsonl" 2>/dev/null; }

# ---- the live policy, and a candidate beside it
check "apply the live policy (UDP 5000)" cg apply "$T/live.yaml"
expect "status: no shadow yet" "$(shadow '')" = null
check_fails "apply --promote without a shadow fails" cg apply --promote
check_fails "apply --shadow-stop without a shadow fails" cg apply --shadow-stop
out=$(cg apply --shadow "$T/broken.yaml" 2>&1)
expect "apply --shadow of a broken policy fails" "$?" -ne 0
expect "... with FILE:LINE:COL: error" \
	"$(grep -c 'broken.yaml:[0-9]*:[0-9]*: error:' <<<"$out")" -ge 1
expect "... and starts no shadow" "$(shadow '')" = null
check "apply --shadow the candidate (UDP 6000)" cg apply --shadow "$T/cand.yaml"
expect "status: the shadow is the candidate" "$(shadow .policy)" = shadow-cand
expect "status: ... by its sha256" "$(shadow .sha256)" = \
	"$(sha256sum "$T/cand.yaml" | cut -d' ' -f1)"
expect "status: ... comparing" "$(shadow .comparing)" = true
expect "status: no disagreement yet" "$(shadow .disagree)" -eq 0
expect "the live policy is unchanged" "$(cg_policy_field name)" = shadow-live

# ---- live traffic: verdicts stay the live policy's
cg_bg 30 "$T/events.json" events --json
events_pid=$CG_LAST_PID
sleep 0.5
send_udp 5000 5
send_udp 6000 3
wait_until 5 test "$(received 5000)" -ge 5
sleep 0.5
expect "UDP 5000 (live allows, candidate not): all 5 arrive" "$(received 5000)" -eq 5
expect "UDP 6000 (candidate allows, live not): none arrives" "$(received 6000)" -eq 0
st=$(cg_status_json)
diag "$(jq -c .shadow <<<"$st")"
diag "$(cg status | sed -n "/^shadow:/,/^reasons:/p")"
expect "status: 5 live pass -> shadow drop" \
	"$(jq -r .shadow.live_pass_shadow_drop <<<"$st")" -eq 5
expect "status: 3 live drop -> shadow pass" \
	"$(jq -r .shadow.live_drop_shadow_pass <<<"$st")" -eq 3
expect "status: 8 disagreements" "$(jq -r .shadow.disagree <<<"$st")" -eq 8
expect "status: frames compared = agree + disagree" \
	"$(jq -r '.shadow | .frames == .agree + .disagree' <<<"$st")" = true
expect "status: reason pair allowed -> no-rule: 5" \
	"$(jq -r '[.shadow.pairs[] | select(.live == "allowed" and .shadow == "no-rule")][0].packets' <<<"$st")" -eq 5
expect "status: by flow, udp-5000 -> none: 5" \
	"$(jq -r '[.shadow.flows[] | select(.live_rule == "udp-5000" and .shadow_rule == null)][0].packets' <<<"$st")" -eq 5
expect "status: by flow, none -> udp-6000: 3" \
	"$(jq -r '[.shadow.flows[] | select(.live_rule == null and .shadow_rule == "udp-6000")][0].packets' <<<"$st")" -eq 3
expect "metrics: cranegate_shadow_frames_total{result=\"disagree\"} 8" \
	"$(cg metrics | grep -c '^cranegate_shadow_frames_total{result="disagree"} 8$')" -eq 1
expect "status (text) names the shadow" \
	"$(cg status | grep -c '^shadow:   shadow-cand (enforce)')" -eq 1
wait_until 5 test "$(grep -c '"shadow": {' "$T/events.json")" -ge 8
diag "$(grep -m1 '"shadow": {' "$T/events.json")"
expect "events --json: 8 disagreements" \
	"$(grep -c '"shadow": {' "$T/events.json")" -eq 8
expect "events --json: UDP 5000 live pass allowed (udp-5000), shadow drop no-rule" \
	"$(jq -c 'select(.shadow and .dport == 5000) | [.verdict, .reason, .rule, .shadow.verdict, .shadow.reason, .shadow.rule]' "$T/events.json" | sort -u)" = \
	'["pass","allowed","udp-5000","drop","no-rule",null]'
expect "events --json: UDP 6000 live drop no-rule, shadow pass allowed (udp-6000)" \
	"$(jq -c 'select(.shadow and .dport == 6000) | [.verdict, .reason, .rule, .shadow.verdict, .shadow.reason, .shadow.rule]' "$T/events.json" | sort -u)" = \
	'["drop","no-rule",null,"pass","allowed","udp-6000"]'
expect "events --json: the live drops are logged too (3)" \
	"$(jq -c 'select((.shadow | not) and .dport == 6000)' "$T/events.json" | wc -l)" -eq 3
expect "events carry the revision that decided them (1)" \
	"$(jq -r 'select(.dport == 6000) | .revision' "$T/events.json" | sort -u)" = 1
expect "events carry the live policy's sha256 prefix" \
	"$(jq -r 'select(.dport == 6000) | .policy_sha256' "$T/events.json" | sort -u)" = \
	"$(sha256sum "$T/live.yaml" | cut -c1-16)"
expect "shadow events carry the candidate's sha256 prefix" \
	"$(jq -r 'select(.shadow) | .shadow.policy_sha256' "$T/events.json" | sort -u)" = \
	"$(sha256sum "$T/cand.yaml" | cut -c1-16)"
# One reader of the ring buffer at a time: this one is done.
kill -INT "$events_pid" 2>/dev/null
wait "$events_pid" 2>/dev/null

# ---- a plain apply keeps the shadow, compared from zero
check "apply the live policy again (a plain apply)" cg apply "$T/live.yaml"
expect "... keeps the shadow" "$(shadow .policy)" = shadow-cand
expect "... and starts its counts afresh" "$(shadow .disagree)" -eq 0

# ---- promote
check "apply --promote" cg apply --promote
expect "the candidate is live" "$(cg_policy_field name)" = shadow-cand
expect "... and the shadow is gone" "$(shadow '')" = null
send_udp 5000 2
send_udp 6000 2
wait_until 5 test "$(received 6000)" -ge 2
sleep 0.5
expect "promoted: UDP 6000 arrives (2)" "$(received 6000)" -eq 2
expect "promoted: UDP 5000 is dropped (still 5)" "$(received 5000)" -eq 5
expect "history: revision 3 is the promote" \
	"$(cg history --json | jq -r '.[0] | "\(.rev) \(.action) \(.policy)"')" = "3 promote shadow-cand"
expect "status names revision 3" "$(cg_status_json | jq -r .revision)" -eq 3

# ---- stop without promoting
check "apply --shadow the old policy" cg apply --shadow "$T/live.yaml"
expect "... shadowed" "$(shadow .policy)" = shadow-live
cg_bg 15 "$T/events.txt" events
sleep 0.5
send_udp 5000 1
wait_until 5 grep -q SHADOW "$T/events.txt"
diag "$(grep SHADOW "$T/events.txt")"
expect "events (text): the disagreement, marked SHADOW, with the live revision" \
	"$(grep -c "biz0 drop no-rule .* udp $HMI:45000 -> $PLC:5000 rev 3 SHADOW: pass allowed flow udp-5000\$" "$T/events.txt")" -eq 1
check "apply --shadow-stop" cg apply --shadow-stop
expect "... no shadow" "$(shadow '')" = null
expect "... the live policy unchanged" "$(cg_policy_field name)" = shadow-cand
send_udp 6000 1
wait_until 5 test "$(received 6000)" -ge 3
expect "... and still enforcing it (UDP 6000 arrives)" "$(received 6000)" -eq 3

# ---- the audit log
expect "audit: shadow lines (failed, ok, ok)" \
	"$(audit shadow | jq -r .result | tr '\n' ' ')" = "failed ok ok "
expect "audit: the shadow line names the candidate and diffs it against the live policy" \
	"$(audit shadow | jq -r 'select(.result == "ok") | "\(.policy) \(.previous.policy) \(.diff.newly_allowed)"' | head -n 1)" = \
	"shadow-cand shadow-live 1"
expect "audit: promote, as a revision" \
	"$(audit promote | jq -r 'select(.result != "started") | "\(.rev) \(.policy) \(.result)"')" = "3 shadow-cand ok"
expect "audit: shadow-stop names what it stopped" \
	"$(audit shadow-stop | jq -r '"\(.policy) \(.result)"')" = "shadow-live ok"

# ---- promote with a way back
check "apply --shadow the old policy again" cg apply --shadow "$T/live.yaml"
check "apply --promote --confirm 60" cg apply --promote --confirm 60
expect "... the promoted policy is live" "$(cg_policy_field name)" = shadow-live
expect "... awaiting confirmation as revision 4" \
	"$(cg_status_json | jq -r .pending_confirm.rev)" -eq 4
check "confirm" cg confirm
expect "history: revision 4 is the promote, confirmed" \
	"$(cg history --json | jq -r '[.[] | select(.rev == 4)][0] | "\(.action) \(.policy) \(.confirmed)"')" = \
	"promote shadow-live true"

# ---- detach ends it
check "apply --shadow again" cg apply --shadow "$T/live.yaml"
check "detach" cg detach
expect "no pins left" "$(ls "$CG_PIN_ROOT" 2>/dev/null | wc -l)" -eq 0
check_fails "apply --promote after detach fails" cg apply --promote

tap_done
