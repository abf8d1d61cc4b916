#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: event rate limits per (reason, source), per-interface
# counters and the ICS series, through `cranegate run` with its log and
# /metrics. One source floods a drop reason while a second source of the
# same reason sends a few frames in between: every event of the second
# source reaches the log, the flooder's stay within its bucket (burst +
# rate x time), and emitted + lost + suppressed = frames, per reason. The
# per-interface counters add up to the frames sent on each interface and
# survive a reload; /metrics carries the interface, suppressed-by-source
# and ICS series and agrees with `status --json`; the summary records
# report suppressed-by-source and drops per interface; `top` lists the
# busiest (interface, reason) pairs. TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up curl unshare
T=$CG_TMP
LOG=$T/run.jsonl
PORT=$((20000 + RANDOM % 20000))
SRC_RATE=5
SRC_BURST=10
FLOOD=${CG_FLOOD:-4000}
OTHER=5

policy() { # NAME
	cat <<EOF
version: 1
name: $1
limits:
  source_events_per_second: $SRC_RATE
  source_events_burst: $SRC_BURST
  events_per_second: 1000
  events_burst: 500
$(topo_zones)
hosts:
  scada-hmi: 198.18.10.5
flows:
  - name: scada-polls-plcs
    from: scada-hmi
    to: crane-control
    proto: tcp
    ports: [502]
    modbus: read-only
EOF
}
policy events-a >"$T/policy.yaml"

cat >"$T/mix.py" <<'EOF'
# mix.py IFACE DST_MAC SRC_A SRC_B DST N K: N copies of one UDP frame from
#   SRC_A with K frames from SRC_B spread evenly among them (the first
#   after N/(K+1) frames of A); prints the seconds it took.
# mix.py udp IFACE DST_MAC SRC DST N: N UDP frames from SRC.
import socket, struct, sys, time

def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def frame(eth, src, dst):
    udp = struct.pack("!HHHH", 40000, 9, 8 + 32, 0) + b"m" * 32
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 7, 0, 64, 17,
                    0, socket.inet_aton(src), socket.inet_aton(dst))
    return eth + b"\x08\x00" + h[:10] + struct.pack("!H", csum(h)) + h[12:] + udp

if sys.argv[1] == "udp":
    iface, dmac, src, dst, n = sys.argv[2:7]
    a = b = src
    n, k = int(n), 0
else:
    iface, dmac, a, b, dst, n, k = sys.argv[1:8]
    n, k = int(n), int(k)
with open("/sys/class/net/%s/address" % iface) as f:
    smac = bytes.fromhex(f.read().strip().replace(":", ""))
eth = bytes.fromhex(dmac.replace(":", "")) + smac
fa, fb = frame(eth, a, dst), frame(eth, b, dst)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
every = n // (k + 1) if k else 0
t = time.monotonic()
sent_b = 0
for i in range(n):
    s.send(fa)
    if k and sent_b < k and (i + 1) % every == 0:
        s.send(fb)
        sent_b += 1
print("%.6f" % (time.monotonic() - t))
EOF

metrics() {
	in_ns gw curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics"
}

# metric TEXT NAME{LABELS}: the value of one sample (empty if absent).
metric() {
	awk -v k="$2" '$1 == k { print $2 }' <<<"$1"
}

