#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: policies/example.yaml on the sandbox gateway, checked with real
# traffic between namespaces, hand-made frames (spoofed, multi-homed,
# tagged), the counters of `status --json`, the `events --json` stream and
# `detach`. TAP output.

. "$(dirname "$0")/lib.sh"

POLICY=$CG_TOP/policies/example.yaml
[ -r "$POLICY" ] || tap_skip_all "$POLICY is missing"
sandbox_up

# A root-owned copy: apply refuses a file others can change, and the
# checkout may belong to another user.
install -m 0644 "$POLICY" "$CG_TMP/$(basename "$POLICY")"
POLICY=$CG_TMP/$(basename "$POLICY")

policy_name=$(sed -n 's/^name:[[:space:]]*//p' "$POLICY" | sed 's/[[:space:]]*#.*//; s/^["'\'']//; s/["'\'']$//')
EVENTS=$CG_TMP/events.jsonl

# ---- without the gate: the sandbox itself works, so that every failure
# below is the gate's doing.
check "sandbox: the HMI pings the PLC (no gate yet)" pings biz $PLC
tcp_echo_server biz 8502 300
check "sandbox: PLC -> HMI TCP 8502 connects (no gate yet)" tcp_connects plc $HMI 8502
check "sandbox: PLC -> HMI over IPv6 connects (no gate yet)" tcp_connects plc $HMI6 8502
tcp_echo_server plc 502 300
tcp_echo_server plc 102 300
tcp_echo_server mgt 22 300
tcp_echo_server plc 22 300

# ---- apply
check "check accepts $(basename "$POLICY")" "$CG_BIN" check "$POLICY"
check "apply $(basename "$POLICY")" cg apply "$POLICY"

status=$(cg_status_json)
check "status --json is JSON" jq -e . <<<"$status"
ifaces=$(jq -r '[.attached[]?.iface] | sort | join(",")' <<<"$status" 2>/dev/null)
expect "status --json lists biz0, cctv0, crane0, mgmt0 as attached" "$ifaces" = "biz0,cctv0,crane0,mgmt0"
modes=$(jq -r '[.attached[]? | select(.ifindex > 0 and (.mode | type) == "string")] | length' \
	<<<"$status" 2>/dev/null)
expect "every attached interface has an ifindex and a mode" "$modes" -eq 4
for dev in biz0 crane0 cctv0 mgmt0; do
	check "an XDP program is attached to $dev" xdp_attached "$dev"
done
expect "status names the active policy" "$(jq -r '.policy.name // empty' <<<"$status")" = "$policy_name"
sha=$(jq -r '.policy.sha256 // empty' <<<"$status")
if [[ $sha =~ ^[0-9a-f]{64}$ ]]; then
	ok "status shows the policy's sha256"
else
	not_ok "status shows the policy's sha256" "got: '$sha'"
fi
check "status (text) exits 0" cg status

# ---- allowed traffic and its replies
before=$(cg_status_json)
printf '%s' "$(modbus_hex 1 3 00000001)" | xxd -r -p >"$CG_TMP/modbus-read"
check "HMI -> PLC TCP 502: a Modbus read request is echoed back through the gate" \
	tcp_roundtrip biz $PLC 502 "$CG_TMP/modbus-read" "$CG_TMP/modbus-reply"
after=$(cg_status_json)
expect "the flow scada-polls-plcs counted the connection" \
	$(($(cg_flow scada-polls-plcs "$after") - $(cg_flow scada-polls-plcs "$before"))) -ge 3
expect "the PLC's answers passed as reply" \
	$(($(cg_reason reply "$after") - $(cg_reason reply "$before"))) -ge 2

before=$after
check "HMI pings the PLC (hmi-pings-plcs)" pings biz $PLC 3
after=$(cg_status_json)
expect "the flow hmi-pings-plcs counted the echo requests" \
	$(($(cg_flow hmi-pings-plcs "$after") - $(cg_flow hmi-pings-plcs "$before"))) -ge 3

