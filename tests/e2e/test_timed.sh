#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: a time-boxed flow (valid:) opens and closes with no loader
# running. The policy lets the HMI reach the hoist PLC on TCP 502 only in
# a window that starts a few seconds after `apply` and lasts a few more;
# `apply` exits, and from then on only the XDP program and its maps hold
# the window. Checked by real connections through the gate:
#
#   before the window: refused, status says "not-yet";
#   in the window: a new connection is established, status says "open";
#   a connection opened in the window carries echoes until the window
#   ends and none after it (cut, both directions judged afresh);
#   after the window: refused again, status says "ended";
#   ping (an untimed flow) works throughout.
#
# Bounded: about 30 s. TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up
T=$CG_TMP

# The window: [OPEN, CLOSE) in Unix seconds. Loading takes a few seconds
# on a busy machine, so the window starts well after apply begins.
OPEN=$(($(date +%s) + 15))
CLOSE=$((OPEN + 8))
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

cat >"$T/timed.yaml" <<EOF
version: 1
name: vendor-window
zones:
  business:
    interfaces: [biz0]
    networks: [198.18.10.0/24, 2001:2:0:10::/64]
  crane-control:
    interfaces: [crane0]
    networks: [198.18.20.0/24, 2001:2:0:20::/64]
hosts:
  scada-hmi: 198.18.10.5
  plc-hoist: 198.18.20.11
flows:
  - name: maintenance
    from: scada-hmi
    to: plc-hoist
    proto: tcp
    ports: [502]
    valid: {from: $(utc $OPEN), until: $(utc $CLOSE)}
  - name: hmi-pings
    from: scada-hmi
    to: crane-control
    proto: icmp
EOF

tcp_echo_server plc 502 120 || diag "the TCP server on the PLC did not start"

window_state() { # FLOW
	cg_status_json | jq -r --arg f "$1" '.flows[] | select(.name == $f) | .window.state // "none"'
}
# Sleep until the Unix time $1 (plus a margin for clocks that round).
sleep_until() {
	local now
	now=$(date +%s.%N)
	sleep "$("$PYTHON" -c "import sys; print(max(0, float(sys.argv[1]) - float(sys.argv[2]) + 0.5))" "$1" "$now")"
}

check "check: the window parses and compiles" cg check "$T/timed.yaml"
check "apply: exits once the gate is loaded" cg apply "$T/timed.yaml"
expect "no cranegate process runs for this gate" \
	"$(pgrep -f -- "$CG_PIN_ROOT" | wc -l)" -eq 0
expect "status: an untimed flow has no window" "$(window_state hmi-pings)" = none

# ---- before the window (unless loading took the time there was)
if [ "$(date +%s)" -lt $((OPEN - 4)) ]; then
	expect "status: the window is not yet open" "$(window_state maintenance)" = not-yet
	norule0=$(cg_reason no-rule)
	check_fails "before the window: the HMI cannot connect to the PLC" tcp_connects biz $PLC 502
	expect "before the window: the SYNs were no-rule" "$(cg_reason no-rule)" -gt "$norule0"
	check "before the window: ping (untimed flow) works" pings biz $PLC 2
else
	for what in "status: not yet open" "before the window: refused" \
		"before the window: no-rule" "before the window: ping"; do
		skip "$what" "apply took until $(($(date +%s) - OPEN + 15)) s of the 15 s before the window"
	done
fi

# ---- in the window
sleep_until "$OPEN"
expect "status: the window is open" "$(window_state maintenance)" = open
check "in the window: the HMI connects to the PLC" tcp_connects biz $PLC 502

# A session opened in the window: an echo every 0.3 s until 3 s past the
# window's end. Prints the Unix times of the last echo that came back and
# of the first that did not, then how many came back after the end.
in_ns biz timeout 30 "$PYTHON" - "$PLC" "$CLOSE" >"$T/session" 2>&1 <<'EOF' &
import socket, sys, time
plc, close = sys.argv[1], float(sys.argv[2])
s = socket.create_connection((plc, 502), timeout=3)
s.settimeout(1)
last_ok = first_fail = None
after = 0
while time.time() < close + 3:
    t = time.time()
    try:
        s.sendall(b"x")
        ok = s.recv(16) == b"x"
    except OSError:
        ok = False
    if ok:
        last_ok = t
        after += t >= close
    elif first_fail is None:
        first_fail = t
    time.sleep(0.3)
print(last_ok or 0, first_fail or 0, after)
EOF
session=$!
CG_PIDS+=("$session")
wait "$session"
read -r last_ok first_fail after <"$T/session"
diag "window [$OPEN, $CLOSE); session: last echo $last_ok, first loss $first_fail, echoes after the end $after"
expect "the session carried echoes in the window" \
	"$("$PYTHON" -c "print(int($last_ok >= $OPEN))")" -eq 1
expect "the session's echoes stop at the window's end (within 1.5 s)" \
	"$("$PYTHON" -c "print(int($first_fail >= $CLOSE - 1 and $first_fail <= $CLOSE + 1.5))")" -eq 1
expect "no echo came back after the window ended" "$after" -eq 0

# ---- after the window
expect "status: the window has ended" "$(window_state maintenance)" = ended
check_fails "after the window: the HMI cannot connect to the PLC" tcp_connects biz $PLC 502
check "after the window: ping (untimed flow) still works" pings biz $PLC 2
expect "status text shows the ended window" \
	"$(cg status | grep -c "maintenance.*window ended $(utc $CLOSE)")" -eq 1

tap_done
