#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: `deny: reset` with real TCP stacks. The HMI may only read
# (modbus: read-only). A libmodbus client whose write is refused on a
# `deny: reset` flow sees its connection reset (ECONNRESET) well within a
# second instead of waiting out its response timeout; its next connection's
# reads are answered; the server (a libmodbus PLC) never receives the
# write, and its register stays as it was. The same over IPv6, with a
# Python client and server (libmodbus's TCP client is IPv4 only). Then the
# same flow with the default `deny: drop` keeps today's behaviour: the
# write gets no answer until the client gives up, and the next connection
# is answered. TAP output.
#
# On veth, XDP_TX puts the frame on the peer's queue, and the kernel
# (veth_xdp_flush) kicks the peer's NAPI to take it only when the peer runs
# an XDP program of its own; otherwise the RST waits there until the next
# frame towards the peer. The HMI's end therefore runs an XDP_PASS program
# (build/empty.bpf.o). A NIC's XDP_TX needs nothing of the sort: it goes
# out on the NIC's own transmit ring.

. "$(dirname "$0")/lib.sh"

SERVER=$CG_TOP/build/tests/tools/modbus-server
CLIENT=$CG_TOP/build/tests/tools/modbus-client
for tool in "$SERVER" "$CLIENT"; do
	[ -x "$tool" ] || tap_skip_all "$tool is not built (run make)"
done

# policy_text DENY: the HMI reads the PLCs; a refused request is DENY.
policy_text() {
	cat <<EOF
version: 1
name: e2e-reset-$1
zones:
  business:
    interfaces: [biz0]
    networks: [198.18.10.0/24, "2001:2:0:10::/64"]
  crane-control:
    interfaces: [crane0]
    networks: [198.18.20.0/24, "2001:2:0:20::/64"]
hosts:
  scada-hmi: $HMI
  scada-hmi-v6: $HMI6
flows:
  - name: hmi-polls-plcs
    from: [scada-hmi, scada-hmi-v6]
    to: crane-control
    proto: tcp
    ports: [502]
    modbus: read-only
EOF
	[ "$1" = drop ] || echo "    deny: $1"
}

