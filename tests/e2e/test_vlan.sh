#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: VLAN tags that never reach the frame XDP sees (issue 12,
# item 3). The PLC host's eth0 sends with tx VLAN offload on and a tc
# egress program (vlan_push.bpf.c) that tags by source address with
# bpf_skb_vlan_push: the tag travels in skb metadata over the veth, as
# behind a NIC with rx VLAN offload. crane0's zones take untagged frames
# and VLAN 100 only. Checked by the gate's counters and events:
#
#   a frame tagged 300 is dropped as vlan-violation (not passed as
#   untagged), and its event says VLAN 300;
#   VLAN-100 traffic is judged in crane-drives (an allowed flow, not
#   multi-homed in the untagged zone);
#   status says, per interface, that tags are read from metadata;
#   a second apply keeps the fronts and the judgement;
#   without the metadata path, a veth is refused with an error naming it;
#   the ethtool path turns rx VLAN offload off and detach turns it back on
#   (only where the gate turned it off).
#
# Bounded: about 30 s. TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up tc
T=$CG_TMP
PUSH=$CG_TOP/build/tests/e2e/vlan_push.bpf.o
[ -f "$PUSH" ] || {
	echo "Bail out! $PUSH is not built (run make)"
	exit 1
}

# The sender: tx VLAN offload on, and the tagging program on egress.
in_ns plc ethtool -K eth0 txvlan on tx-vlan-stag-hw-insert on >/dev/null 2>&1
in_ns plc tc qdisc add dev eth0 clsact &&
	in_ns plc tc filter add dev eth0 egress bpf da obj "$PUSH" sec tc
expect "the sender keeps VLAN tags in skb metadata (tx-vlan-offload on)" \
	"$(in_ns plc ethtool -k eth0 | awk '/^tx-vlan-offload:/ {print $2}')" = on

{
	echo "version: 1"
	echo "name: vlan-offload"
	topo_zones
	cat <<'EOF'
flows:
  - name: drives-report
    from: crane-drives
    to: 198.18.10.5
    proto: udp
    ports: [7000]
    log: true
EOF
} >"$T/p.yaml"
sed 's/^name: vlan-offload/name: vlan-offload-2/' "$T/p.yaml" >"$T/p2.yaml"

MAC=$(gw_mac crane0)
# send SRC COUNT: UDP to the HMI's port 7000 from the PLC host.
send() {
	send_frame plc --dst-mac "$MAC" --src "$1" --dst 198.18.10.5 \
		--proto udp --sport 41000 --dport 7000 --count "$2" >/dev/null 2>&1
}

check "apply" cg apply "$T/p.yaml"
st=$(cg_status_json)
expect "status --json: every interface reads VLAN tags from metadata" \
	"$(jq -r '[.attached[] | "\(.iface)=\(.vlan_tags)"] | sort | join(" ")' <<<"$st")" = \
	"biz0=metadata cctv0=metadata crane0=metadata mgmt0=metadata"
expect "status says how crane0 sees VLAN tags" \
	"$(cg status | grep -c 'crane0 (native, VLAN tags: metadata)')" -eq 1

EVENTS=$T/events.json
cg_bg 60 "$EVENTS" events --json
sleep 0.5

vv0=$(cg_reason vlan-violation)
mh0=$(cg_reason multi-homed)
fl0=$(cg_flow drives-report)

send 198.18.24.5 5
vv1=$(cg_reason vlan-violation)
expect "a frame tagged 300 (tag in metadata) is dropped as vlan-violation" \
	"$((vv1 - vv0))" -eq 5

send 198.18.22.5 5
st=$(cg_status_json)
expect "VLAN-100 traffic (tag in metadata) passes by the crane-drives flow" \
	"$(($(cg_flow drives-report "$st") - fl0))" -eq 5
expect "... and is not judged in the untagged zone (no multi-homed)" \
	"$(cg_reason multi-homed "$st")" -eq "$mh0"

sleep 0.5
expect "the vlan-violation event says crane0, VLAN 300" \
	"$(jq -c 'select(.reason == "vlan-violation") | [.iface, .vlan]' "$EVENTS" 2>/dev/null | sort -u)" = '["crane0",300]'
expect "the logged connection says VLAN 100, from crane-drives" \
	"$(jq -c 'select(.rule == "drives-report") | [.vlan, .zone_from]' "$EVENTS" 2>/dev/null | sort -u)" = '[100,"crane-drives"]'

