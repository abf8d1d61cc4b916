#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: every reader sees every event. The ring buffer has one
# reading position; `run` owns it and hands every event on to `events` and
# `capture` over a unix socket in the state directory. With `run --log`,
# `capture` and `events --json` running together, 20 denied TCP
# connections (one SYN each, distinct source ports) reach all three: the
# log, the events stream and the pcap. The socket is root's, mode 0600; a
# stale socket left by a killed run is replaced; without run, events reads
# the ring buffer itself. A subscriber that stops reading loses its own
# events, counted and said, while the log and a second subscriber keep
# every one. TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up tcpdump
T=$CG_TMP
LOG=$T/run.jsonl
N=20
BASE_PORT=41000

cat >"$T/policy.yaml" <<EOF
version: 1
name: fanout-a
limits:
  events_per_second: 100000
  events_burst: 100000
  source_events_per_second: 100000
  source_events_burst: 100000
$(topo_zones)
hosts:
  scada-hmi: 198.18.10.5
flows:
  - name: scada-polls-plcs
    from: scada-hmi
    to: crane-control
    proto: tcp
    ports: [502]
EOF

# syns.py DST PORT N BASE: N connection attempts to DST:PORT from source
#   ports BASE.., each given up after 0.3 s (one SYN, no retransmission).
cat >"$T/syns.py" <<'EOF'
import socket, sys
dst, port, n, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for i in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", base + i))
    s.settimeout(0.3)
    try:
        s.connect((dst, port))
    except OSError:
        pass
    s.close()
EOF

# sports FILE: the distinct source ports of our denied SYNs in JSON lines.
sports() {
	jq -r --arg p "$BASE_PORT" 'select(.dport == 23 and .reason == "no-rule" and
		(.sport >= ($p | tonumber)) and (.sport < (($p | tonumber) + 100))) | .sport' \
		"$1" 2>/dev/null | sort -un | grep -c . || true
}

start_run "$T/run.out" "$T/policy.yaml" --log "$LOG" --summary 0
if wait_until 15 log_has '.type == "apply" and .ok'; then
	ok "run applies the policy"
else
	not_ok "run applies the policy" "$(cat "$T/run.out.err" 2>/dev/null)"
fi
sock=$(find "$CG_STATE_DIR" -maxdepth 1 -name 'events-*.sock' -type s | head -1)
expect "run offers events on a socket in the state directory" "${sock:+yes}" = yes
expect "... owned by root, mode 0600" "$(stat -c '%U %a' "$sock" 2>/dev/null)" = "root 600"

cg_bg 60 "$T/events.jsonl" events --json --verbose
EV_PID=$CG_LAST_PID
cg_bg 60 "$T/cap.out" capture --verbose -w "$T/denied.pcap"
CAP_PID=$CG_LAST_PID
subscribed() { grep -q 'reading events from run' "$1.err"; }
if wait_until 10 subscribed "$T/events.jsonl" && wait_until 10 subscribed "$T/cap.out"; then
	ok "events and capture read run's events"
else
	not_ok "events and capture read run's events" "$(cat "$T/events.jsonl.err" "$T/cap.out.err")"
fi

in_ns biz timeout 30 "$PYTHON" "$T/syns.py" "$PLC" 23 "$N" "$BASE_PORT"
all_there() { [ "$(sports "$LOG")" -eq "$N" ] && [ "$(sports "$T/events.jsonl")" -eq "$N" ]; }
wait_until 10 all_there
sleep 0.5
kill -INT "$EV_PID" "$CAP_PID" 2>/dev/null
wait "$EV_PID" "$CAP_PID" 2>/dev/null
expect "run's log has all $N denied connections" "$(sports "$LOG")" -eq "$N"
expect "events --json has all $N too" "$(sports "$T/events.jsonl")" -eq "$N"
cap_ports=$(tcpdump -nn -r "$T/denied.pcap" "tcp dst port 23 and src portrange $BASE_PORT-$((BASE_PORT + 99))" 2>/dev/null |
	awk '{ n = split($3, a, "."); print a[n] }' | sort -un | grep -c . || true)
expect "capture's pcap has all $N too" "$cap_ports" -eq "$N"

# ---- a subscriber that stops reading loses its own events, not the log's
# A stream client that connects and never reads; a fast events beside it.
cat >"$T/stall.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
print("connected", flush=True)
time.sleep(float(sys.argv[2]))
EOF
timeout 60 "$PYTHON" "$T/stall.py" "$sock" 40 >"$T/stall.out" &
STALL_PID=$!
CG_PIDS+=("$STALL_PID")
cg_bg 60 "$T/events2.jsonl" events --json --verbose
EV2_PID=$CG_LAST_PID
wait_until 10 subscribed "$T/events2.jsonl"
wait_until 5 grep -q connected "$T/stall.out"
before=$(grep -c '"type": "event"' "$LOG")
# 8000 denied UDP datagrams, 4000 a second: ~2 MiB of events, more than
# run queues for a subscriber (1 MiB) and the socket holds, at a rate a
# reading subscriber keeps up with.
cat >"$T/udp.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t = time.monotonic()
for i in range(int(sys.argv[2])):
    s.sendto(b"x", (sys.argv[1], 9))
    if i % 100 == 99:
        time.sleep(max(0, t + (i + 1) / 4000 - time.monotonic()))
