#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: the gateway defends itself (`self`). A service listening on
# the gateway is reached only where a `to: self` flow allows it; replies to
# the gateway's own connections come in only along a `from: self` flow;
# `run` protects an address added while it runs; `apply` over SSH refuses a
# policy that would cut the session. TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up

BASE=$CG_TOP/policies/example.yaml
[ -r "$BASE" ] || tap_skip_all "$BASE is missing"
# The example policy (management reaches the gateway's SSH port from
# crane-mgmt only), plus the gateway's own connections to the business
# host's port 8080 (from: self).
POLICY=$CG_TMP/self.yaml
{
	cat "$BASE"
	cat <<'EOF'

  - name: gateway-fetches-updates
    from: self
    to: business
    proto: tcp
    ports: [8080]
EOF
} >"$POLICY"
chmod 0644 "$POLICY"

# A service on the gateway (all its addresses) and two on the business host.
tcp_echo_server gw 22 120
tcp_echo_server biz 8080 120
tcp_echo_server biz 8081 120

# ---- without the gate: the attack works (the frame is intra-zone).
check "no gate: business -> the gateway's business-side address, TCP 22, connects" \
	tcp_connects biz $GW_BIZ 22

check "check accepts the policy" "$CG_BIN" check "$POLICY"
check "apply the policy" cg apply "$POLICY"

# ---- the attack, with the gate
before=$(cg_status_json)
check_fails "business -> $GW_BIZ TCP 22 (the gateway's own service) fails" \
	tcp_connects biz $GW_BIZ 22
after=$(cg_status_json)
expect "... counted as no-rule" \
	$(($(cg_reason no-rule "$after") - $(cg_reason no-rule "$before"))) -ge 1
check_fails "business -> $GW_BIZ6 TCP 22 over IPv6 fails" tcp_connects biz $GW_BIZ6 22
check_fails "business -> the gateway's crane-side address $GW_CRANE TCP 22 fails" \
	tcp_connects biz $GW_CRANE 22
before=$(cg_status_json)
check "crane-mgmt -> $GW_MGMT TCP 22 connects (to: self flow)" tcp_connects mgt $GW_MGMT 22
after=$(cg_status_json)
expect "... counted on the flow mgmt-to-gateway" \
	$(($(cg_flow mgmt-to-gateway "$after") - $(cg_flow mgmt-to-gateway "$before"))) -ge 1
check "crane-mgmt -> $GW_MGMT6 TCP 22 connects over IPv6" tcp_connects mgt $GW_MGMT6 22
check "crane-mgmt -> the gateway's business-side address TCP 22 connects" \
	tcp_connects mgt $GW_BIZ 22
check "ARP and ND still pass: the HMI pings the PLC" pings biz $PLC 2

# ---- the gateway's own connections: replies along a from: self flow
check "the gateway -> business host TCP 8080 connects (from: self, replies pass)" \
	tcp_connects gw $HMI 8080
check_fails "the gateway -> business host TCP 8081 fails (no from: self flow)" \
	tcp_connects gw $HMI 8081

# gate_self4: the self4 entries of every instance of this run's gate (the
# programs that share its pinned connection table), as bpftool prints them.
gate_self4() {
	local conns ids map
	conns=$(bpftool -j map show pinned "$CG_PIN_ROOT/conns" | jq -r '.id')
	ids=$(bpftool -j prog show | jq -c --argjson c "$conns" \
		'[.[] | select(.name == "cranegate_xdp" and ((.map_ids // []) | index($c) != null)) | .map_ids[]]')
	for map in $(bpftool -j map show | jq -r --argjson m "$ids" \
		'.[] | select(.name == "self4" and (.id as $i | $m | index($i) != null)) | .id'); do
		bpftool map dump id "$map"
	done
}