before=$(cg_status_json)
check "HMI -> PLC over IPv6, TCP 502: the request is echoed back (v6-ops-polls-plcs)" \
	tcp_roundtrip biz $PLC6 502 "$CG_TMP/modbus-read" "$CG_TMP/modbus-reply6"
after=$(cg_status_json)
expect "the flow v6-ops-polls-plcs counted the connection" \
	$(($(cg_flow v6-ops-polls-plcs "$after") - $(cg_flow v6-ops-polls-plcs "$before"))) -ge 3
check_fails "PLC -> HMI over IPv6: a new TCP connection fails" tcp_connects plc $HMI6 8502
check_fails "business -> management over IPv6: TCP 22 fails" tcp_connects biz $MGT6 22

check "the HMI pings its gateway (ping-gateway, to: self)" pings biz $GW_BIZ 2
check "the HMI pings its gateway over IPv6 (ping-gateway-v6, nd)" pings biz $GW_BIZ6 2

# ---- denied traffic, with the event stream running
cg_bg 60 "$EVENTS" events --json
EVENTS_PID=$CG_LAST_PID
sleep 1

before=$(cg_status_json)
check_fails "PLC -> HMI: a new TCP connection from the crane side fails" \
	tcp_connects plc $HMI 8502
after=$(cg_status_json)
expect "... and is counted as no-rule" \
	$(($(cg_reason no-rule "$after") - $(cg_reason no-rule "$before"))) -ge 1

# Replies never open connections: while the HMI holds a connection to the
# PLC's port 502 from port 40502, a SYN from PLC:502 to HMI:40502 (the
# reverse tuple of a live connection) must still drop.
bg_in_ns 10 biz sh -c "sleep 6 | socat -T 8 - TCP:$PLC:502,sourceport=40502,connect-timeout=3"
holder=$CG_LAST_PID
wait_until 3 bash -c "[ -n \"\$(ip netns exec ${P}biz ss -Htn state established 'sport = :40502')\" ]"
before=$(cg_status_json)
send_frame plc --dst-mac "$(gw_mac crane0)" --src $PLC --dst $HMI --proto tcp \
	--sport 502 --dport 40502 --tcp-flags S --count 3
after=$(cg_status_json)
expect "a SYN from the PLC along the reverse of a live connection is no-rule, not reply" \
	$(($(cg_reason no-rule "$after") - $(cg_reason no-rule "$before"))) -ge 3
kill "$holder" 2>/dev/null

check_fails "business -> management: ping fails" pings biz $MGT 2
check_fails "business -> management: TCP 22 fails" tcp_connects biz $MGT 22
check "management -> crane-control: TCP 22 (mgmt-ssh) connects" tcp_connects mgt $PLC 22
check "management -> crane-control: TCP 102 (plc-programming, logged) connects" \
	tcp_connects mgt $PLC 102

# Hand-made frames from the business host (its own MAC), to the PLC.
biz_gw=$(gw_mac biz0)
before=$(cg_status_json)
send_frame biz --dst-mac "$biz_gw" --src 198.19.0.99 --dst $PLC --dport 502 \
	--proto tcp --tcp-flags S --count 5
after=$(cg_status_json)
expect "a frame from biz0 with a source in no zone (198.19.0.99) is spoofed-source" \
	$(($(cg_reason spoofed-source "$after") - $(cg_reason spoofed-source "$before"))) -ge 5

