#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: connection records. `run --log --ipfix 127.0.0.1:PORT` with
# a collector (a UDP listener that writes what it receives to a file, read
# back with libfixbuf's ipfixDump) while the HMI makes three TCP
# connections to an echo server, a UDP exchange, a Modbus session, and a
# TCP connection that stays open while a burst of new UDP "connections"
# fills the connection table until the LRU evicts it. What the gate's
# interfaces received (tcpdump -Q in on the gateway ends, the frames XDP
# passed) is the truth: the JSON records and the IPFIX records agree with
# it in packets and bytes per direction, exactly, for every TCP connection
# and the UDP exchange; the UDP exchange ends "idle" (its timeout), the
# held connection "evicted", the others "fin". TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up tcpdump ipfixDump

T=$CG_TMP
LOG=$T/run.jsonl
IPFIX=$T/ipfix.bin
PORT=47390

cat >"$T/policy.yaml" <<EOF
version: 1
name: e2e-records
limits:
  connections: 1024
  udp_timeout: 2
  tcp_closing_timeout: 1
  record_interval: 2
zones:
  business:
    interfaces: [biz0]
    networks: [198.18.10.0/24, "2001:2:0:10::/64"]
  crane-control:
    interfaces: [crane0]
    networks: [198.18.20.0/24, "2001:2:0:20::/64"]
hosts:
  scada-hmi: $HMI
  plc: $PLC
flows:
  - {name: hmi-echo, from: scada-hmi, to: plc, proto: tcp, ports: [7000]}
  - {name: hmi-udp, from: scada-hmi, to: plc, proto: udp, ports: [7001, 7002]}
  - {name: hmi-modbus, from: scada-hmi, to: plc, proto: tcp, ports: [502], modbus: read-only}
  - {name: hmi-echo6, from: "$HMI6", to: "$PLC6", proto: tcp, ports: [7000]}
  - {name: gateway-ssh, from: scada-hmi, to: self, proto: tcp, ports: [22]}
EOF

# The collector: every datagram to 127.0.0.1:PORT in the gateway's
# namespace, appended to one file (an IPFIX file is the messages in a row).
bg_in_ns 60 gw "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65535))
' "$PORT" "$IPFIX"
COLLECTOR=$CG_LAST_PID

# The truth: the frames each gateway end received and passed up.
bg_in_ns 60 gw tcpdump -Q in -i biz0 -w "$T/biz0.pcap" -U -s 128 ip
TD1=$CG_LAST_PID
bg_in_ns 60 gw tcpdump -Q in -i crane0 -w "$T/crane0.pcap" -U -s 128 ip
TD2=$CG_LAST_PID

start_run "$LOG" "$T/policy.yaml" --log "$LOG" --summary 0 \
	--ipfix "127.0.0.1:$PORT" || {
	echo "Bail out! run did not start"
	exit 1
}
check "run applies the policy" wait_until 10 log_has '.type == "apply" and .ok' "$LOG"
sleep 1

# Servers in the PLC: a TCP echo on 7000 and 502, a UDP echo on 7001.
tcp_echo_server plc 7000 60
tcp_echo_server plc 502 60
bg_in_ns 60 plc socat -T 10 UDP-RECVFROM:7001,fork EXEC:cat

# Three TCP connections of different sizes.
for n in 100 1000 3000; do
	head -c "$n" /dev/urandom >"$T/in$n"
	check "tcp $n bytes echoed" tcp_roundtrip biz "$PLC" 7000 "$T/in$n" "$T/out$n"
done

# Over IPv6 too (the IPFIX record takes the IPv6 template).
check "tcp over IPv6 echoed" tcp_roundtrip biz "$PLC6" 7000 "$T/in100" "$T/out6"

# A UDP exchange: three datagrams and their echoes, from one port.
in_ns biz timeout 10 "$PYTHON" - "$PLC" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 41001))
s.settimeout(2)
for i in range(3):
    s.sendto(b"x" * (50 + i), (sys.argv[1], 7001))
    s.recv(100)
