#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: ND kept on its link (issue 12, 2), and a shared IP id that
# tried to carry a Modbus write through `read-only` (issue 19, 1).
#
#  - From the business namespace, ICMPv6 NS/NA/redirect (hop limit 255,
#    800 bytes of body) to the PLC's global address, from the HMI's
#    address and from an address in no zone: nothing of them arrives in
#    the crane namespace (an AF_PACKET socket there looks for their body),
#    and the gate counts and logs them as no-rule / spoofed-source.
#    Ordinary ND still works: ping6 from the management host to the PLC
#    across the gate, with the neighbour entries resolved afresh.
#  - A complete two-fragment datagram from the HMI to the PLC's port 80
#    with IP id X; then, on an established Modbus connection (a read
#    answered), a segment fragmented with the same id whose first fragment
#    holds the TCP header and a read and whose second holds an FC 6 write.
#    The PLC's register stays unchanged and its server never sees FC 6.
# TAP output.

. "$(dirname "$0")/lib.sh"

SERVER=$CG_TOP/build/tests/tools/modbus-server
for tool in "$SERVER"; do
	[ -x "$tool" ] || tap_skip_all "$tool is not built (run make)"
done

sandbox_up
cp "$SERVER" "$CG_TOP/tests/tools/ndfrag.py" "$CG_TMP/" || {
	echo "Bail out! cannot copy the tools"
	exit 1
}
SERVER=$CG_TMP/modbus-server
TOOL=$CG_TMP/ndfrag.py
STATE=$CG_TMP/plc-registers
SERVER_LOG=$CG_TMP/plc-server.log
EVENTS=$CG_TMP/events.jsonl
POLICY=$CG_TMP/nd.yaml
MARKER=CGNDLEAK
NOZONE6=2001:2:0:99::5

{
	echo "version: 1"
	echo "name: e2e-nd"
	topo_zones
	cat <<EOF
flows:
  - {name: hmi-web, from: $HMI/32, to: crane-control, proto: tcp, ports: [80]}
  - {name: hmi-reads-plcs, from: $HMI/32, to: crane-control, proto: tcp, ports: [502], modbus: read-only}
  - {name: mgmt-ping6, from: crane-mgmt, to: crane-control, proto: icmpv6}
EOF
} >"$POLICY"

tool() {
	local ns=$1
	shift
	in_ns "$ns" timeout 20 "$PYTHON" "$TOOL" "$@"
}

reg() {
	sed -n "s/^hr\[$1\]=//p" "$STATE" 2>/dev/null
}

timeout -k 5 200 ip netns exec "${P}plc" "$SERVER" --port 502 --state "$STATE" \
	--seconds 180 >"$SERVER_LOG" 2>&1 </dev/null &
CG_PIDS+=($!)
if ! wait_until 5 _listening plc 502; then
	echo "Bail out! the Modbus server did not start: $(head -c 500 "$SERVER_LOG")"
	exit 1
fi

if ! check "apply the policy" cg apply "$POLICY"; then
	echo "Bail out! cannot apply the policy"
	exit 1
fi
cg_bg 100 "$EVENTS" events --json
EVENTS_PID=$CG_LAST_PID
sleep 0.5

# ---- ND across zones never arrives
GWMAC=$(gw_mac biz0)
before=$(cg_status_json)
in_ns plc timeout 20 "$PYTHON" "$TOOL" sniff eth0 5 "$MARKER" >"$CG_TMP/sniff" 2>&1 &
SNIFF_PID=$!
CG_PIDS+=($SNIFF_PID)
sleep 0.5
sent_ok=1
for t in 135 136 137; do
	tool biz nd eth0 "$GWMAC" "$HMI6" "$PLC6" $t 800 "$MARKER" || sent_ok=0
	tool biz nd eth0 "$GWMAC" "$NOZONE6" "$PLC6" $t 800 "$MARKER" || sent_ok=0