# ---- run keeps the set current: an address added while it runs is the
# gateway's at once (without run it would be a business address, passing
# as intra-zone).
export -f gate_self4
export CG_PIN_ROOT
start_run "$CG_TMP/run.log" "$POLICY" || not_ok "run started"
# run is ready (watching addresses) once it has dropped its privileges.
wait_until 10 grep -q '"type": *"privileges"' "$CG_TMP/run.log" ||
	wait_until 5 test -s "$CG_TMP/run.log"
NEW_BIZ=198.18.10.2
_addr gw biz0 $NEW_BIZ/24
check "an address added to biz0 while run runs: the gate knows it within 2 s" \
	wait_until 2 bash -c "gate_self4 | tr -d ' \n' | grep -q '198,18,10,2\]'"
check_fails "business -> the new address $NEW_BIZ TCP 22 fails" tcp_connects biz $NEW_BIZ 22
check "crane-mgmt -> the new address $NEW_BIZ TCP 22 connects (to: self)" \
	tcp_connects mgt $NEW_BIZ 22
ip -n "${P}gw" addr del $NEW_BIZ/24 dev biz0
check "... and removed from the gate when it goes" \
	wait_until 2 bash -c "gate_self4 | tr -d ' \n' | grep -q '198,18,10,1\]' && ! gate_self4 | tr -d ' \n' | grep -q '198,18,10,2\]'"
kill -INT "$RUN_PID" 2>/dev/null
wait "$RUN_TIMEOUT_PID" 2>/dev/null

# ---- apply over SSH: a policy that would cut the session is refused.
sed '/^  - name: mgmt-to-gateway/,/^    log: true/d' "$POLICY" >"$CG_TMP/cut.yaml"
chmod 0644 "$CG_TMP/cut.yaml"
before_sha=$(jq -r '.policy.sha256' <<<"$(cg_status_json)")
out=$(SSH_CONNECTION="$MGT 50022 $GW_MGMT 22" cg apply "$CG_TMP/cut.yaml" 2>&1)
rc=$?
expect "apply over SSH of a policy without the session's to: self flow exits 3" "$rc" -eq 3
expect "... and says what is missing" \
	"$(grep -c "refused: .* would cut the SSH session.*no flow allows tcp from $MGT (zone 'crane-mgmt') to self port 22" <<<"$out")" -eq 1
expect "... and changes nothing" "$(jq -r '.policy.sha256' <<<"$(cg_status_json)")" = "$before_sha"
expect "... and the audit log records it as failed, saying why" \
	"$(tail -1 "$CG_STATE_DIR/audit.jsonl" | jq -r '"\(.result): \(.error)"')" = \
	"failed: the policy would cut the SSH session the apply ran over"
out=$(SSH_CONNECTION="$MGT 50022 $GW_MGMT 22" cg apply --confirm 60 "$CG_TMP/cut.yaml" 2>&1)
rc=$?
expect "apply --confirm over SSH of that policy is refused too (exit 3)" "$rc" -eq 3
expect "... and changes nothing, and leaves no confirmation pending" \
	"$(jq -r '.policy.sha256' <<<"$(cg_status_json)")/$(test -e "$CG_STATE_DIR/pending.json" && echo pending)" = "$before_sha/"
check "apply over SSH of the policy that keeps the flow is accepted" \
	env SSH_CONNECTION="$MGT 50022 $GW_MGMT 22" nsenter --net="/var/run/netns/${P}gw" \
	"$CG_BIN" apply --pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" "$POLICY"
check "apply over SSH from a business host's session (not via a gate address) is not refused" \
	env SSH_CONNECTION="$HMI 50022 198.19.9.9 22" nsenter --net="/var/run/netns/${P}gw" \
	"$CG_BIN" apply --pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" "$CG_TMP/cut.yaml"
check "--force applies a policy that cuts the session" \
	env SSH_CONNECTION="$MGT 50022 $GW_MGMT 22" nsenter --net="/var/run/netns/${P}gw" \
	"$CG_BIN" apply --force --pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" "$CG_TMP/cut.yaml"
check_fails "... and the session's path is cut: crane-mgmt -> $GW_MGMT TCP 22 fails" \
	tcp_connects mgt $GW_MGMT 22

tap_done