# Sources in no zone that share a /16 (IPv6: a /48) with the zones, which
# the gate tells apart by zone_nets' /24 filter or by its class lookups:
# each is spoofed-source, and the PLC's stack sees none of them. tcpdump in
# the PLC's namespace is the receiver's truth; the HMI's own SYN on the
# Modbus flow, sent last, shows that it was capturing.
spoof4="198.18.11.7 198.18.23.1 198.18.99.200 198.18.19.255"
spoof6="2001:2:0:99::5 2001:2:0:21::11 2001:2:1::7"
T_CAP=$CG_TMP/spoof-rx.pcap
bg_in_ns 30 plc tcpdump -Q in -i eth0 -nn -U -w "$T_CAP" "tcp dst port 502"
cap=$CG_LAST_PID
wait_until 5 test -s "$T_CAP" || sleep 1
before=$(cg_status_json)
for s in $spoof4; do
	send_frame biz --dst-mac "$biz_gw" --src "$s" --dst $PLC --proto tcp \
		--sport 4000 --dport 502 --tcp-flags S --count 4
done
for s in $spoof6; do
	send_frame biz --dst-mac "$biz_gw" --src "$s" --dst $PLC6 --proto tcp \
		--sport 4000 --dport 502 --tcp-flags S --count 4
done
after=$(cg_status_json)
send_frame biz --dst-mac "$biz_gw" --src $HMI --dst $PLC --proto tcp \
	--sport 4777 --dport 502 --tcp-flags S --payload "" --count 1
wait_until 5 bash -c "tcpdump -nn -r '$T_CAP' 2>/dev/null | grep -q ' $HMI.4777 >'"
kill -INT "$cap" 2>/dev/null
wait "$cap" 2>/dev/null
expect "sources beside the zones, in their /16 and /48: all 28 spoofed-source" \
	$(($(cg_reason spoofed-source "$after") - $(cg_reason spoofed-source "$before"))) -eq 28
rx=$(tcpdump -nn -r "$T_CAP" 2>/dev/null)
expect "... the PLC's capture holds the HMI's SYN sent after them" \
	"$(grep -c " $HMI.4777 >" <<<"$rx")" -ge 1
expect "... and none of the spoofed ones" \
	"$(grep -v " $HMI.4777 >" <<<"$rx" | grep -c ' > ')" -eq 0
before=$(cg_status_json)
after=$before

before=$after
send_frame biz --dst-mac "$biz_gw" --src 198.18.20.99 --dst $PLC --dport 502 \
	--proto tcp --tcp-flags S --count 5
after=$(cg_status_json)
expect "a frame from biz0 with a crane-control source (198.18.20.99) is multi-homed" \
	$(($(cg_reason multi-homed "$after") - $(cg_reason multi-homed "$before"))) -ge 5

# A station that moves between zones: the HMI's MAC, seen in business, shows
# up on the crane segment with a valid crane-control address.
hmi_mac=$(host_mac biz)
before=$after
send_frame plc --dst-mac "$(gw_mac crane0)" --src-mac "$hmi_mac" \
	--src 198.18.20.77 --dst 198.18.20.1 --dport 9 --count 3
after=$(cg_status_json)
expect "a MAC seen in business that appears on crane0 is multi-homed" \
	$(($(cg_reason multi-homed "$after") - $(cg_reason multi-homed "$before"))) -ge 3

# A host with one leg in each segment: a second interface of the business
# host's namespace leaks frames into the crane segment (a veth to crane0's
# peer namespace would need a bridge; the leaked frames are what matters:
# the same station, addressed for the crane side).
before=$after
send_frame plc --dst-mac "$(gw_mac crane0)" --src-mac "$hmi_mac" \
	--src 198.18.20.78 --dst $HMI --dport 502 --proto tcp --tcp-flags S --count 3
after=$(cg_status_json)
expect "frames leaked by a two-legged host across the boundary are multi-homed" \
	$(($(cg_reason multi-homed "$after") - $(cg_reason multi-homed "$before"))) -ge 3
check "... while the HMI itself, at home, still reaches the PLC" pings biz $PLC 2

# Tagged frames on crane0, from a MAC of their own (the PLC's MAC belongs to
# the untagged zone, and reusing it would be multi-homed).
crane_gw=$(gw_mac crane0)
before=$after
send_frame plc --dst-mac "$crane_gw" --src-mac 02:00:00:00:64:05 --vlan 100 \
	--src 198.18.22.5 --dst 198.18.22.9 --dport 9 --count 5