EOF
in_ns biz timeout 30 "$PYTHON" "$T/udp.py" "$PLC" 8000
sleep 2
after=$(grep -c '"type": "event"' "$LOG")
kill -INT "$EV2_PID" 2>/dev/null
wait "$EV2_PID" 2>/dev/null
udp_log=$(jq -r 'select(.type == "event" and .proto == "udp" and .dport == 9) | .sport' "$LOG" | grep -c . || true)
udp_ev=$(jq -r 'select(.proto == "udp" and .dport == 9) | .sport' "$T/events2.jsonl" | grep -c . || true)
diag "events in the log during the flood: $((after - before)); udp in log $udp_log, in events $udp_ev"
diag "events (reading): $(grep -c lost "$T/events2.jsonl.err") loss notes"
expect "the log has all 8000 datagrams while a subscriber stalls" "$udp_log" -eq 8000
expect "... and so does the subscriber that reads" "$udp_ev" -eq 8000
st=$(cg status --json)
expect "... and status counts nothing lost in the ring buffer" \
	"$(jq '[.events.by_reason[]?.lost // 0] | add // 0' <<<"$st")" -eq 0
kill "$STALL_PID" 2>/dev/null
wait "$STALL_PID" 2>/dev/null

# ---- the stalled subscriber is told: a cranegate events that cannot write
# (its stdout a pipe nobody reads for a while) then reads again.
mkfifo "$T/slow.fifo"
cg_bg 60 "$T/slow.fifo" events --json --verbose
SLOW_PID=$CG_LAST_PID
exec 7<"$T/slow.fifo"
wait_until 10 subscribed "$T/slow.fifo"
in_ns biz timeout 30 "$PYTHON" "$T/udp.py" "$PLC" 8000
sleep 2
timeout 10 cat <&7 >"$T/slow.jsonl" &
CAT_PID=$!
sleep 2
kill -INT "$SLOW_PID" 2>/dev/null
wait "$SLOW_PID" 2>/dev/null
wait "$CAT_PID" 2>/dev/null
exec 7<&-
lost=$(sed -n 's/^cranegate: \([0-9]*\) events lost: this reader fell behind run.*/\1/p' "$T/slow.fifo.err" | awk '{ s += $1 } END { print s + 0 }')
diag "the slow subscriber was told it lost $lost events"
expect "a subscriber that falls behind is told how many events it lost" "$lost" -gt 0
got=$(jq -r 'select(.proto == "udp" and .dport == 9) | .sport' "$T/slow.jsonl" | grep -c . || true)
expect "... and what it got plus what it lost is every datagram ($got + $lost)" "$((got + lost))" -eq 8000

# ---- run stops: its socket goes; events reads the ring buffer again
kill -INT "$RUN_PID" 2>/dev/null
wait_until 10 bash -c "! kill -0 $RUN_PID"
expect "run removes its socket when it stops" "$(test -e "$sock" && echo left || echo gone)" = gone
cg_bg 30 "$T/events3.jsonl" events --json --verbose
EV3_PID=$CG_LAST_PID
sleep 1.5
in_ns biz timeout 30 "$PYTHON" "$T/syns.py" "$PLC" 23 5 $((BASE_PORT + 50))
wait_until 10 bash -c "[ \$(grep -c '\"dport\": 23' '$T/events3.jsonl') -ge 5 ]"
kill -INT "$EV3_PID" 2>/dev/null
wait "$EV3_PID" 2>/dev/null
expect "without run, events reads the ring buffer (5 of 5)" \
	"$(jq -r 'select(.dport == 23) | .sport' "$T/events3.jsonl" | sort -u | grep -c . || true)" -eq 5
expect "... and says nothing of run" "$(grep -c 'reading events from run' "$T/events3.jsonl.err")" -eq 0

# ---- a stale socket (run killed) is replaced by the next run, and an
# events started before run (reading the ring buffer) switches to it
"$PYTHON" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
chmod 600 "$sock"
cg_bg 60 "$T/events4.jsonl" events --json --verbose
EV4_PID=$CG_LAST_PID
sleep 1
start_run "$T/run2.out" "$T/policy.yaml" --log "$T/run2.jsonl" --summary 0
wait_until 15 log_has '.type == "apply" and .ok' "$T/run2.jsonl"
if wait_until 10 subscribed "$T/events4.jsonl"; then
	ok "a stale socket is replaced: an events started before run switches to it"
else
	not_ok "a stale socket is replaced: an events started before run switches to it" \
		"$(cat "$T/run2.out.err" "$T/events4.jsonl.err")"
fi
in_ns biz timeout 30 "$PYTHON" "$T/syns.py" "$PLC" 23 10 $((BASE_PORT + 60))
range() { # FILE: our SYNs from BASE+60..
	jq -r --arg p $((BASE_PORT + 60)) 'select(.dport == 23 and .sport >= ($p | tonumber)) | .sport' "$1" 2>/dev/null |
		sort -u | grep -c . || true
}
both() { [ "$(range "$T/run2.jsonl")" -eq 10 ] && [ "$(range "$T/events4.jsonl")" -eq 10 ]; }
wait_until 10 both
expect "... then all 10 denied connections reach the new run's log" "$(range "$T/run2.jsonl")" -eq 10
expect "... and that events" "$(range "$T/events4.jsonl")" -eq 10
kill -INT "$EV4_PID" "$RUN_PID" 2>/dev/null
wait "$EV4_PID" 2>/dev/null
wait_until 10 bash -c "! kill -0 $RUN_PID"

tap_done