# A Modbus/TCP client and server over IPv6 for the same exchange.
write_py() {
	cat >"$CG_TMP/mb6.py" <<'EOF'
import socket, struct, sys, threading, time

def serve(c, out):
    # One connection: answer reads, echo other requests, log every one.
    c.settimeout(10)
    try:
        h = c.recv(7)
        while len(h) == 7:
            tid, pid, ln, unit = struct.unpack(">HHHB", h)
            pdu = c.recv(ln - 1)
            out.write("request fc %d unit %d\n" % (pdu[0], unit))
            if pdu[0] == 3:
                n = struct.unpack(">H", pdu[3:5])[0]
                body = bytes([3, 2 * n]) + b"\x04\x00" * n
            else:
                body = pdu
            c.sendall(struct.pack(">HHHB", tid, 0, len(body) + 1, unit) +
                      body)
            h = c.recv(7)
    except OSError:
        pass
    c.close()

def server(addr, port, log):
    # Every connection on its own thread, as libmodbus's select loop: a
    # connection the gate reset stays open here until its own timeout.
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    s.listen(8)
    s.settimeout(1)
    end = time.time() + float(sys.argv[5])
    with open(log, "a", buffering=1) as out:
        while time.time() < end:
            try:
                c, _ = s.accept()
            except socket.timeout:
                continue
            threading.Thread(target=serve, args=(c, out), daemon=True).start()

def client(addr, port, op):
    fc = 3 if op == "read" else 6
    req = struct.pack(">HHHBBHH", 1, 0, 6, 1, fc, 5, 1 if fc == 3 else 42)
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect((addr, port))
    t0 = time.time()
    s.sendall(req)
    try:
        r = s.recv(64)
        print("answered %d bytes" % len(r))
        return 0 if r else 1
    except ConnectionResetError:
        print("reset after %d ms" % ((time.time() - t0) * 1000))
        return 3
    except socket.timeout:
        print("timeout")
        return 1

if sys.argv[1] == "server":
    server(sys.argv[2], int(sys.argv[3]), sys.argv[4])
else:
    sys.exit(client(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
EOF
}

sandbox_up
cp "$SERVER" "$CLIENT" "$CG_TMP/" || {
	echo "Bail out! cannot copy the Modbus tools"
	exit 1
}
SERVER=$CG_TMP/modbus-server
CLIENT=$CG_TMP/modbus-client
STATE=$CG_TMP/plc-registers
SERVER_LOG=$CG_TMP/plc-server.log
SERVER6_LOG=$CG_TMP/plc-server6.log
write_py
: >"$SERVER6_LOG"
if ! ip -n "${P}biz" link set dev eth0 xdp obj "$CG_TOP/build/empty.bpf.o" sec xdp; then
	echo "Bail out! cannot attach an XDP_PASS program to the HMI's eth0"
	exit 1
fi

timeout -k 5 150 ip netns exec "${P}plc" "$SERVER" --port 502 --items 64 \
	--state "$STATE" --seconds 140 >"$SERVER_LOG" 2>&1 </dev/null &
CG_PIDS+=($!)
timeout -k 5 150 ip netns exec "${P}plc" "$PYTHON" "$CG_TMP/mb6.py" server \
	"$PLC6" 502 "$SERVER6_LOG" 140 </dev/null >/dev/null 2>&1 &
CG_PIDS+=($!)
_listening6() {
	ip netns exec "$P$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q "\["
}
if ! wait_until 5 _listening plc 502 || ! wait_until 5 _listening6 plc 502; then
	echo "Bail out! the Modbus servers did not start: $(head -c 500 "$SERVER_LOG")"
	exit 1
fi

# mb TIMEOUT OP ARGS...: one request on a fresh connection from the HMI;
# prints its time in ms on the last line of stderr.
mb() {
	local t=$1 t0 rc
	shift
	t0=$(date +%s%N)
	in_ns biz timeout 15 "$CLIENT" --timeout "$t" --unit 1 "$PLC" 502 "$@"
	rc=$?
	echo "elapsed_ms $((($(date +%s%N) - t0) / 1000000))" >&2
	return $rc
}

mb6() {
	in_ns biz timeout 15 "$PYTHON" "$CG_TMP/mb6.py" client "$PLC6" 502 "$1"
}

server_saw() {
	tail -n "+$((SERVER_BASE + 1))" "$SERVER_LOG" | grep -q "^request fc $1 "
}

reg() {
	sed -n "s/^hr\[$1\]=//p" "$STATE" 2>/dev/null
}

check "sandbox: the HMI reads register 5 (no gate yet)" mb 1 read 5 1
check "sandbox: the HMI reads over IPv6 (no gate yet)" mb6 read
# Without the gate a write reaches the server and is logged: the absence
# of writes below is the gate's doing.
SERVER_BASE=0
check "sandbox: the HMI writes register 7 (no gate yet)" mb 1 write 7 1007
check "sandbox: the server logs that write" server_saw 6
check "sandbox: an IPv6 write is answered (no gate yet)" mb6 write
check "sandbox: the IPv6 server logs it" grep -q "^request fc 6 " "$SERVER6_LOG"
: >"$SERVER6_LOG"
SERVER_BASE=$(wc -l <"$SERVER_LOG")

POLICY=$CG_TMP/reset.yaml
policy_text reset >"$POLICY"
check "check accepts deny: reset" "$CG_BIN" check --insecure "$POLICY"
if ! check "apply the deny: reset policy" cg apply "$POLICY"; then
	echo "Bail out! cannot apply the policy"
	exit 1
fi
EVENTS=$CG_TMP/events.jsonl
cg_bg 120 "$EVENTS" events --json
EVENTS_PID=$CG_LAST_PID
sleep 0.5
before=$(cg_status_json)

out=$(mb 1 read 5 1 2>/dev/null)
expect "a read is answered" "$out" = 1005

# The write: refused, and the client hears so at once. Its own response
# timeout is 5 s, so an error within a second can only be the RST.
err=$(mb 5 write 5 4242 2>&1 >/dev/null)
rc=$?
ms=$(sed -n 's/^elapsed_ms //p' <<<"$err")
expect "the refused write fails" "$rc" -ne 0
expect "... with ECONNRESET (libmodbus: Connection reset by peer)" \
	"$(grep -c 'Connection reset by peer' <<<"$err")" -ge 1
expect "... within a second (ms)" "$ms" -lt 1000
diag "write: $(head -n 1 <<<"$err"), ${ms} ms"
out=$(mb 1 read 5 2 2>/dev/null)
expect "the next connection's reads are answered" "$out" = "1005 1006"
err=$(mb 5 write-multi 6 1 2 2>&1 >/dev/null)
expect "a refused FC 16 write is reset too" \
	"$(grep -c 'Connection reset by peer' <<<"$err")" -ge 1
sleep 0.3
check_fails "the server never received a write (FC 6)" server_saw 6
check_fails "the server never received a write (FC 16)" server_saw 16
expect "register 5 is unchanged" "$(mb 1 read 5 1 2>/dev/null)" = 1005

# IPv6: the same RST, built over the IPv6 pseudo-header.
out=$(mb6 read)
expect "IPv6: a read is answered" "$out" = "answered 11 bytes"
out=$(mb6 write)
expect "IPv6: the refused write is reset" "${out%% after*}" = reset
ms=${out##* after }
ms=${ms%% ms}
expect "IPv6: ... within a second (ms)" "$ms" -lt 1000
out=$(mb6 read)
expect "IPv6: the next connection's read is answered" "$out" = "answered 11 bytes"
check_fails "IPv6: the server never received the write" \
	grep -q "^request fc 6 " "$SERVER6_LOG"

after=$(cg_status_json)
denied=$(($(cg_reason ics-denied "$after") - $(cg_reason ics-denied "$before")))
expect "status counts the refused writes as ics-denied" "$denied" -ge 3

# The events: drop, ics-denied, the flow and the function, and the reset.
sleep 0.5
kill -INT "$EVENTS_PID" 2>/dev/null
wait "$EVENTS_PID" 2>/dev/null
ev=$(jq -c -R 'fromjson? | objects | select(.reason == "ics-denied")' "$EVENTS" 2>/dev/null)
expect "events: the refused writes are drop/ics-denied events with reset: true" \
	"$(jq -r 'select(.verdict == "drop" and .reset == true and .rule == "hmi-polls-plcs") | .function' <<<"$ev" | sort -un | tr '\n' ' ')" = "6 16 "

# The default, deny: drop: the write waits out the client's timeout.
policy_text drop >"$POLICY"
check "apply the same flow with the default deny: drop" cg apply "$POLICY"
err=$(mb 1 write 5 4343 2>&1 >/dev/null)
rc=$?
ms=$(sed -n 's/^elapsed_ms //p' <<<"$err")
expect "deny: drop: the write fails" "$rc" -ne 0
expect "deny: drop: ... by the client's own timeout, no reset" \
	"$(grep -c 'Connection reset by peer' <<<"$err")" -eq 0
expect "deny: drop: ... after at least its second (ms)" "$ms" -ge 1000
diag "deny: drop write: $(head -n 1 <<<"$err"), ${ms} ms"
out=$(mb 1 read 5 1 2>/dev/null)
expect "deny: drop: the next connection's read is answered" "$out" = 1005
out=$(mb6 write)
expect "deny: drop: IPv6 write times out" "$out" = timeout
check_fails "deny: drop: the server never received a write" server_saw 6

tap_done