after=$(cg_status_json)
expect "VLAN 100 on crane0 is crane-drives: 198.18.22.5 -> .9 passes as intra-zone" \
	$(($(cg_reason intra-zone "$after") - $(cg_reason intra-zone "$before"))) -ge 5
expect "... and is no vlan-violation" \
	$(($(cg_reason vlan-violation "$after") - $(cg_reason vlan-violation "$before"))) -eq 0

before=$after
send_frame plc --dst-mac "$crane_gw" --src-mac 02:00:00:00:64:05 --vlan 100 \
	--src 198.18.22.5 --dst $HMI --dport 502 --proto tcp --count 3
after=$(cg_status_json)
expect "crane-drives -> business (no flow) is no-rule" \
	$(($(cg_reason no-rule "$after") - $(cg_reason no-rule "$before"))) -ge 3

# The hoist PLC's implicit I/O to a drive on VLAN 100, and the drive's answer.
if grep -q 'name: hoist-plc-to-drives' "$POLICY"; then
	before=$after
	send_frame plc --dst-mac "$crane_gw" --src $PLC --dst 198.18.22.5 \
		--sport 40222 --dport 2222 --count 3
	send_frame plc --dst-mac "$crane_gw" --src-mac 02:00:00:00:64:05 --vlan 100 \
		--src 198.18.22.5 --dst $PLC --sport 2222 --dport 40222 --count 3
	after=$(cg_status_json)
	expect "PLC -> drive (untagged -> VLAN 100), UDP 2222: allowed by hoist-plc-to-drives" \
		$(($(cg_flow hoist-plc-to-drives "$after") - $(cg_flow hoist-plc-to-drives "$before"))) -ge 3
	expect "... and the drive's tagged answers pass as reply" \
		$(($(cg_reason reply "$after") - $(cg_reason reply "$before"))) -ge 3
else
	skip "PLC -> drive UDP 2222 (hoist-plc-to-drives)" "not in example.yaml"
	skip "the drive's answers pass as reply" "not in example.yaml"
fi

before=$(cg_status_json)
send_frame plc --dst-mac "$crane_gw" --src-mac 02:00:00:01:2c:05 --vlan 300 \
	--src 198.18.20.11 --dst $HMI --count 5
after=$(cg_status_json)
expect "VLAN 300 on crane0 (undeclared) is vlan-violation" \
	$(($(cg_reason vlan-violation "$after") - $(cg_reason vlan-violation "$before"))) -ge 5

before=$after
send_frame plc --dst-mac "$crane_gw" --src-mac 02:00:00:00:64:06 --vlan 100 --vlan 100 \
	--src 198.18.22.5 --dst 198.18.22.9 --count 3
after=$(cg_status_json)
expect "a second (inner) tag is vlan-violation" \
	$(($(cg_reason vlan-violation "$after") - $(cg_reason vlan-violation "$before"))) -ge 3

# Modbus checks inside an established, allowed connection: a request that
# is not Modbus/TCP (protocol id 7) is ics-denied wherever the flow checks
# Modbus at all; a write (FC 6) is ics-denied under read-only.
modbus_mode=$(sed -n 's/^[[:space:]]*modbus:[[:space:]]*\([a-z-]*\).*/\1/p' "$POLICY" | head -1)
if [ -n "$modbus_mode" ]; then
	before=$(cg_status_json)
	out=$(modbus_exchange biz $PLC 000200070006010300000001)
	after=$(cg_status_json)
	expect "Modbus read (FC 3) passes on scada-polls-plcs" "$(head -1 <<<"$out")" = "read echoed"
	expect "a request with a bad MBAP protocol id in the same connection is dropped" \
		"$(tail -1 <<<"$out")" = dropped
	expect "... as ics-denied" \
		$(($(cg_reason ics-denied "$after") - $(cg_reason ics-denied "$before"))) -ge 1
