#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: a reload that narrows a flow's window cuts the sessions the
# flow already has (issue 19.5). Two sessions start under permanent flows:
#
#   a TCP session from the HMI to the PLC (an echo every 0.3 s), and
#   a UDP stream in which only the PLC talks after the HMI's first
#   datagram (a datagram every 0.2 s, as a camera or a pushing server);
#
# then the same flows are applied with `valid: {until: now + ~10 s}`.
# Both sessions must carry traffic until `until` and nothing after it:
# apply re-judges the open connections (the responder-only stream is the
# case the data plane alone cannot see). Ping, an untimed flow, works
# throughout; a new connection after `until` is refused.
#
# Bounded: about 30 s. TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up
T=$CG_TMP
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

policy() { # NAME [VALID]: TCP 502 and UDP 5004 from the HMI, ping
	cat <<EOF
version: 1
name: $1
$(topo_zones)
hosts:
  scada-hmi: 198.18.10.5
flows:
  - {name: maintenance, from: scada-hmi, to: crane-control, proto: tcp, ports: [502]$2}
  - {name: stream, from: scada-hmi, to: crane-control, proto: udp, ports: [5004]$2}
  - {name: hmi-pings, from: scada-hmi, to: crane-control, proto: icmp}
EOF
}

policy permanent >"$T/perm.yaml"
check "apply: the flows without a window" cg apply "$T/perm.yaml"
tcp_echo_server plc 502 120 || diag "the TCP server on the PLC did not start"

# The PLC's side of the stream: wait for the HMI's datagram, then send one
# back every 0.2 s for $2 seconds. Only the PLC's frames cross the gate.
cat >"$T/plc_stream.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5004))
s.settimeout(20)
_, peer = s.recvfrom(64)
end = time.time() + float(sys.argv[2])
n = 0
while time.time() < end:
    s.sendto(b"frame %d" % n, peer)
    n += 1
    time.sleep(0.2)
EOF
bg_in_ns 60 plc "$PYTHON" "$T/plc_stream.py" "$PLC" 40

# The HMI's side: one datagram, then count what comes back. Until the
# file $2 exists it only listens; then it reads CLOSE from it and stops
# 3 s after. Prints: last datagram's arrival, datagrams after CLOSE, total.
in_ns biz timeout 50 "$PYTHON" - "$PLC" "$T/close" >"$T/stream" 2>&1 <<'EOF' &
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
last, times = 0, []
close = None
while close is None or time.time() < close + 3:
    if not times:  # until the PLC answers (it may not listen yet)
        s.sendto(b"start", (sys.argv[1], 5004))
    if close is None and os.path.exists(sys.argv[2]):
        close = float(open(sys.argv[2]).read() or 0) or None
    try:
        s.recv(64)
        last = time.time()
        times.append(last)
    except socket.timeout:
        pass
print(last, sum(t >= close + 0.1 for t in times), len(times))
EOF
stream=$!
CG_PIDS+=("$stream")

# The TCP session: an echo every 0.3 s until 3 s past CLOSE (read as for
# the stream). Prints the last echo that came back, the first that did
# not, and how many came back after CLOSE.
in_ns biz timeout 50 "$PYTHON" - "$PLC" "$T/close" >"$T/session" 2>&1 <<'EOF' &
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 502), timeout=3)
s.settimeout(1)
last_ok = first_fail = 0
after = 0
close = None
while close is None or time.time() < close + 3:
    if close is None and os.path.exists(sys.argv[2]):
        close = float(open(sys.argv[2]).read() or 0) or None
    t = time.time()
    try:
        s.sendall(b"x")
        ok = s.recv(16) == b"x"
    except OSError:
        ok = False
    if ok:
        last_ok = t
        after += close is not None and t >= close
    elif not first_fail:
        first_fail = t
    time.sleep(0.3)
print(last_ok, first_fail, after)
EOF
session=$!
CG_PIDS+=("$session")

sleep 2
check "before the reload: ping works" pings biz $PLC 2

# ---- the reload that gives both flows a window ending in ~10 s
CLOSE=$(($(date +%s) + 10))
policy windowed ", valid: {until: $(utc $CLOSE)}" >"$T/windowed.yaml"
cg apply "$T/windowed.yaml" >"$T/apply.out" 2>&1
expect "apply: the window is applied" "$?" -eq 0
diag "$(cat "$T/apply.out")"
expect "apply: says both open connections now end with the window" \
	"$(grep -c "open connections under the new windows: 2 end at their flow's new until" "$T/apply.out")" -eq 1
if [ "$(date +%s)" -ge $((CLOSE - 2)) ]; then
	diag "apply took until $(($(date +%s) - CLOSE + 10)) s of the 10 s before until"
fi
echo "$CLOSE" >"$T/close"

wait "$session" "$stream"
read -r last_ok first_fail after <"$T/session"
read -r last_dgram dgrams_after dgrams <"$T/stream"
diag "until $CLOSE; session: last echo $last_ok, first loss $first_fail, echoes after until $after"
diag "stream: $dgrams datagrams, the last at $last_dgram, $dgrams_after after until"

expect "the TCP session carried echoes up to the window's end" \
	"$("$PYTHON" -c "print(int($last_ok >= $CLOSE - 1.5))")" -eq 1
expect "the TCP session's echoes stop at until (within 1.5 s)" \
	"$("$PYTHON" -c "print(int($first_fail >= $CLOSE - 1 and $first_fail <= $CLOSE + 1.5))")" -eq 1
expect "no echo came back after until" "$after" -eq 0
expect "the PLC's stream (replies only) reached the HMI up to the window's end" \
	"$("$PYTHON" -c "print(int($last_dgram >= $CLOSE - 1))")" -eq 1
expect "no datagram of the PLC's stream reached the HMI after until" "$dgrams_after" -eq 0

check_fails "after until: the HMI cannot open a new connection" tcp_connects biz $PLC 502
check "after until: ping (untimed flow) still works" pings biz $PLC 2

check "detach" cg detach
tap_done
