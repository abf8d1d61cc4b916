#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the gate in a sandbox. Builds the e2e topology in network
# namespaces, attaches cranegate with policies/example.yaml and walks
# through what it lets pass and what it drops, with the counters and the
# live event stream. Removes everything it created, however it ends.

. "$(dirname "$0")/lib.sh"

POLICY=${1:-$CG_TOP/policies/example.yaml}
# Shown as the operator would type it, relative to where make runs.
POLICY=$(realpath --relative-to="$PWD" "$POLICY" 2>/dev/null || echo "$POLICY")

if [ -t 1 ]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'
else
	B="" G="" R="" D="" N=""
fi
STEP=0
SURPRISES=0

step() {
	STEP=$((STEP + 1))
	printf '\n%s==> step %d: %s%s\n' "$B" "$STEP" "$*" "$N"
}
say() {
	printf '    %s\n' "$@"
}
# show COMMAND...: print a command as the operator would type it, run it,
# indent its output.
show() {
	printf '    %s$ %s%s\n' "$D" "$*" "$N"
	"$@" 2>&1 | sed 's/^/      /'
	return "${PIPESTATUS[0]}"
}
# as_expected WHAT: the last outcome was the one the narration promised.
as_expected() {
	printf '    %s✔ %s%s\n' "$G" "$*" "$N"
}
surprise() {
	SURPRISES=$((SURPRISES + 1))
	printf '    %s✘ unexpected: %s%s\n' "$R" "$*" "$N"
}
# counted REASON BEFORE_JSON: say how a reason counter moved.
counted() {
	local was now
	was=$(cg_reason "$1" "$2")
	now=$(cg_reason "$1")
	say "counter '$1': $was -> $now"
	[ "$now" -gt "$was" ]
}
# The CLI as the operator would call it (the sandbox's gateway is a network
# namespace, and this run has its own pin root and state directory).
cranegate() {
	cg "$@"
}

[ "$(id -u)" -eq 0 ] || {
	echo "demo: run as root (make demo)" >&2
	exit 1
}
[ -x "$CRANEGATE" ] || {
	echo "demo: $CRANEGATE is not built; run make" >&2
	exit 1
}
[ -r "$POLICY" ] || {
	echo "demo: no policy at $POLICY" >&2
	exit 1
}

cg_trap_cleanup
trap 'trap "" PIPE
	printf "\n==> cleaning up: namespaces %s{gw,biz,plc,cam,mgt}, pins %s\n" "$P" "$CG_PIN_ROOT" 2>/dev/null
	topo_down' EXIT

step "build the sandbox: a gateway and four hosts in network namespaces"
topo_up || {
	echo "demo: could not build the sandbox topology" >&2
	exit 1
}
cat <<EOF
      zone            host (namespace)                      gateway ${P}gw
      business        scada-hmi 198.18.10.5, vms .40 (${P}biz)  <->  biz0
      crane-control   plc-hoist 198.18.20.11 (${P}plc)          <->  crane0
      crane-drives    VLAN 100 on the same link, 198.18.22.0/24  <->  crane0
      crane-cctv      camera 198.18.21.7 (${P}cam)              <->  cctv0
      crane-mgmt      laptop 198.18.30.9 (${P}mgt)              <->  mgmt0
EOF
# apply refuses a policy file others can change (a checkout owned by
# another user, or group-writable): then the demo uses a root-owned copy.
if "$CG_BIN" check "$POLICY" 2>&1 | grep -q 'will refuse this policy'; then
	install -m 0644 "$POLICY" "$CG_TMP/$(basename "$POLICY")"
	say "$POLICY can be changed by others than root, which apply refuses; using a root-owned copy."
	POLICY=$CG_TMP/$(basename "$POLICY")
fi
say "The gateway forwards IPv4 and IPv6 between its four interfaces."
say "Every host routes through the gateway; without a gate, everything reaches everything."
tcp_echo_server plc 502 600 && tcp_echo_server plc 102 600 &&
	tcp_echo_server plc 22 600 && tcp_echo_server biz 8502 600 &&
	tcp_echo_server mgt 22 600 && tcp_echo_server gw 22 600 || {
	echo "demo: could not start the echo servers" >&2
	exit 1
}
say "Echo servers listen on the PLC (TCP 502 Modbus, 102 S7comm, 22 SSH),"
say "on the HMI (TCP 8502), on the management laptop (TCP 22) and on the gateway itself (TCP 22)."

step "check the policy, then apply it to the gateway"
say "The policy, $POLICY: zones, then the flows that may cross between them."
awk '/^(zones|hosts|flows):/ { sect = $1; print; next }
	/^[a-z]/ { sect = ""; next }
	sect == "zones:" && /^  [a-z]|^    (interfaces|vlans|networks):/
	sect == "hosts:" && /^  [a-z]/
	sect == "flows:" && /^  - name|^    (from|to|proto|ports|log|modbus|s7comm):/' "$POLICY" |
	sed 's/[[:space:]]*#.*//; s/^/      /'