EOF
check "udp exchange answered" test $? -eq 0

# A Modbus session: reads (FC 3, FC 4), echoed by the server.
in_ns biz timeout 10 "$PYTHON" - "$PLC" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 502), timeout=3)
for tid, fc in ((1, 3), (2, 4), (3, 3)):
    req = bytes.fromhex("%04x0000000601%02x00000001" % (tid, fc))
    s.sendall(req)
    got = b""
    while len(got) < len(req):
        got += s.recv(64)
s.close()
EOF
check "modbus reads answered" test $? -eq 0

# The held connection: a little traffic, then silence while the table
# fills with new UDP connections (more than its 1024 entries).
# One CPU for both: the LRU keeps a new entry in the list of the CPU that
# made it until that CPU needs room.
bg_in_ns 30 biz taskset -c 0 "$PYTHON" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7000), timeout=3)
s.sendall(b"held")
s.recv(10)
time.sleep(25)
' "$PLC"
HELD=$CG_LAST_PID
sleep 3.3 # sweeps see it, and write an interim record
in_ns biz timeout 20 taskset -c 0 "$PYTHON" - "$PLC" <<'EOF'
import socket, sys
# Twice each: an LRU entry referenced again is kept over one that is not,
# so new entries seen once would only evict each other.
socks = []
for p in range(20000, 26000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", p))
    s.sendto(b"f", (sys.argv[1], 7002))
    socks.append(s)
    if len(socks) == 500:
        for s in socks:
            s.sendto(b"f", (sys.argv[1], 7002))
            s.close()
        socks = []
EOF

# Records come out within a sweep or two of the end (UDP: its 2 s timeout).
held_record() {
	log_has '.type == "connection" and .dport == 7000 and .end_reason == "evicted" and .bytes_fwd > 0'
}
check "the held connection is reported evicted" wait_until 8 held_record
udp_record() {
	log_has '.type == "connection" and .sport == 41001 and .end_reason == "idle"'
}
check "the UDP exchange is reported idle (timed out)" wait_until 8 udp_record
sleep 1
kill -INT "$RUN_PID" 2>/dev/null
wait_until 5 bash -c "! kill -0 $RUN_PID" 2>/dev/null
kill "$TD1" "$TD2" "$HELD" 2>/dev/null
sleep 0.5
kill "$COLLECTOR" 2>/dev/null

# The truth per (src, sport, dst, dport, proto): frames and bytes as XDP
# saw them (the whole Ethernet frame).
"$PYTHON" - "$T/biz0.pcap" "$T/crane0.pcap" >"$T/truth.json" <<'EOF'
import json, struct, sys
out = {}
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        hdr = f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            _, _, caplen, length = struct.unpack("<IIII", h)
            d = f.read(caplen)
            if len(d) < 34 or d[12:14] != b"\x08\x00":
                continue
            ihl = (d[14] & 15) * 4
            proto = d[23]
            src = ".".join(map(str, d[26:30]))
            dst = ".".join(map(str, d[30:34]))
            if proto not in (6, 17) or len(d) < 14 + ihl + 4:
                continue
            sp, dp = struct.unpack("!HH", d[14 + ihl:18 + ihl])
            k = "%s %d %s %d %d" % (src, sp, dst, dp, proto)
            c = out.setdefault(k, [0, 0])
            c[0] += 1
            c[1] += length
print(json.dumps(out))
EOF

ipfixDump --rfc5610 -d -i "$IPFIX" >"$T/ipfix.txt" 2>"$T/ipfix.err"
check "ipfixDump reads what the collector received" test -s "$T/ipfix.txt"

# The comparison, per connection of the HMI to the PLC on 7000, 502 and
# the UDP exchange: JSON totals (the last record) and IPFIX deltas (summed).
"$PYTHON" - "$T/truth.json" "$LOG" "$T/ipfix.txt" "$HMI" "$PLC" >"$T/compare.txt" <<'EOF'
import json, re, sys
truth = json.load(open(sys.argv[1]))
hmi, plc = sys.argv[4], sys.argv[5]
recs = [json.loads(l) for l in open(sys.argv[2]) if '"connection"' in l]
recs = [r for r in recs if r.get("type") == "connection"]
# ipfixDump -d: one block per record, "  name  : value" lines.
ipfix, cur = [], None
for line in open(sys.argv[3]):
    if "--- data record" in line:
        cur = {}
        ipfix.append(cur)
        continue
    # "\t(8)    sourceIPv4Address : 198.18.10.5"
    m = re.match(r"\s*\([0-9/]+\)(?:\s+\(S\))?\s+(\S+)\s+:\s?(.*)$", line)
    if m and cur is not None:
        cur[m.group(1)] = m.group(2).strip()
def num(x):
    return int(str(x).split()[0])
fails = 0
conns = [k for k in truth if k.startswith(hmi + " ")
         and k.split()[3] in ("7000", "502", "7001")]
for k in sorted(conns):
    src, sp, dst, dp, proto = k.split()
    fwd = truth[k]
    rev = truth.get("%s %s %s %s %s" % (dst, dp, src, sp, proto), [0, 0])
    js = [r for r in recs if r["src"] == src and r["sport"] == int(sp)
          and r["dport"] == int(dp)]
    if not js:
        print("FAIL %s: no JSON record" % k); fails += 1; continue
    last = js[-1]
    got = [last["packets_fwd"], last["bytes_fwd"], last["packets_rev"], last["bytes_rev"]]
    want = [fwd[0], fwd[1], rev[0], rev[1]]
    held = last["end_reason"] == "evicted"
    if held:
        # Evicted: the counters of the last sweep that saw it; the
        # connection was silent from then on.
        pass
    if got != want:
        print("FAIL %s json %s want %s (%s)" % (k, got, want, last["end_reason"])); fails += 1
    else:
        print("ok %s json %s %s" % (k, got, last["end_reason"]))
    ix = [r for r in ipfix if r.get("sourceIPv4Address") == src
          and num(r.get("sourceTransportPort", -1)) == int(sp)
          and num(r.get("destinationTransportPort", -1)) == int(dp)]
    if not ix:
        print("FAIL %s: no IPFIX record" % k); fails += 1; continue
    s = [sum(num(r.get(f, 0)) for r in ix) for f in
         ("packetDeltaCount", "octetDeltaCount", "reversePacketDeltaCount",
          "reverseOctetDeltaCount")]
    if s != want:
        print("FAIL %s ipfix %s want %s" % (k, s, want)); fails += 1
    else:
        print("ok %s ipfix %s" % (k, s))
print("connections %d" % len(conns))
sys.exit(1 if fails else 0)
EOF
rc=$?
diag "$(cat "$T/compare.txt")"
check "JSON and IPFIX records agree with the frames (packets, bytes per direction)" test $rc -eq 0
check "six connections compared (3 TCP, UDP, Modbus, held)" grep -q "^connections 6$" "$T/compare.txt"
check "the TCP connections end with fin" \
	test "$(jq -s '[.[] | select(.type == "connection" and .dport == 7000 and (.src | contains(".")) and .end_reason == "fin")] | length' "$LOG")" -eq 3
check "the Modbus record names its flow and functions 3 and 4" \
	log_has '.type == "connection" and .dport == 502 and .flow == "hmi-modbus" and .ics.functions == [3, 4] and .ics.requests.read == 3 and .ics.refused == 0'
check "records carry zones" log_has '.type == "connection" and .zone_from == "business" and .zone_to == "crane-control"'
check "the held connection had an interim record" log_has '.type == "connection" and .dport == 7000 and .record == "interim"'
check "IPFIX carries the flow name (enterprise element)" grep -q "hmi-modbus" "$T/ipfix.txt"
check "the IPv6 connection: a JSON record (fin) and an IPFIX record with IPv6 addresses" \
	log_has '.type == "connection" and .flow == "hmi-echo6" and .src == "'"$HMI6"'" and .end_reason == "fin"'
# (ipfixDump writes IPv6 addresses with every group in four digits)
check "... and an IPFIX record with sourceIPv6Address" grep -Eq "sourceIPv6Address +: 2001:0002::0010:0000:0000:0000:0005" "$T/ipfix.txt"
check "IPFIX flowEndReason 5 (lack of resources) for the eviction" grep -Eq "flowEndReason.*: *5" "$T/ipfix.txt"

# learn from the records: the policy's own flows come back, narrowed.
"$CG_BIN" learn "$T/policy.yaml" --log "$LOG" >"$T/learned.yaml" 2>"$T/learned.err"
check "learn --log prints a policy that passes check --strict" \
	"$CG_BIN" check --strict "$T/learned.yaml"
modbus_read_only() {
	grep -A5 -- "-tcp-modbus$" "$T/learned.yaml" | grep -q "modbus: read-only"
}
check "learn --log: the Modbus flow, read-only" modbus_read_only
check "learn --log: TCP 7000, UDP 7001 and 7002, Modbus, TCP 7000 over IPv6: 4 flows" \
	test "$(grep -c '^  - name:' "$T/learned.yaml")" -eq 4
check "learn --log: 4 connections on TCP 7000 (interim and end records count once)" \
	grep -q '^  # learned: 4 connections, first' "$T/learned.yaml" ||
	diag "$(cat "$T/learned.yaml")" \
		"$(jq -c 'select(.type == "connection" and .dport == 7000)' "$LOG")"
# The workflow's first step: zones only, in monitor mode. Nothing is
# admitted by a flow, so there are no connection records; learn reads the
# monitor events instead.
sed -e 's/^name: e2e-records$/name: e2e-monitor\nmode: monitor/' \
	-e '/^flows:/,$d' -e 's/^  connections: 1024$/  source_events_burst: 1000/' \
	"$T/policy.yaml" >"$T/monitor.yaml"
printf 'flows:\n  - {name: gateway-ssh, from: scada-hmi, to: self, proto: tcp, ports: [22]}\n' >>"$T/monitor.yaml"
MLOG=$T/monitor.jsonl
# The UDP flood's connections must be past their 2 s timeout when the
# monitor run first looks: a connection still live then is one it reports
# when it ends (rightly: nobody else will), and learn would propose it.
# An apply takes 0.2 s now, so the run can start within that timeout.
sleep 2.5
start_run "$MLOG" "$T/monitor.yaml" --log "$MLOG" --summary 0 || {
	echo "Bail out! run (monitor) did not start"
	exit 1
}
check "run applies the zones in monitor mode" wait_until 10 log_has '.type == "apply" and .ok' "$MLOG"
check "monitor: tcp passes" tcp_roundtrip biz "$PLC" 7000 "$T/in100" "$T/mout100"
in_ns biz timeout 10 "$PYTHON" - "$PLC" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 502), timeout=3)
req = bytes.fromhex("000100000006010300000001")
s.sendall(req)
got = b""
while len(got) < len(req):
    got += s.recv(64)
s.close()
EOF
check "monitor: a Modbus read passes" test $? -eq 0
sleep 0.5
kill -INT "$RUN_PID" 2>/dev/null
wait_until 5 bash -c "! kill -0 $RUN_PID" 2>/dev/null
"$CG_BIN" learn "$T/monitor.yaml" --log "$MLOG" >"$T/mlearned.yaml" 2>"$T/mlearned.err"
check "learn --log on monitor events: a policy that passes check --strict" \
	"$CG_BIN" check --strict "$T/mlearned.yaml"
check "learn --log on monitor events: TCP 7000 and Modbus (read-only), nothing back" \
	test "$(grep -c '^  - name:' "$T/mlearned.yaml")" -eq 2 -a \
	"$(grep -c 'modbus: read-only' "$T/mlearned.yaml")" -eq 1 ||
	diag "$(sed -n '/^flows:/,$p' "$T/mlearned.yaml")" \
		"$(jq -c 'select(.type == "event") | [.reason, .would, .proto, .src, .sport, .dst, .dport]' "$MLOG" | sort | uniq -c)"
tap_done