# ev REASON [JSON]: emitted lost suppressed suppressed_by_source of a reason.
ev() {
	jq -r --arg r "$1" '.events.by_reason[$r] // {} |
		[.emitted // 0, .lost // 0, .suppressed // 0, .suppressed_by_source // 0] | join(" ")' \
		<<<"${2:-$(cg_status_json)}"
}

# ifc IFACE REASON [JSON]: frames of a reason counted on an interface.
ifc() {
	jq -r --arg i "$1" --arg r "$2" \
		'[.interfaces[]? | select(.iface == $i) | .reasons[$r].packets // 0] | add // 0' \
		<<<"${3:-$(cg_status_json)}" | _number
}

# logged SRC: event records of a source in the log.
logged() {
	jq -c --arg s "$1" 'select(.type == "event" and .src == $s)' "$LOG" 2>/dev/null | grep -c .
}

# ================================================================ run
start_run "$T/run.out" "$T/policy.yaml" --log "$LOG" --metrics "127.0.0.1:$PORT" --summary 1
if wait_until 15 log_has '.type == "apply" and .ok'; then
	ok "run applies the policy with event limits"
else
	not_ok "run applies the policy with event limits" "$(cat "$T/run.out.err" 2>/dev/null)"
fi
wait_until 5 _listening gw "$PORT"
st=$(cg_status_json)
expect "status --json lists the four interfaces with counters, attached" \
	"$(jq -r '[.interfaces[] | select(.attached) | .iface] | sort | join(" ")' <<<"$st")" = "biz0 cctv0 crane0 mgmt0"

# ---- a flood from one source, a few frames from another, same reason
A=198.18.30.200 # a crane-mgmt address on biz0: multi-homed
B=198.18.20.99  # a crane-control address on biz0: multi-homed
biz_gw=$(gw_mac biz0)
mgmt_gw=$(gw_mac mgmt0)
st0=$(cg_status_json)
read -r e0 l0 s0 ss0 <<<"$(ev multi-homed "$st0")"
p0=$(cg_reason multi-homed "$st0")
declare -A if0
for i in biz0 crane0 cctv0 mgmt0; do
	if0[$i]=$(ifc "$i" multi-homed "$st0")
done
secs=$(in_ns biz timeout 60 "$PYTHON" "$T/mix.py" eth0 "$biz_gw" $A $B $PLC "$FLOOD" "$OTHER")
sent=$((FLOOD + OTHER))
wait_until 5 bash -c "[ \$(nsenter --net=/var/run/netns/${P}gw $CG_BIN status --json --pin-root $CG_PIN_ROOT --state-dir $CG_STATE_DIR | jq '.reasons[\"multi-homed\"].packets') -ge $((p0 + sent)) ]"
st1=$(cg_status_json)
read -r e1 l1 s1 ss1 <<<"$(ev multi-homed "$st1")"
p1=$(cg_reason multi-homed "$st1")
expect "flood: the gate counted the $sent multi-homed frames" $((p1 - p0)) -eq "$sent"
expect "... emitted + lost + suppressed events = frames" \
	$((e1 - e0 + l1 - l0 + s1 - s0)) -eq "$sent"
wait_until 10 bash -c "[ \$(jq -c 'select(.type == \"event\" and .reason == \"multi-homed\")' '$LOG' | grep -c .) -ge $((e1 - e0)) ]"
nb=$(logged $B)
na=$(logged $A)
expect "every event of the other source reached the log ($OTHER frames amid the flood)" "$nb" -eq "$OTHER"
# Tokens: SRC_BURST to start, SRC_RATE a second; `secs` (measured around
# the whole send) is at least the flood's span in the kernel.
hi=$(awk -v b="$SRC_BURST" -v r="$SRC_RATE" -v t="$secs" 'BEGIN { printf "%d", b + r * t + 1 }')
expect "the flooder's events stay within burst + rate x time (<= $hi, flood took ${secs}s)" "$na" -le "$hi"
expect "... and it got its burst" "$na" -ge "$SRC_BURST"
expect "every emitted event reached the log" $((na + nb)) -eq $((e1 - e0))
expect "the rest was suppressed by the source's limit, not the ceiling" \
	$((ss1 - ss0)) -eq $((s1 - s0))
expect "... and that is most of the flood" $((ss1 - ss0)) -ge $((FLOOD - hi))

# ---- per-interface counters: exactly the frames sent where they were sent
expect "biz0 counted the $sent multi-homed frames" \
	$(($(ifc biz0 multi-homed "$st1") - ${if0[biz0]})) -eq "$sent"
for i in crane0 cctv0 mgmt0; do
	expect "... and $i none of them" $(($(ifc "$i" multi-homed "$st1") - ${if0[$i]})) -eq 0
done
K=37
n0m=$(ifc mgmt0 no-rule)
n0b=$(ifc biz0 no-rule)
in_ns mgt timeout 30 "$PYTHON" "$T/mix.py" udp eth0 "$mgmt_gw" $MGT $PLC $K >/dev/null
wait_until 5 bash -c "[ \$(nsenter --net=/var/run/netns/${P}gw $CG_BIN status --json --pin-root $CG_PIN_ROOT --state-dir $CG_STATE_DIR | jq '[.interfaces[] | select(.iface == \"mgmt0\") | .reasons[\"no-rule\"].packets // 0] | add') -ge $((n0m + K)) ]"
st2=$(cg_status_json)
expect "mgmt0 counted the $K no-rule frames sent on it" $(($(ifc mgmt0 no-rule "$st2") - n0m)) -eq $K
expect "... and biz0 none" $(($(ifc biz0 no-rule "$st2") - n0b)) -eq 0
# Every frame arrives on an attached interface, so the interfaces add up
# to the reasons (compared as of one moment: hosts keep chattering).
sums_agree() {
	local j
	j=$(cg_status_json)
	jq -e '([.interfaces[].reasons[]?.packets] | add) == ([.reasons[].packets] | add)' <<<"$j" >/dev/null ||
		{ jq -c '[([.interfaces[].reasons[]?.packets] | add), ([.reasons[].packets] | add)]' <<<"$j"; return 1; }
}
if wait_until 5 sums_agree; then
	ok "all interfaces' counters add up to all reasons' counters"
else
	not_ok "all interfaces' counters add up to all reasons' counters" "$(sums_agree)"
fi
st_text=$(cg status)
expect "status shows the interface and its multi-homed drops" \
	"$(grep -cE '^  biz0 +[0-9]+ packets|^    multi-homed +[0-9]+ packets' <<<"$st_text")" -ge 2
expect "status shows suppressed events by source" \
	"$(grep -c 'by the per-source limit' <<<"$st_text")" -eq 1

# ---- ICS requests: a read passes, a write drops
tcp_echo_server plc 502 120
mb=$(modbus_exchange biz $PLC "$(modbus_hex 2 6 00010003)" | tail -1)
expect "a Modbus write on the read-only flow is dropped" "$mb" = dropped

# ---- metrics
scrape=$(metrics)
st3=$(cg_status_json)
lbl='[a-z_][a-z0-9_]*="([^"\\]|\\.)*"'
bad=$(grep -vE "^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{$lbl(,$lbl)*\})? [0-9.e+-]+)\$" <<<"$scrape" | head -3)
expect "every line of /metrics parses as HELP, TYPE or a sample" "$bad" = ""
for fam in interface_packets_total interface_bytes_total events_suppressed_by_source_total \
	ics_requests_total ics_bytes_total; do
	expect "cranegate_$fam is declared once, as a counter" \
		"$(grep -c "^# TYPE cranegate_$fam counter$" <<<"$scrape")" -eq 1
done
expect "interface_packets_total has every reason of every interface" \
	"$(grep -c '^cranegate_interface_packets_total{' <<<"$scrape")" -eq $((4 * 16))
same_if() { # IFACE REASON: metrics and status agree (fresh reads of both)
	local m st
	m=$(metric "$(metrics)" "cranegate_interface_packets_total{iface=\"$1\",reason=\"$2\",verdict=\"drop\"}")
	st=$(ifc "$1" "$2")
	[ "$m" = "$st" ] && [ "$m" -ge 1 ] || { echo "metrics: '$m', status: '$st'"; return 1; }
}
for pair in "biz0 multi-homed" "mgmt0 no-rule"; do
	if wait_until 3 same_if $pair; then
		ok "interface_packets_total{${pair/ /,}} = status's count"
	else
		not_ok "interface_packets_total{${pair/ /,}} = status's count" "$(same_if $pair)"
	fi
done
expect "events_suppressed_by_source_total{multi-homed} = status's count" \
	"$(metric "$scrape" 'cranegate_events_suppressed_by_source_total{reason="multi-homed"}')" = \
	"$(ev multi-homed "$st3" | cut -d' ' -f4)"
ics_st() { # FUNCTION VERDICT: requests counted in status --json
	jq -r --argjson f "$1" --arg v "$2" \
		'[.ics[] | select(.flow == "scada-polls-plcs" and .protocol == "modbus" and .function == $f and .verdict == $v) | .packets] | add // 0' \
		<<<"$st3"
}
# The client retransmits the dropped write: each copy is a request.
w=$(ics_st 6 drop)
expect "status counts the dropped write (and its retransmissions)" "$w" -ge 1
expect "ics_requests_total{function=6,verdict=drop} = status's count" \
	"$(metric "$scrape" 'cranegate_ics_requests_total{flow="scada-polls-plcs",protocol="modbus",function="6",verdict="drop"}')" = "$w"
expect "ics_requests_total{function=3,verdict=pass} = status's count" \
	"$(metric "$scrape" 'cranegate_ics_requests_total{flow="scada-polls-plcs",protocol="modbus",function="3",verdict="pass"}')" = "$(ics_st 3 pass)"
once=$(cg metrics)
expect "\`cranegate metrics\` has the ICS series too" \
	"$(grep -c '^cranegate_ics_requests_total{flow="scada-polls-plcs",protocol="modbus",function="6",verdict="drop"} '"$w"'$' <<<"$once")" -eq 1

# ---- summaries: suppressed by source, drops per interface
if wait_until 5 log_has '.type == "summary" and (.reasons["multi-homed"].suppressed_by_source // 0) > 0'; then
	ok "a summary reports the events suppressed by source"
else
	not_ok "a summary reports the events suppressed by source" "$(grep summary "$LOG" | tail -2)"
fi
if wait_until 5 log_has '.type == "summary" and (.events.suppressed_by_source // 0) > 0'; then
	ok "... in its totals too"
else
	not_ok "... in its totals too"
fi
# After one more summary, the summaries' drops on biz0 add up to its count.
nsum=$(grep -c '"type": "summary"' "$LOG")
wait_until 5 bash -c "[ \$(grep -c '\"type\": \"summary\"' '$LOG') -gt $nsum ]"
expect "the summaries' multi-homed drops on biz0 add up to status's count" \
	"$(jq -s '[.[] | select(.type == "summary") | .interfaces.biz0.drops["multi-homed"] // 0] | add' "$LOG")" \
	-eq "$(ifc biz0 multi-homed)"

# ---- top: the busiest (interface, reason) pairs
top_out=$(timeout 20 nsenter --net="/var/run/netns/${P}gw" "$CRANEGATE" top --count 1 \
	--pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" 2>&1)
expect "top lists biz0's multi-homed drops" \
	"$(grep -cE '^biz0 multi-homed +drop +[0-9]+ +[0-9]+ +[0-9]+$' <<<"$top_out")" -eq 1

# ---- reload: the interface counters carry over
before=$(ifc biz0 multi-homed)
policy events-b >"$T/policy.yaml"
kill -HUP "$RUN_PID"
if wait_until 30 log_has '.type == "apply" and .trigger == "sighup" and .ok'; then
	ok "SIGHUP applies the changed policy"
else
	not_ok "SIGHUP applies the changed policy" "$(tail -3 "$T/run.out.err")"
fi
expect "biz0's multi-homed count survives the reload" "$(ifc biz0 multi-homed)" -eq "$before"

kill -TERM "$RUN_PID" 2>/dev/null
wait_until 10 log_has '.type == "stop"'
tap_done
