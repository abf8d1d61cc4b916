#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: `enip: read-only` (EtherNet/IP and CIP, TCP 44818).
#
# 1. The Stop request of ../shared/captures/cip_stop_plc.pcap (a Logix
#    controller stopped over SendUnitData): replayed as captured, its one
#    frame is a stream picked up mid-way, which an inspected flow never
#    passes; carried in a conversation of its own (tests/tools/enip.py
#    pcap) after a RegisterSession and a Read Tag, and followed by a Write
#    Tag and another read, `replay` gives each client frame the verdict
#    tshark's dissection implies (enip.command, cip.sc): reads pass, the
#    Stop and the Write Tag are ics-denied, and each names its service.
# 2. `learn` on that conversation proposes `enip: any`, on its reads alone
#    `enip: read-only`.
# 3. Real TCP through the gate: a small CIP responder (tests/tools/enip.py
#    server) on the PLC, a client on the HMI. Identity, Read Tag,
#    Get_Attribute_Single, a Multiple_Service_Packet of reads and an
#    Unconnected_Send of a read are answered; Write Tag, Stop,
#    Set_Attribute_Single, a Write Tag inside a Multiple_Service_Packet and
#    inside an Unconnected_Send get no answer, the responder's log shows it
#    never received them, and its tags and mode are unchanged.
# 4. `enip: allow:` rules (read, and Write Tag): writes are answered, a
#    Stop still gets no answer.
# TAP output.

. "$(dirname "$0")/lib.sh"

TOOL=$CG_TOP/tests/tools/enip.py
CAPTURES=${CG_CAPTURES:-$CG_TOP/../shared/captures}
CAP=$CAPTURES/cip_stop_plc.pcap
[ -r "$CAP" ] || tap_skip_all "$CAP is missing (set CG_CAPTURES)"
require_env tshark
sandbox_up
T=$CG_TMP

policy_text() { # EXTRA-NETWORKS-BIZ EXTRA-NETWORKS-CRANE
	cat <<EOF
version: 1
name: e2e-enip
zones:
  business:
    interfaces: [biz0]
    networks: [198.18.10.0/24$1]
  crane-control:
    interfaces: [crane0]
    networks: [198.18.20.0/24$2]
hosts:
  scada-hmi: $HMI
flows:
  - name: hmi-reads-plcs
    from: scada-hmi
    to: crane-control
    proto: tcp
    ports: [44818]
    enip: read-only
EOF
}
policy_text "" "" >"$T/enip.yaml"
# The capture's own addresses: the HMI 192.168.1.69, the PLC 192.168.1.30.
policy_text ", 192.168.1.64/28" ", 192.168.1.16/28" |
	sed 's/from: scada-hmi/from: business/' >"$T/capture.yaml"

# ---- 1. replay ---------------------------------------------------------

check "check accepts enip: read-only" "$CG_BIN" check "$T/enip.yaml"
out=$("$CG_BIN" replay --policy "$T/capture.yaml" --by-source --json "$CAP" 2>/dev/null)
expect "the capture as captured: its Stop frame drops (stream picked up mid-way)" \
	"$(jq -r '"\(.verdict) \(.reason)"' <<<"$out")" = "drop stream"

"$PYTHON" "$TOOL" pcap "$T/conv.pcap" "$CAP"
"$PYTHON" "$TOOL" pcap "$T/reads.pcap" "$CAP" --reads-only
"$CG_BIN" replay --policy "$T/enip.yaml" --by-source --json "$T/conv.pcap" \
	>"$T/conv.json" 2>/dev/null
expect "replay of the conversation: 10 frames" "$(jq -s length "$T/conv.json")" -eq 10
# tshark: frame, destination port, command, first CIP service. Sequence
# analysis off: the requests after a refused one reuse its sequence.
tshark -n -o tcp.analyze_sequence_numbers:FALSE -r "$T/conv.pcap" \
	-d tcp.port==44818,enip -T fields -E occurrence=f -e frame.number \
	-e tcp.dstport -e enip.command -e cip.sc 2>/dev/null >"$T/conv.tshark"
n_req=0
while read -r fr dport cmd sc; do
	[ "$dport" = 44818 ] && [ -n "$cmd" ] || continue
	n_req=$((n_req + 1))
	case "$cmd:$sc" in
	0x0065: | 0x006f:0x4c) want="pass allowed" ;;
	*:0x07 | *:0x4d) want="drop ics-denied" ;;
	*) want="unexpected $cmd $sc" ;;
	esac
	got=$(jq -r --argjson f "$fr" 'select(.frame == $f) | "\(.verdict) \(.reason)"' "$T/conv.json")
	expect "frame $fr (command $cmd, service ${sc:-none}): $want" "$got" = "$want"
	if [ -n "$sc" ]; then
		got=$(jq -r --argjson f "$fr" 'select(.frame == $f) | "\(.ics) \(.function)"' "$T/conv.json")
		expect "... the verdict names enip service $sc" "$got" = "enip $((sc))"
	fi
done <"$T/conv.tshark"
expect "tshark read 5 requests from the client" "$n_req" -eq 5
expect "the capture's Stop is frame 8, refused as service 7" \
	"$(jq -r 'select(.frame == 8) | "\(.reason) \(.function)"' "$T/conv.json")" = "ics-denied 7"

