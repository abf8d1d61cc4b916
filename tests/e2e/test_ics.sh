#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: Modbus/TCP function enforcement with a real Modbus stack
# (Debian's libmodbus). A server in the PLC namespace serves a register map
# and writes it to a file after every request; a client in the HMI namespace
# reads and writes through the gate. Under `modbus: read-only` the HMI's
# reads are answered and its writes (FC 6, FC 16) never reach the server:
# the registers stay as they were, the server logs no write request, and
# `status --json` counts ics-denied. The management zone's `modbus: any`
# flow writes, and the registers change. TAP output.

. "$(dirname "$0")/lib.sh"

SERVER=$CG_TOP/build/tests/tools/modbus-server
CLIENT=$CG_TOP/build/tests/tools/modbus-client
for tool in "$SERVER" "$CLIENT"; do
	[ -x "$tool" ] || tap_skip_all "$tool is not built (run make)"
done

# The policy: the HMI may only read; the management zone may do anything.
policy_text() {
	cat <<EOF
version: 1
name: e2e-ics
zones:
  business:
    interfaces: [biz0]
    networks: [198.18.10.0/24]
  crane-control:
    interfaces: [crane0]
    networks: [198.18.20.0/24]
  crane-mgmt:
    interfaces: [mgmt0]
    networks: [198.18.30.0/24]
hosts:
  scada-hmi: $HMI
flows:
  - name: hmi-reads-plcs
    from: scada-hmi
    to: crane-control
    proto: tcp
    ports: [502]
    modbus: read-only
  - name: mgmt-programs-plcs
    from: crane-mgmt
    to: crane-control
    proto: tcp
    ports: [502]
    modbus: any
EOF
}

sandbox_up
POLICY=$CG_TMP/ics.yaml
policy_text >"$POLICY"
# Copies, like the CLI's: a rebuild during the run cannot pull them away.
cp "$SERVER" "$CLIENT" "$CG_TMP/" || {
	echo "Bail out! cannot copy the Modbus tools"
	exit 1
}
SERVER=$CG_TMP/modbus-server
CLIENT=$CG_TMP/modbus-client
STATE=$CG_TMP/plc-registers
SERVER_LOG=$CG_TMP/plc-server.log
EVENTS=$CG_TMP/events.jsonl

# mb NS OP ARGS...: one request from a namespace to the PLC, bounded.
mb() {
	local ns=$1
	shift
	in_ns "$ns" timeout 10 "$CLIENT" --timeout 2 "$PLC" 502 "$@"
}

# reg I: holding register I as the server last wrote it.
reg() {
	sed -n "s/^hr\[$1\]=//p" "$STATE" 2>/dev/null
}

# reg_is I VALUE: poll briefly, the server writes the file after replying.
reg_is() {
	[ "$(reg "$1")" = "$2" ]
}

# regs_are "V1 V2..." I1 I2...: the registers hold those values.
regs_are() {
	local want=$1 got='' i
	shift
	for i in "$@"; do
		got="$got${got:+ }$(reg "$i")"
	done
	[ "$got" = "$want" ]
}

# server_saw FC: did the server receive a request of function FC since
# the gate went up (the log's first SERVER_BASE lines are from before)?
SERVER_BASE=0
server_saw() {
	tail -n "+$((SERVER_BASE + 1))" "$SERVER_LOG" | grep -q "^request fc $1 "
}

# The PLC: bounded in time, logging every request it receives.
timeout -k 5 300 ip netns exec "${P}plc" "$SERVER" --port 502 --state "$STATE" \
	--seconds 280 >"$SERVER_LOG" 2>&1 </dev/null &
CG_PIDS+=($!)
if ! wait_until 5 _listening plc 502; then
	echo "Bail out! the Modbus server did not start: $(head -c 500 "$SERVER_LOG")"
	exit 1
fi

# ---- without the gate: the sandbox works, so every failure below is the
# gate's doing.
out=$(mb biz read 0 4)
expect "sandbox: the HMI reads holding registers 0-3 (no gate yet)" "$out" = "1000 1001 1002 1003"
check "sandbox: the HMI can write (register 10, its own value; no gate yet)" \
	mb biz write 10 1010
check "sandbox: the management laptop reads (no gate yet)" mb mgt read 0 1
SERVER_BASE=$(wc -l <"$SERVER_LOG")

# ---- the gate
check "check accepts the policy" "$CG_BIN" check "$POLICY"
if ! check "apply the policy" cg apply "$POLICY"; then
	echo "Bail out! cannot apply the ICS policy"
	exit 1