show cranegate check "$POLICY" || surprise "the policy does not check"
show cranegate apply "$POLICY" && as_expected "applied" || {
	surprise "apply failed; nothing more to show"
	exit 1
}
show ip -n "${P}gw" link show dev biz0
for dev in biz0 crane0 cctv0 mgmt0; do
	xdp_attached "$dev" || surprise "no XDP program on $dev"
done

step "the SCADA HMI polls the hoist PLC over Modbus/TCP (port 502): allowed by scada-polls-plcs"
printf '%s' "$(modbus_hex 1 3 00000002)" | xxd -r -p >"$CG_TMP/read"
say "request (read holding registers 0-1 of unit 1): $(xxd -p "$CG_TMP/read")"
before=$(cg_status_json)
if tcp_roundtrip biz $PLC 502 "$CG_TMP/read" "$CG_TMP/reply"; then
	say "echoed back by the PLC:                        $(xxd -p "$CG_TMP/reply")"
	as_expected "the connection opened, the request went through and the answer came back"
else
	surprise "the Modbus exchange failed"
fi
say "flow scada-polls-plcs: $(cg_flow scada-polls-plcs "$before") -> $(cg_flow scada-polls-plcs) packets"
say "the PLC's answers pass as 'reply': $(cg_reason reply "$before") -> $(cg_reason reply) packets"

if grep -qE '^[[:space:]]*modbus:[[:space:]]*read-only' "$POLICY"; then
	step "in the same kind of connection, the HMI tries to write a PLC register (Modbus function 6)"
	say "scada-polls-plcs is 'modbus: read-only': reads pass, writes are dropped even mid-connection"
	before=$(cg_status_json)
	out=$(modbus_exchange biz $PLC "$(modbus_hex 2 6 00010001)")
	say "read request (FC 3): $(head -1 <<<"$out")"
	say "write request (FC 6, register 1 := 1): $(tail -1 <<<"$out")"
	if [ "$(tail -1 <<<"$out")" = dropped ] && counted ics-denied "$before"; then
		as_expected "the write never reached the PLC: dropped as ics-denied"
	else
		surprise "the write was not dropped as ics-denied"
	fi
fi

step "the HMI pings the PLC: allowed by hmi-pings-plcs, the echo replies pass as reply"
show in_ns biz ping -n -c 3 -i 0.3 -W 1 $PLC && as_expected "3 of 3 answered" ||
	surprise "the pings were not answered"

step "the PLC tries to open a TCP connection to the HMI: no flow allows the crane side to start one"
before=$(cg_status_json)
say "$ socat /dev/null TCP:$HMI:8502,connect-timeout=3   (from the PLC)"
if tcp_connects plc $HMI 8502; then
	surprise "the connection opened"
else
	as_expected "the SYN is dropped at crane0; the connection times out"
fi
counted no-rule "$before" || surprise "no-rule did not count it"

step "a business host tries to open a connection to the management network"
before=$(cg_status_json)
say "$ socat /dev/null TCP:$MGT:22,connect-timeout=3   (from the HMI)"
if tcp_connects biz $MGT 22; then
	surprise "the connection opened"
else
	as_expected "dropped at biz0: business may not reach crane-mgmt"
fi
counted no-rule "$before" || surprise "no-rule did not count it"

step "the management laptop opens SSH (22) and S7comm (102) sessions to the PLC: allowed and logged"
tcp_connects mgt $PLC 22 && as_expected "SSH to the PLC: connected (mgmt-ssh)" ||
	surprise "SSH to the PLC failed"
tcp_connects mgt $PLC 102 && as_expected "S7comm to the PLC: connected (plc-programming, log: true)" ||
	surprise "S7comm to the PLC failed"

step "the gateway itself: its SSH port from business (refused) and from management (mgmt-to-gateway)"
before=$(cg_status_json)
say "$ socat /dev/null TCP:$GW_BIZ:22,connect-timeout=3   (from the HMI, to the gateway's own address)"
if tcp_connects biz $GW_BIZ 22; then
	surprise "the connection opened"
else
	as_expected "dropped at biz0: the gateway's address is not business's, only to: self flows reach it"
fi
counted no-rule "$before" || surprise "no-rule did not count it"
tcp_connects mgt $GW_MGMT 22 && as_expected "SSH to the gateway from the management laptop: connected (mgmt-to-gateway)" ||
	surprise "SSH to the gateway from management failed"

step "a business host sends a frame with a forged source address, 198.19.0.99 (in no zone)"
before=$(cg_status_json)
say "(a hand-made TCP SYN from the HMI's interface, sent with a raw socket)"
send_frame biz --dst-mac "$(gw_mac biz0)" --src 198.19.0.99 --dst $PLC --proto tcp \
	--dport 502 --count 3
counted spoofed-source "$before" && as_expected "dropped as spoofed-source" ||
	surprise "not counted as spoofed-source"

