#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: a host bound to its MAC (`hosts: plc: {address, mac}`) cannot
# be claimed from another MAC on its link, by ARP of either hardware type
# Linux takes on Ethernet (issue 19, 2) or by an unsolicited neighbour
# advertisement (issue 19, 3). The judge is the gateway's own neighbour
# table: after the spoofed frames it still names the PLC's real MAC.
#
#  - Without the gate (not yet applied), the same frames do move the
#    gateway's entries to the fake MAC: the attack is real.
#  - With the gate: an ARP request of hardware type 1 and one of type 6
#    from a fake MAC claiming the PLC's address, and an NA (override, hop
#    limit 255) for the PLC's IPv6 address with the fake MAC as its target
#    link-layer address, all drop as spoofed-source; the entries stay.
# TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up
cp "$CG_TOP/tests/tools/spoof.py" "$CG_TMP/" || {
	echo "Bail out! cannot copy the tool"
	exit 1
}
TOOL=$CG_TMP/spoof.py
POLICY=$CG_TMP/bindings.yaml
FAKE=02:66:66:66:66:66
PLCMAC=$(host_mac plc)
GWMAC=$(gw_mac crane0)

{
	echo "version: 1"
	echo "name: e2e-bindings"
	topo_zones
	cat <<EOF
hosts:
  plc: {address: $PLC, mac: "$PLCMAC"}
  plc6: {address: "$PLC6", mac: "$PLCMAC"}
flows:
  - {name: mgmt-ping, from: crane-mgmt, to: crane-control, proto: icmp}
  - {name: mgmt-ping6, from: crane-mgmt, to: crane-control, proto: icmpv6}
EOF
} >"$POLICY"

spoof() {
	in_ns plc timeout 10 "$PYTHON" "$TOOL" "$@"
}

# The gateway's neighbour entry for ADDRESS on crane0: its MAC, or "none".
neigh_mac() {
	local m
	m=$(ip -n "${P}gw" -j neigh show dev crane0 "$1" 2>/dev/null |
		jq -r '.[0].lladdr // empty' 2>/dev/null)
	echo "${m:-none}"
}

# Resolve the PLC's entries afresh (a ping each way from the gateway).
resolve() {
	ip -n "${P}gw" neigh flush dev crane0 2>/dev/null
	in_ns gw ping -c 1 -W 2 "$PLC" >/dev/null 2>&1
	in_ns gw ping -6 -c 1 -W 2 "$PLC6" >/dev/null 2>&1
}

# ---- without the gate: the frames do rewrite the gateway's entries
resolve
expect "no gate: the gateway knows the PLC's MAC (IPv4)" "$(neigh_mac "$PLC")" = "$PLCMAC"
expect "no gate: the gateway knows the PLC's MAC (IPv6)" "$(neigh_mac "$PLC6")" = "$PLCMAC"
spoof arp eth0 "$FAKE" 6 "$PLC" "$GW_CRANE"
sleep 0.3
expect "no gate: an ARP of hardware type 6 moves the PLC's entry" "$(neigh_mac "$PLC")" = "$FAKE"
spoof na eth0 "$FAKE" "$GWMAC" "$PLC6" "$GW_CRANE6" "$PLC6"
sleep 0.3
expect "no gate: an unsolicited NA moves the PLC's IPv6 entry" "$(neigh_mac "$PLC6")" = "$FAKE"

# ---- with the gate
if ! check "apply the policy with the PLC bound to its MAC" cg apply "$POLICY"; then
	echo "Bail out! cannot apply the policy"
	exit 1
fi
resolve
expect "the gateway knows the PLC's MAC (IPv4)" "$(neigh_mac "$PLC")" = "$PLCMAC"
expect "the gateway knows the PLC's MAC (IPv6)" "$(neigh_mac "$PLC6")" = "$PLCMAC"
before=$(cg_status_json)
spoof arp eth0 "$FAKE" 1 "$PLC" "$GW_CRANE"
spoof arp eth0 "$FAKE" 6 "$PLC" "$GW_CRANE"
spoof na eth0 "$FAKE" "$GWMAC" "$PLC6" "$GW_CRANE6" "$PLC6"
sleep 0.3
after=$(cg_status_json)
expect "ARP (types 1 and 6) from a fake MAC leaves the IPv4 entry" \
	"$(neigh_mac "$PLC")" = "$PLCMAC"
expect "an NA from a fake MAC leaves the IPv6 entry" "$(neigh_mac "$PLC6")" = "$PLCMAC"
expect "all three drop as spoofed-source" \
	$(($(cg_reason spoofed-source "$after") - $(cg_reason spoofed-source "$before"))) -ge 3
check "the PLC still answers a ping from the management host" \
	in_ns mgt ping -c 2 -W 2 -i 0.3 "$PLC"
check "... and a ping6" in_ns mgt ping -6 -c 2 -W 2 -i 0.3 "$PLC6"

tap_done