fi
cg_bg 120 "$EVENTS" events --json
EVENTS_PID=$CG_LAST_PID
sleep 0.5
before=$(cg_status_json)

# ---- the HMI under read-only: reads answered
out=$(mb biz read 0 4)
expect "HMI: FC 3 read of registers 0-3 answered through the gate" "$out" = "1000 1001 1002 1003"
out=$(mb biz read-input 0 2)
expect "HMI: FC 4 read of input registers 0-1 answered" "$out" = "2000 2001"
out=$(mb biz read-coils 0 2)
expect "HMI: FC 1 read of coils 0-1 answered" "$out" = "0 0"
check "the server received the reads" server_saw 3

# ---- the HMI under read-only: writes never reach the server
check_fails "HMI: FC 6 write of register 5 gets no answer" mb biz write 5 4242
check_fails "HMI: FC 16 write of registers 6-7 gets no answer" mb biz write-multi 6 111 222
check_fails "HMI: FC 5 write of coil 3 gets no answer" mb biz write-coil 3 1
sleep 0.5
check_fails "the server never received an FC 6 request" server_saw 6
check_fails "the server never received an FC 16 request" server_saw 16
check_fails "the server never received an FC 5 request" server_saw 5
expect "register 5 is unchanged" "$(reg 5)" = 1005
expect "register 6 is unchanged" "$(reg 6)" = 1006
expect "register 7 is unchanged" "$(reg 7)" = 1007
expect "coil 3 is unchanged" "$(sed -n 's/^coil\[3\]=//p' "$STATE")" = 0

after=$(cg_status_json)
denied=$(($(cg_reason ics-denied "$after") - $(cg_reason ics-denied "$before")))
expect "status --json counts the writes as ics-denied" "$denied" -ge 3
expect "the flow hmi-reads-plcs counted the reads" \
	$(($(cg_flow hmi-reads-plcs "$after") - $(cg_flow hmi-reads-plcs "$before"))) -ge 3

# ics_count FUNCTION VERDICT: status --json's inspected Modbus requests of
# the HMI's flow with that function and verdict.
ics_count() {
	jq -r --argjson fn "$1" --arg v "$2" \
		'[.ics[]? | select(.flow == "hmi-reads-plcs" and .protocol == "modbus"
			and .function == $fn and .verdict == $v) | .packets] | add // 0' \
		<<<"$after" 2>/dev/null | _number
}
for fn in 5 6 16; do
	expect "status --json counts FC $fn of hmi-reads-plcs as dropped" "$(ics_count $fn drop)" -ge 1
done
expect "status --json counts FC 3 of hmi-reads-plcs as passed" "$(ics_count 3 pass)" -ge 1

# A denial breaks only the connection that carried it.
out=$(mb biz read 5 1)
expect "HMI: a read on a new connection after the denials is answered" "$out" = 1005

# ---- the management zone under any: writes change the registers
check "management: FC 6 write of register 5 answered" mb mgt write 5 4242
check "management: FC 16 write of registers 6-7 answered" mb mgt write-multi 6 111 222
check "the server received the FC 6 write" server_saw 6
check "register 5 changed to 4242" wait_until 3 reg_is 5 4242
check "registers 6 and 7 changed to 111 and 222" \
	wait_until 3 regs_are "111 222" 6 7
out=$(mb biz read 5 3)
expect "HMI: reads the management zone's values" "$out" = "4242 111 222"

# ---- events name the denied function
sleep 0.5
kill -INT "$EVENTS_PID" 2>/dev/null
wait "$EVENTS_PID" 2>/dev/null
ev=$(jq -c -R 'fromjson? | objects | select(.reason == "ics-denied")' "$EVENTS" 2>/dev/null)
fns=$(jq -r '.function' <<<"$ev" 2>/dev/null | sort -un | tr '\n' ' ')
if grep -qw 6 <<<"$fns" && grep -qw 16 <<<"$fns" && grep -qw 5 <<<"$fns"; then
	ok "ics-denied events carry functions 5, 6 and 16"
else
	not_ok "ics-denied events carry functions 5, 6 and 16" "functions seen: $fns" \
		"events: $(head -c 1500 "$EVENTS")" "stderr: $(head -c 500 "$EVENTS.err")"
fi
rule=$(jq -r '.rule' <<<"$ev" 2>/dev/null | sort -u | tr '\n' ' ')
expect "ics-denied events name the flow hmi-reads-plcs" "$rule" = "hmi-reads-plcs "

tap_done