step "a business host sends with a crane-control source, 198.18.20.99: a host straddling the boundary"
before=$(cg_status_json)
send_frame biz --dst-mac "$(gw_mac biz0)" --src 198.18.20.99 --dst $PLC --proto tcp \
	--dport 502 --count 3
counted multi-homed "$before" && as_expected "dropped as multi-homed" ||
	surprise "not counted as multi-homed"

step "tagged frames on the crane uplink: VLAN 100 is crane-drives, VLAN 300 is declared nowhere"
before=$(cg_status_json)
send_frame plc --dst-mac "$(gw_mac crane0)" --src-mac 02:00:00:00:64:01 --vlan 100 \
	--src 198.18.22.5 --dst 198.18.22.9 --count 3
counted intra-zone "$before" && as_expected "VLAN 100, 198.18.22.5 -> 198.18.22.9: passes within crane-drives" ||
	surprise "the VLAN 100 frames were not sorted into crane-drives"
before=$(cg_status_json)
send_frame plc --dst-mac "$(gw_mac crane0)" --src-mac 02:00:00:01:2c:01 --vlan 300 \
	--src 198.18.20.11 --dst $HMI --count 3
counted vlan-violation "$before" && as_expected "VLAN 300: dropped as vlan-violation" ||
	surprise "not counted as vlan-violation"

step "what the gate has seen so far: cranegate status"
show cranegate status || surprise "status failed"

step "the live event stream: cranegate events, for 8 seconds, while traffic crosses the gate"
say "(allowed Modbus and pings pass silently; drops and logged connections show up)"
# Start from a quiet stream: consume what the earlier steps left queued.
cg events --timeout 1 >/dev/null 2>&1
(
	sleep 1.5
	tcp_roundtrip biz $PLC 502 "$CG_TMP/read" "$CG_TMP/reply2"
	pings biz $PLC 2
	tcp_connects mgt $PLC 102
	tcp_connects plc $HMI 8502
	pings biz $MGT 1
	send_frame biz --dst-mac "$(gw_mac biz0)" --src 198.19.0.77 --dst $PLC --proto udp \
		--dport 161 --count 2
	send_frame plc --dst-mac "$(gw_mac crane0)" --src-mac 02:00:00:01:2c:02 --vlan 300 \
		--src 198.18.20.11 --dst $HMI --count 1
) >/dev/null 2>&1 &
traffic=$!
CG_PIDS+=("$traffic")
printf '    %s$ cranegate events%s\n' "$D" "$N"
timeout -s INT -k 5 8 nsenter --net="/var/run/netns/${P}gw" \
	stdbuf -oL "$CG_BIN" events --pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" \
	</dev/null 2>&1 | sed -u 's/^/      /'
wait "$traffic" 2>/dev/null

step "a change, tried first in the shadow: a candidate without hmi-pings-plcs"
CANDIDATE=$CG_TMP/candidate.yaml
awk '/^  - name: hmi-pings-plcs$/ { skip = 1; next }
	skip && /^  - name: |^  #|^[a-z]/ { skip = 0 }
	!skip' "$POLICY" | sed 's/^name: .*/name: candidate-no-pings/' >"$CANDIDATE"
chmod 0600 "$CANDIDATE"
show cranegate diff "$POLICY" "$CANDIDATE"
show cranegate apply --shadow "$CANDIDATE" || surprise "apply --shadow failed"
say "(the live policy still decides: the pings are answered, and the shadow counts them)"
show in_ns biz ping -n -c 3 -i 0.3 -W 1 $PLC && as_expected "3 of 3 answered: a shadow never changes a verdict" ||
	surprise "the pings were not answered under the shadow"
st=$(cg_status_json)
dis=$(jq -r '.shadow.live_pass_shadow_drop // 0' <<<"$st")
show cranegate status
if [ "${dis:-0}" -gt 0 ] 2>/dev/null; then
	as_expected "the shadow disagreed on $dis frames: the candidate would drop the pings"
else
	surprise "the shadow did not count the pings it would drop"
fi
show cranegate apply --shadow-stop || surprise "apply --shadow-stop failed"
say "(the candidate would cut the HMI's pings: it is not promoted)"

step "detach: the gate leaves the interfaces and removes its pins"
show cranegate detach || surprise "detach failed"
for dev in biz0 crane0 cctv0 mgmt0; do
	xdp_attached "$dev" && surprise "XDP still on $dev"
done
[ -z "$(pins_left)" ] && as_expected "no XDP program and no pins left" ||
	surprise "pins left: $(pins_left | tr '\n' ' ')"

echo
if [ "$SURPRISES" -eq 0 ]; then
	printf '%sdemo done: every step behaved as the policy says.%s\n' "$B" "$N"
else
	printf '%sdemo done: %d step(s) did not behave as the policy says.%s\n' "$B$R" "$SURPRISES" "$N"
	exit 1
fi