done
expect "sent ND 135/136/137 to the PLC's global address (HMI, no zone)" "$sent_ok" = 1
wait "$SNIFF_PID"
got=$(head -n1 "$CG_TMP/sniff")
expect "none of them arrives in the crane namespace" "$got" = 0
after=$(cg_status_json)
expect "the HMI's three count as no-rule" \
	$(($(cg_reason no-rule "$after") - $(cg_reason no-rule "$before"))) -ge 3
expect "the no-zone address's three count as spoofed-source" \
	$(($(cg_reason spoofed-source "$after") - $(cg_reason spoofed-source "$before"))) -ge 3

# Control: the same ND body, sent on the crane link itself, is seen by the
# sniffer (it would have caught a leak).
in_ns plc timeout 20 "$PYTHON" "$TOOL" sniff eth0 2 "$MARKER" >"$CG_TMP/sniff2" 2>&1 &
SNIFF_PID=$!
CG_PIDS+=($SNIFF_PID)
sleep 0.5
in_ns gw timeout 10 "$PYTHON" "$TOOL" nd crane0 "$(host_mac plc)" "$GW_CRANE6" "$PLC6" 136 800 "$MARKER"
wait "$SNIFF_PID"
expect "control: the sniffer sees such a frame on the crane link" "$(head -n1 "$CG_TMP/sniff2")" -ge 1

# ---- ordinary ND still works across the gate
ip -n "${P}gw" -6 neigh flush dev crane0 2>/dev/null
ip -n "${P}gw" -6 neigh flush dev mgmt0 2>/dev/null
ip -n "${P}plc" -6 neigh flush dev eth0 2>/dev/null
ip -n "${P}mgt" -6 neigh flush dev eth0 2>/dev/null
check "ping6 from the management host to the PLC across the gate" \
	in_ns mgt ping -6 -c 2 -W 2 -i 0.3 "$PLC6"
neigh=$(ip -n "${P}gw" -6 neigh show dev crane0 "$PLC6" 2>/dev/null)
expect "the gateway resolved the PLC's neighbour entry" \
	"$(grep -c 'lladdr' <<<"$neigh")" = 1

# ---- a shared IP id does not carry a write through read-only
reg1=$(reg 1)
base=$(wc -l <"$SERVER_LOG")
before=$(cg_status_json)
out=$(tool biz fragwrite eth0 "$GWMAC" "$HMI" "$PLC" 4242 1 57005 2>&1)
if grep -q '^sent the fragmented' <<<"$out"; then
	ok "the attack ran (a read answered, the fragments sent)"
else
	not_ok "the attack ran (a read answered, the fragments sent)" "$out"
fi
sleep 0.5
expect "the register is unchanged" "$(reg 1)" = "$reg1"
if tail -n "+$((base + 1))" "$SERVER_LOG" | grep -q '^request fc 6 '; then
	not_ok "the PLC's server never received FC 6" "$out"
else
	ok "the PLC's server never received FC 6"
fi
after=$(cg_status_json)
expect "both fragments of the Modbus segment count as fragment" \
	$(($(cg_reason fragment "$after") - $(cg_reason fragment "$before"))) -ge 2

sleep 0.5
kill -INT "$EVENTS_PID" 2>/dev/null
wait "$EVENTS_PID" 2>/dev/null
n=$(jq -R -c --arg s "$NOZONE6" 'fromjson? | select(.reason == "spoofed-source" and .src == $s)' \
	"$EVENTS" 2>/dev/null | grep -c .)
expect "events: spoofed-source for the ND from an address in no zone" "$n" -ge 1
n=$(jq -R -c --arg s "$HMI6" 'fromjson? | select(.reason == "no-rule" and .src == $s and .proto == "icmpv6")' \
	"$EVENTS" 2>/dev/null | grep -c .)
expect "events: no-rule for the HMI's ND" "$n" -ge 1
n=$(jq -R -c --arg s "$HMI" 'fromjson? | select(.reason == "fragment" and .src == $s)' \
	"$EVENTS" 2>/dev/null | grep -c .)
expect "events: fragment for the Modbus segment's fragments" "$n" -ge 1

tap_done
