#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: `modbus: allow:` rules with a real Modbus stack (Debian's
# libmodbus). The HMI may read anything, and write registers 100-119 and
# 200 on unit 1 only (FC 6 and 16). A libmodbus client writes register 105
# on unit 1 (answered; the server's register changes), and is refused on
# register 120 (unit 1) and on register 105 of unit 2: those requests never
# reach the server (its log has no such request) and its registers stay as
# they were, read back through the allowed read path and from the state
# file the server writes after every request. TAP output.

. "$(dirname "$0")/lib.sh"

SERVER=$CG_TOP/build/tests/tools/modbus-server
CLIENT=$CG_TOP/build/tests/tools/modbus-client
for tool in "$SERVER" "$CLIENT"; do
	[ -x "$tool" ] || tap_skip_all "$tool is not built (run make)"
done

policy_text() {
	cat <<EOF
version: 1
name: e2e-modbus-rules
zones:
  business:
    interfaces: [biz0]
    networks: [198.18.10.0/24]
  crane-control:
    interfaces: [crane0]
    networks: [198.18.20.0/24]
hosts:
  scada-hmi: $HMI
flows:
  - name: hmi-setpoints
    from: scada-hmi
    to: crane-control
    proto: tcp
    ports: [502]
    modbus:
      allow:
        - functions: [read]
        - functions: [6, 16]
          units: [1]
          addresses: [100-119, 200]
EOF
}

sandbox_up
POLICY=$CG_TMP/modbus-rules.yaml
policy_text >"$POLICY"
cp "$SERVER" "$CLIENT" "$CG_TMP/" || {
	echo "Bail out! cannot copy the Modbus tools"
	exit 1
}
SERVER=$CG_TMP/modbus-server
CLIENT=$CG_TMP/modbus-client
STATE=$CG_TMP/plc-registers
SERVER_LOG=$CG_TMP/plc-server.log

# mb UNIT OP ARGS...: one request from the HMI to the PLC, bounded.
mb() {
	local unit=$1
	shift
	in_ns biz timeout 10 "$CLIENT" --timeout 1 --unit "$unit" "$PLC" 502 "$@"
}

reg() {
	sed -n "s/^hr\[$1\]=//p" "$STATE" 2>/dev/null
}

reg_is() {
	[ "$(reg "$1")" = "$2" ]
}

# server_saw FC ADDR-OR-UNIT-PATTERN: a request line of the server's log
# since the gate went up.
SERVER_BASE=0
server_saw() {
	tail -n "+$((SERVER_BASE + 1))" "$SERVER_LOG" | grep -q "^request fc $1 unit $2\$"
}

timeout -k 5 120 ip netns exec "${P}plc" "$SERVER" --port 502 --items 256 \
	--state "$STATE" --seconds 100 >"$SERVER_LOG" 2>&1 </dev/null &
CG_PIDS+=($!)
if ! wait_until 5 _listening plc 502; then
	echo "Bail out! the Modbus server did not start: $(head -c 500 "$SERVER_LOG")"
	exit 1
fi

# Without the gate every request is answered: the failures below are the
# gate's.
check "sandbox: unit 2 writes register 150 (no gate yet)" mb 2 write 150 1150
SERVER_BASE=$(wc -l <"$SERVER_LOG")

check "check accepts the policy" "$CG_BIN" check "$POLICY"
if ! check "apply the policy" cg apply "$POLICY"; then
	echo "Bail out! cannot apply the policy"
	exit 1
fi
before=$(cg_status_json)

# Allowed: a write of register 105 on unit 1, and reads on any unit.
check "unit 1: FC 6 write of register 105 answered" mb 1 write 105 4105
check "register 105 changed to 4105" wait_until 3 reg_is 105 4105
check "unit 1: FC 16 write of registers 118-119 answered" mb 1 write-multi 118 11 12
out=$(mb 2 read 104 3)
expect "unit 2: FC 3 read of 104-106 answered, shows the write" "$out" = "1104 4105 1106"

# Refused: outside the ranges, and on another unit.
check_fails "unit 1: FC 6 write of register 120 gets no answer" mb 1 write 120 4120
check_fails "unit 1: FC 16 write of 119-120 gets no answer" mb 1 write-multi 119 1 2
check_fails "unit 2: FC 6 write of register 105 gets no answer" mb 2 write 105 4242
check_fails "unit 1: FC 5 write of coil 105 gets no answer" mb 1 write-coil 105 1
sleep 0.3
check "the server received the unit-1 FC 6 write" server_saw 6 1
check_fails "the server never received an FC 6 request for unit 2" server_saw 6 2
check_fails "the server never received an FC 5 request" server_saw 5 '[0-9]*'
expect "the server received exactly one FC 6 request" \
	"$(tail -n "+$((SERVER_BASE + 1))" "$SERVER_LOG" | grep -c '^request fc 6 ')" = 1
expect "register 120 is unchanged (state file)" "$(reg 120)" = 1120
expect "registers 118-119 were written, 119-120 not again" "$(reg 118) $(reg 119)" = "11 12"
out=$(mb 1 read 119 2)
expect "unit 1: read back 119-120 through the allowed read" "$out" = "12 1120"
out=$(mb 1 read 105 1)
expect "unit 1: register 105 still holds unit 1's write" "$out" = 4105

after=$(cg_status_json)
denied=$(($(cg_reason ics-denied "$after") - $(cg_reason ics-denied "$before")))
expect "status --json counts the refused writes as ics-denied" "$denied" -ge 4

tap_done