else
	skip "bad Modbus framing is ics-denied" "example.yaml does not check Modbus"
fi
if [ "$modbus_mode" = read-only ]; then
	before=$(cg_status_json)
	out=$(modbus_exchange biz $PLC "$(modbus_hex 2 6 00010001)")
	after=$(cg_status_json)
	expect "Modbus write (FC 6) under read-only is dropped" "$(tail -1 <<<"$out")" = dropped
	expect "... as ics-denied" \
		$(($(cg_reason ics-denied "$after") - $(cg_reason ics-denied "$before"))) -ge 1
else
	skip "Modbus write (FC 6) is ics-denied under read-only" \
		"example.yaml has modbus: ${modbus_mode:-none}"
fi

# ---- the event stream
sleep 1
kill -INT "$EVENTS_PID" 2>/dev/null
wait "$EVENTS_PID" 2>/dev/null
nev=$(jq -R 'fromjson? | objects' "$EVENTS" 2>/dev/null | jq -s length)
expect "events --json streamed events" "${nev:-0}" -ge 1 ||
	diag "stderr: $(head -c 1000 "$EVENTS.err")" "stdout: $(head -c 1000 "$EVENTS")"

ev=$(jq -R -c --arg src $HMI --arg dst $MGT \
	'fromjson? | select(.reason == "no-rule" and .src == $src and .dst == $dst)' \
	"$EVENTS" 2>/dev/null | head -1)
if [ -n "$ev" ]; then
	ok "a no-rule drop event for business -> management"
	missing=$(jq -r '[("time","iface","verdict","reason","rule","src","dst","proto","sport","dport") as $k
		| select(has($k) | not) | $k] | join(" ")' <<<"$ev")
	expect "the event carries time iface verdict reason rule src dst proto sport dport" \
		"${missing:-none}" = none || diag "event: $ev"
	expect "the event says iface biz0" "$(jq -r .iface <<<"$ev")" = biz0
	expect "the event says verdict drop" "$(jq -r .verdict <<<"$ev")" = drop
else
	not_ok "a no-rule drop event for business -> management" \
		"events: $(head -c 1500 "$EVENTS")"
	skip "the event carries the contract's fields" "no event"
	skip "the event says iface biz0" "no event"
	skip "the event says verdict drop" "no event"
fi
ev=$(jq -R -c 'fromjson? | select(.reason == "spoofed-source" and .src == "198.19.0.99")' \
	"$EVENTS" 2>/dev/null | head -1)
expect "a spoofed-source event names 198.19.0.99" "${ev:+found}" = found
ev=$(jq -R -c 'fromjson? | select(.reason == "vlan-violation" and .iface == "crane0")' \
	"$EVENTS" 2>/dev/null | head -1)
expect "a vlan-violation event on crane0" "${ev:+found}" = found
ev=$(jq -R -c 'fromjson? | select(.reason == "allowed" and .rule == "plc-programming")' \
	"$EVENTS" 2>/dev/null | head -1)
expect "log: true on plc-programming logs the allowed connection" "${ev:+found}" = found

# ---- every reason of the contract is reported
status=$(cg_status_json)
missing=
for r in allowed reply intra-zone monitor arp nd no-rule unknown-zone spoofed-source \
	multi-homed vlan-violation ics-denied fragment malformed ethertype stream; do
	jq -e --arg r "$r" '.reasons | has($r)' <<<"$status" >/dev/null 2>&1 || missing+=" $r"
done
expect "status --json reports every verdict reason" "${missing:- none}" = " none"

# ---- detach
check "detach" cg detach
for dev in biz0 crane0 cctv0 mgmt0; do
	check_fails "no XDP program left on $dev" xdp_attached "$dev"
done
left=$(pins_left)
expect "no pins left under the pin root" "${left:-none}" = none
check "without the gate, the PLC connects to the HMI again" tcp_connects plc $HMI 8502

tap_done