# ---- 2. learn ----------------------------------------------------------

sed '/^flows:/,$d' "$T/enip.yaml" >"$T/zones.yaml"
"$CG_BIN" learn "$T/zones.yaml" --pcap "$T/conv.pcap" --by-source >"$T/learned.yaml" 2>/dev/null
check "learn: a conversation with a Stop and a Write Tag gives enip: any" \
	grep -q "enip: any" "$T/learned.yaml"
"$CG_BIN" learn "$T/zones.yaml" --pcap "$T/reads.pcap" --by-source >"$T/learned-ro.yaml" 2>/dev/null
check "learn: reads alone give enip: read-only" grep -q "enip: read-only" "$T/learned-ro.yaml"
check "the learned policy passes check" "$CG_BIN" check "$T/learned-ro.yaml"

# ---- 3. real TCP through the gate ----------------------------------------

LOG=$T/plc-requests.log
STATE=$T/plc-state
: >"$LOG"
bg_in_ns 150 plc "$PYTHON" "$TOOL" server 44818 "$LOG" "$STATE"
if ! wait_until 5 _listening plc 44818; then
	echo "Bail out! the EtherNet/IP responder did not start"
	exit 1
fi

en() {
	in_ns biz timeout 10 "$PYTHON" "$TOOL" client "$PLC" 44818 "$@"
}
state() {
	sed -n "s/^$1=//p" "$STATE"
}
# log_since N PATTERN: a request line after the first N lines of the log.
log_since() {
	tail -n "+$(($1 + 1))" "$LOG" | grep -q "$2"
}

# Without the gate a write is answered: the failures below are the gate's.
check "no gate: Write Tag Trolley_Pos=300 answered" en write Trolley_Pos 300
expect "no gate: the responder ran it" "$(state Trolley_Pos)" = 300

if ! check "apply the policy" cg apply "$T/enip.yaml"; then
	echo "Bail out! cannot apply the policy"
	exit 1
fi
before=$(cg_status_json)
base=$(wc -l <"$LOG")

check "ListIdentity answered" en identity
expect "Read Tag Hoist_Setpoint answered: 10" "$(en read Hoist_Setpoint)" = 10
check "Get_Attribute_Single answered" en get-attr
check "Multiple_Service_Packet of two Read Tags answered" \
	en msp-read Hoist_Setpoint Trolley_Pos
expect "Unconnected_Send of Read Tag answered: 300" "$(en us-read Trolley_Pos)" = 300

check_fails "Write Tag Hoist_Setpoint=99 gets no answer" en write Hoist_Setpoint 99
check_fails "Stop gets no answer" en stop
check_fails "Set_Attribute_Single gets no answer" en set-attr
check_fails "a Write Tag inside a Multiple_Service_Packet gets no answer" \
	en msp-write Hoist_Setpoint 98
check_fails "a Write Tag inside an Unconnected_Send gets no answer" \
	en us-write Hoist_Setpoint 97
sleep 0.3
check "the responder received the reads" log_since "$base" "^request 0x4c Hoist_Setpoint"
check_fails "the responder never received a Write Tag" log_since "$base" "^request 0x4d"
check_fails "the responder never received a Stop" log_since "$base" "^request 0x07"
check_fails "the responder never received a Set_Attribute_Single" log_since "$base" "^request 0x10"
expect "Hoist_Setpoint is still 10" "$(state Hoist_Setpoint)" = 10
expect "the controller still runs" "$(state mode)" = run
expect "Read Tag after the refusals: still 10" "$(en read Hoist_Setpoint)" = 10

after=$(cg_status_json)
denied=$(($(cg_reason ics-denied "$after") - $(cg_reason ics-denied "$before")))
expect "status --json counts the refused requests as ics-denied" "$denied" -ge 5
check "status --json names the enip services" \
	jq -e '[.. | objects | select(.protocol? == "enip")] | length > 0' <<<"$after"

# ---- 4. allow: rules -----------------------------------------------------

# The HMI may now write tags (0x4D, on any object) and read; control
# stays refused.
sed 's/^    enip: read-only$/    enip:\n      allow:\n        - services: [read]\n        - services: [0x4D]/' \
	"$T/enip.yaml" >"$T/rules.yaml"
check "check accepts enip: allow: rules" "$CG_BIN" check "$T/rules.yaml"
check "apply the rules" cg apply "$T/rules.yaml"
base=$(wc -l <"$LOG")
check "rules: Write Tag Hoist_Setpoint=55 answered" en write Hoist_Setpoint 55
expect "rules: the responder ran it" "$(state Hoist_Setpoint)" = 55
check "rules: a Write Tag inside an Unconnected_Send answered" \
	en us-write Trolley_Pos 260
expect "rules: ... and ran" "$(state Trolley_Pos)" = 260
check_fails "rules: Stop gets no answer" en stop
check_fails "rules: Set_Attribute_Single gets no answer" en set-attr
sleep 0.3
check_fails "rules: the responder never received a Stop" log_since "$base" "^request 0x07"
expect "rules: the controller still runs" "$(state mode)" = run

tap_done