# A policy change switches `live`; the fronts stay and hand over.
ids_before=$(for d in biz0 cctv0 crane0 mgmt0; do xdp_prog_ids "$d"; done | tr '\n' ' ')
check "a second apply" cg apply "$T/p2.yaml"
ids_after=$(for d in biz0 cctv0 crane0 mgmt0; do xdp_prog_ids "$d"; done | tr '\n' ' ')
expect "the fronts stay attached across a policy change" "$ids_after" = "$ids_before"
expect "the new policy is the one enforcing" "$(cg_policy_field name)" = vlan-offload-2
vv0=$(cg_reason vlan-violation)
send 198.18.24.5 3
expect "after the change, a frame tagged 300 is still vlan-violation" \
	"$(($(cg_reason vlan-violation) - vv0))" -eq 3

check "detach" cg detach
left=$(for d in biz0 cctv0 crane0 mgmt0; do xdp_prog_ids "$d"; done | tr '\n' ' ')
expect "no XDP program left after detach" "$left" = ""

# Where the driver does not report tags: a veth is refused, by name.
out=$(CRANEGATE_TEST_RX_VLAN=no-metadata cg apply "$T/p.yaml" 2>&1)
rc=$?
expect "without the metadata path, apply refuses a veth" "$rc" -ne 0
expect "... with an error naming the interface and the fix" \
	"$(grep -c 'biz0 is a veth.*Refusing to attach to biz0. Fix:' <<<"$out")" -eq 1
left=$(for d in biz0 cctv0 crane0 mgmt0; do xdp_prog_ids "$d"; done | tr '\n' ' ')
expect "... and attaches nothing" "$left" = ""

# The ethtool path (forced on veth: see rxvlan.c): crane0 with rx VLAN
# offload on is turned off, biz0 (already off) is left alone, and detach
# turns back on only what the gate turned off.
in_ns gw ethtool -K crane0 rxvlan on rx-vlan-stag-hw-parse on >/dev/null 2>&1
for d in biz0 cctv0 mgmt0; do
	in_ns gw ethtool -K "$d" rxvlan off rx-vlan-stag-hw-parse off >/dev/null 2>&1
done
rxvlan() { in_ns gw ethtool -k "$1" | awk -v f="$2:" '$1 == f {print $2}'; }
check "apply with the ethtool path" env CRANEGATE_TEST_RX_VLAN=offload \
	nsenter --net="/var/run/netns/${P}gw" "$CG_BIN" apply "$T/p.yaml" \
	--pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR"
expect "crane0's rx VLAN offload is off" "$(rxvlan crane0 rx-vlan-offload)" = off
expect "crane0's rx S-tag offload is off" "$(rxvlan crane0 rx-vlan-stag-hw-parse)" = off
st=$(cg_status_json)
expect "status --json: crane0 sees tags in the frame, offload off by the gate" \
	"$(jq -c '.attached[] | select(.iface == "crane0") | [.vlan_tags, .rx_vlan_offload_off_by_gate]' <<<"$st")" = '["frame",true]'
expect "status --json: biz0 sees tags in the frame, as it was" \
	"$(jq -c '.attached[] | select(.iface == "biz0") | [.vlan_tags, .rx_vlan_offload_off_by_gate]' <<<"$st")" = '["frame",false]'
expect "the change is recorded in the state directory" \
	"$(sort "$CG_STATE_DIR/rx-vlan-offload" 2>/dev/null | tr '\n' ' ')" = \
	"crane0 rx-vlan-hw-parse crane0 rx-vlan-stag-hw-parse "
# Someone turns it back on behind the gate's back: status must say so.
in_ns gw ethtool -K crane0 rxvlan on >/dev/null 2>&1
expect "status says blind when the offload comes back on" \
	"$(cg_status_json | jq -r '.attached[] | select(.iface == "crane0") | .vlan_tags')" = blind
in_ns gw ethtool -K crane0 rxvlan off >/dev/null 2>&1
check "detach" cg detach
expect "detach turns crane0's rx VLAN offload back on" "$(rxvlan crane0 rx-vlan-offload)" = on
expect "... and its S-tag offload" "$(rxvlan crane0 rx-vlan-stag-hw-parse)" = on
expect "... and leaves biz0's as it found it (off)" "$(rxvlan biz0 rx-vlan-offload)" = off
expect "... and forgets the record" "$([ -e "$CG_STATE_DIR/rx-vlan-offload" ] && echo kept || echo gone)" = gone

tap_done
