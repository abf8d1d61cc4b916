#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: /metrics under slow and many clients. `run --metrics` on
# 127.0.0.1 in the gateway's namespace; 64 slow clients from 64 loopback
# addresses and 64 more from one address open connections and send a
# header line every 2 s, never finishing their request (slowloris). A GET
# from another address still answers within 1 s; the one address holds no
# more than its per-address share; the slow clients are closed when their
# request is not whole after 10 s; a silent connection is closed after the
# idle timeout. Only loopback traffic inside the gateway's namespace.
# TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up curl
T=$CG_TMP
LOG=$T/run.jsonl
PORT=$((20000 + RANDOM % 20000))

cat >"$T/policy.yaml" <<EOF
version: 1
name: metrics-a
$(topo_zones)
flows: []
EOF

# slow.py PORT SECONDS SPREAD SAME: SPREAD connections from 127.0.1.1...,
#   one per address, and SAME from 127.0.2.1; each sends a request line and
#   then a header line every 2 s, for SECONDS. Prints, every 2 s, how many
#   of its connections are still open.
cat >"$T/slow.py" <<'EOF'
import socket, sys, time
port, secs, spread, same = map(int, sys.argv[1:5])
conns = []
def connect(src):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        conns.append(s)
    except OSError:
        s.close()
for i in range(spread):
    connect("127.0.1.%d" % (i + 1))
for i in range(same):
    connect("127.0.2.1")
end = time.monotonic() + secs
n = 0
while time.monotonic() < end:
    for s in list(conns):
        try:
            s.sendall(b"X-Slow-%d: %d\r\n" % (n, n))
        except OSError:
            conns.remove(s)
    n += 1
    print(len(conns), flush=True)
    time.sleep(2)
EOF

start_run "$T/run.out" "$T/policy.yaml" --log "$LOG" --metrics "127.0.0.1:$PORT" --summary 0
if wait_until 15 log_has '.type == "apply" and .ok' && wait_until 5 _listening gw "$PORT"; then
	ok "run serves /metrics"
else
	not_ok "run serves /metrics" "$(cat "$T/run.out.err" 2>/dev/null)"
fi

# get: the seconds a GET of /metrics takes (curl gives up after 10 s).
get() {
	local t
	t=$(in_ns gw curl -sS --max-time 10 -o "$T/scrape" -w '%{time_total}' \
		"http://127.0.0.1:$PORT/metrics" 2>>"$T/curl.err") || t=99
	echo "${t:-99}"
}
expect "a GET answers before the slow clients come" "$(get | awk '{ print ($1 < 1) }')" -eq 1

SLOW_T0=$SECONDS
bg_in_ns 40 gw "$PYTHON" "$T/slow.py" "$PORT" 30 64 64 >"$T/slow.out"
SLOW_PID=$CG_LAST_PID
# Let every slow client connect and send its first header lines.
wait_until 15 test -s "$T/slow.out"
sleep 3
# Connections the server accepted (a socket in the listen backlog has no
# owner): by peer address.
accepted() {
	ss -Htnp -N "${P}gw" state established "( sport = :$PORT )" 2>/dev/null |
		grep 'cranegate' | grep -c "$1" || true
}
spread=$(accepted ' 127\.0\.1\.[0-9]*:')
from_one=$(accepted ' 127\.0\.2\.1:')
diag "slow connections held by the server: $spread from 64 addresses, $from_one from one"
expect "the 64 slow clients from 64 addresses are all held (more than 64 connections allowed)" \
	"$spread" -eq 64
expect "... the one address holds at most its share (16) of the rest" "$from_one" -le 16
times=()
for i in 1 2 3 4 5; do
	times+=("$(get)")
	sleep 0.5
done
diag "GET /metrics with 64 + 64 slow clients: ${times[*]} s"
worst=$(printf '%s\n' "${times[@]}" | sort -g | tail -1)
expect "five GETs during the slowloris each answer within 1 s (worst: $worst s)" \
	"$(awk -v w="$worst" 'BEGIN { print (w < 1) }')" -eq 1
expect "... with the metrics" "$(grep -c '^cranegate_packets_total' "$T/scrape")" -ge 1

# A request has 10 s to arrive whole: the trickling clients are cut.
none_held() {
	[ "$(accepted ' 127\.0\.[12]\.')" -eq 0 ]
}
if wait_until 20 none_held; then
	ok "slow clients that never finish a request are closed (all gone $((SECONDS - SLOW_T0)) s after they started)"
else
	not_ok "slow clients that never finish a request are closed" \
		"still held: $(accepted ' 127\.0\.[12]\.')"
fi
diag "slow.py's open connections every 2 s: $(tr '\n' ' ' <"$T/slow.out")"

# A connection that says nothing is closed after the idle timeout.
idle_closed=$(in_ns gw timeout 20 "$PYTHON" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t = time.monotonic()
s.settimeout(15)
try:
    s.recv(1)
except OSError:
    pass
print("%.1f" % (time.monotonic() - t))' "$PORT")
diag "an idle connection was closed after $idle_closed s"
expect "an idle connection is closed within 10 s" \
	"$(awk -v w="${idle_closed:-99}" 'BEGIN { print (w < 10) }')" -eq 1

kill "$SLOW_PID" 2>/dev/null
wait "$SLOW_PID" 2>/dev/null
kill -INT "$RUN_PID" 2>/dev/null
wait_until 10 bash -c "! kill -0 $RUN_PID"

tap_done
