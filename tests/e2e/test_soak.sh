#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The soak (`make soak`): SOAK_SECONDS (default 180) of mixed traffic
# through the sandbox topology while the loader, `cranegate run`, reloads
# the policy every second (SIGHUP, with the file switched between two
# policies that allow the same traffic and differ elsewhere). Then:
#
#  - counters add up: the frames the gate counted per reason equal the
#    frames that entered the gateway's interfaces (the hosts' transmit
#    counters, less the frames their veths dropped), exactly; and for every
#    drop reason, events emitted + lost + suppressed = drops;
#  - nothing allowed was lost (numbered UDP datagrams, pings, TCP round
#    trips) and nothing denied got through (a UDP port that both policies
#    drop, spoofed sources);
#  - memory stays flat: the loader's resident set (sampled every 5 s), the
#    kernel memory of the gate's maps, and no program of an earlier reload
#    left alive.
#
# Figures go to the TAP comments and to build/soak/report.md.
# Environment: SOAK_SECONDS, SOAK_RSS_GROWTH_KB (allowed loader growth
# after the first minute, default 1024).

. "$(dirname "$0")/lib.sh"

CG_PIN_ROOT=/sys/fs/bpf/cg-$P

sandbox_up
T=$CG_TMP
SECS=${SOAK_SECONDS:-180}
GROWTH_KB=${SOAK_RSS_GROWTH_KB:-1024}
HOSTS=(biz plc cam mgt)
REPORT_DIR=$CG_TOP/build/soak
mkdir -p "$REPORT_DIR"

# ---------------------------------------------------------------- policies
policy() { # NAME EXTRA_FLOW_LINES
	cat <<EOF
version: 1
name: $1
EOF
	topo_zones
	cat <<EOF
hosts:
  scada-hmi: 198.18.10.5
  scada-hmi6: 2001:2:0:10::5
  plc-hoist: 198.18.20.11
  laptop: 198.18.30.9
flows:
  - name: hmi-pings-plcs
    from: scada-hmi
    to: crane-control
    proto: icmp
  - name: hmi-pings-plcs-v6
    from: scada-hmi6
    to: crane-control
    proto: icmpv6
  - name: hmi-streams-to-hoist
    from: scada-hmi
    to: plc-hoist
    proto: udp
    ports: [5000]
  - name: laptop-echo
    from: laptop
    to: plc-hoist
    proto: tcp
    ports: [7000]
$2
EOF
}
policy soak-a "  - name: mgmt-ssh
    from: crane-mgmt
    to: crane-control
    proto: tcp
    ports: [22]" >"$T/a.yaml"
# B has the same shape (so the same map sizes), another port and logging.
policy soak-b "  - name: mgmt-ssh
    from: crane-mgmt
    to: crane-control
    proto: tcp
    ports: [2222]
    log: true" >"$T/b.yaml"
cp "$T/a.yaml" "$T/live.yaml"
chmod 0644 "$T/live.yaml"

# ---------------------------------------------------------------- helpers
# Frames that entered the gateway: what the hosts' veth ends sent, less
# what their veths dropped on the way in.
gate_input() {
	local h sum=0 tx drop
	for h in "${HOSTS[@]}"; do
		read -r tx drop < <(ip -n "$P$h" -j -s link show dev eth0 |
			jq -r '.[0].stats64.tx | "\(.packets) \(.dropped)"')
		sum=$((sum + tx - drop))
	done
	echo "$sum"
}

# Frames the gate counted, over every reason.
gate_counted() {
	jq -r '[.reasons[]?.packets] | add // 0' <<<"${1:-$(cg_status_json)}"
}

# The kernel memory of the gate's maps: the pinned program's and the
# pinned ones, in bytes.
map_memory() {
	local prog ids
	prog=$(bpftool -j prog show pinned "$CG_PIN_ROOT/prog" 2>/dev/null || echo '{}')
	ids=$(jq -c '.map_ids // []' <<<"$prog")
	bpftool -j -f map show | jq --arg root "$CG_PIN_ROOT/" --argjson ids "$ids" \
		'[.[] | select((.id as $i | $ids | index($i)) or ([.pinned[]? | startswith($root)] | any)) |
		  .bytes_memlock] | add // 0'
}

# The same, read until two reads agree: a reload that completes between
# the program's listing and the maps' frees the old instance's maps.
map_memory_stable() {
	local a b
	b=$(map_memory)
	for _ in 1 2 3 4 5; do
		a=$b
		b=$(map_memory)
		[ "$a" = "$b" ] && break
	done
	echo "$b"
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# ---------------------------------------------------------------- start
cg_bg $((SECS + 120)) "$T/run.log" run "$T/live.yaml" --summary 0
run_wrapper=$CG_LAST_PID
wait_until 30 bash -c "[ \"\$(nsenter --net=/var/run/netns/${P}gw $CG_BIN status --json \
	--pin-root $CG_PIN_ROOT --state-dir $CG_STATE_DIR 2>/dev/null | jq -r .policy.name)\" = soak-a ]" ||
	{
		not_ok "cranegate run applies the first policy" "$(head -c 2000 "$T/run.log.err")"
		tap_done
		exit 1
	}
ok "cranegate run applied soak-a"
# The loader itself: timeout's child (nsenter and stdbuf exec it).
loader=$(pgrep -P "$run_wrapper" | head -1)
diag "loader pid ${loader:-?}"

tcp_echo_server plc 7000 $((SECS + 60)) || diag "the echo server did not start"
tcp_echo_server plc 22 $((SECS + 60)) || diag "the ssh stand-in did not start"
head -c 4000 /dev/urandom >"$T/blob"

# A snapshot of both sides that no frame crossed between: read until the
# input is the same before and after the gate's counters.
snapshot() { # prints "INPUT" and leaves the status in $T/status.json
	local a b
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		a=$(gate_input)
		cg_status_json >"$T/status.json"
		b=$(gate_input)
		[ "$a" = "$b" ] && break
		sleep 0.3
	done
	echo "$a"
}
in0=$(snapshot)
st0=$(cat "$T/status.json")
counted0=$(gate_counted "$st0")
mem0=$(map_memory)
diag "before: gate input $in0 frames, counted $counted0, map memory $mem0 bytes"

# ---------------------------------------------------------------- traffic
bg_in_ns $((SECS + 60)) plc "$PYTHON" "$T/udpseq.py" recv $PLC 5000 --denied-port 5001 \
	--max-time $((SECS + 40)) --ready "$T/ready" >"$T/recv.json"
recv_pid=$CG_LAST_PID
wait_until 5 test -e "$T/ready" || diag "the UDP receiver did not start"
bg_in_ns $((SECS + 60)) biz "$PYTHON" "$T/udpseq.py" send $PLC 5000 --denied-port 5001 \
	--interval 0.004 --stop-file "$T/stop" --max-time $((SECS + 30)) >"$T/send.json"
send_pid=$CG_LAST_PID
n_ping=$((SECS * 20))
bg_in_ns $((SECS + 60)) biz ping -q -n -i 0.05 -c $n_ping -W 2 $PLC >"$T/ping.out" 2>&1
ping_pid=$CG_LAST_PID
bg_in_ns $((SECS + 60)) biz ping -6 -q -n -i 0.05 -c $n_ping -W 2 $PLC6 >"$T/ping6.out" 2>&1
ping6_pid=$CG_LAST_PID
# Denied: spoofed sources from the camera network, a port both drop.
bg_in_ns $((SECS + 60)) cam timeout $((SECS + 30)) "$PYTHON" "$T/frame.py" --iface eth0 \
	--dst-mac "$(gw_mac cctv0)" --src 198.18.99.7 --dst $PLC --dport 161 \
	--count $((SECS * 20)) --interval 0.05
spoof_pid=$CG_LAST_PID

# TCP round trips and the reload ticks, in the foreground, for SECS.
tcp_ok=0 tcp_fail=0 hups=0 samples=() progs=()
next_sample=$SECONDS
end=$((SECONDS + SECS))
tick=0
while [ $SECONDS -lt $end ]; do
	tick=$((tick + 1))
	# Switch the file by rename, as an operator's tooling should: a
	# reload that reads a half-written file refuses it (and keeps the
	# running policy), which is not what this test is about.
	if ((tick % 2)); then next=b; else next=a; fi
	cp "$T/$next.yaml" "$T/live.yaml.new" && mv -f "$T/live.yaml.new" "$T/live.yaml"
	kill -HUP "$loader" 2>/dev/null && hups=$((hups + 1))
	if tcp_roundtrip mgt $PLC 7000 "$T/blob" "$T/blob.out"; then
		tcp_ok=$((tcp_ok + 1))
	else
		tcp_fail=$((tcp_fail + 1))
	fi
	st=$(cg_status_json)
	progs+=("$(jq -r '.policy.program_id // empty' <<<"$st")")
	if [ $SECONDS -ge $next_sample ]; then
		pol=$(cg_policy_field name)
		mem=$(map_memory_stable)
		# A reload in between: the memory belongs to neither name.
		[ "$(cg_policy_field name)" = "$pol" ] || pol=-
		samples+=("$((SECONDS - end + SECS)) $(rss_kb "$loader") $mem $pol")
		next_sample=$((SECONDS + 5))
	fi
	sleep 0.5
done
touch "$T/stop"
wait "$send_pid" "$recv_pid" "$ping_pid" "$ping6_pid" "$spoof_pid" 2>/dev/null
sleep 2

# ---------------------------------------------------------------- figures
alive=no
kill -0 "$loader" 2>/dev/null && alive=yes
expect "the loader is alive after ${SECS} s and $hups reloads" "$alive" = yes
reloads=$(grep -c '"type": "apply"' "$T/run.log")
refused=$(grep '"type": "apply"' "$T/run.log" | grep -c '"ok": false')
diag "reloads: $hups SIGHUPs sent, $reloads applies logged, $refused refused"
[ "$refused" -gt 0 ] && diag "$(grep '"ok": false' "$T/run.log" | head -3)"
expect "the loader applied at least one reload every 3 s" "$reloads" -ge $((SECS / 3))
expect "no reload was refused" "$refused" -eq 0

# Counters add up.
in1=$(snapshot)
st1=$(cat "$T/status.json")
counted1=$(gate_counted "$st1")
seen=$((in1 - in0))
counted=$((counted1 - counted0))
diag "frames into the gateway: $seen; counted by the gate over all reasons: $counted"
expect "per-reason counters sum to the frames the gate saw" "$counted" -eq "$seen"
jq -r '.reasons | to_entries[] | "#   \(.key) \(.value.packets)"' <<<"$st1"
bad_events=$(jq -r --argjson first_drop 6 '
	. as $s | [.reasons | to_entries[] | select(.key as $k |
		["no-rule","unknown-zone","spoofed-source","multi-homed","vlan-violation",
		 "ics-denied","fragment","malformed","ethertype","stream"] | index($k)) |
	{r: .key, drops: .value.packets,
	 ev: (($s.events.by_reason[.key] // {}) | ((.emitted // 0) + (.lost // 0) + (.suppressed // 0)))} |
	select(.drops != .ev) | "\(.r): \(.drops) drops, \(.ev) events"] | join("; ")' <<<"$st1")
expect "every drop is an event: emitted + lost + suppressed = drops, per reason" "${bad_events:-all add up}" = "all add up"
ev=$(jq -c '.events | {emitted, lost, suppressed}' <<<"$st1")
diag "events: $ev"

sent=$(jq -r '.sent // 0' "$T/send.json" 2>/dev/null)
received=$(jq -r '.received // 0' "$T/recv.json" 2>/dev/null)
denied=$(jq -r '.denied // "?"' "$T/recv.json" 2>/dev/null)
diag "UDP 5000: sent $sent, received $received; UDP 5001 (denied) received $denied"
expect "UDP 5000 (allowed): not one datagram lost across $reloads reloads" "${received:-0}" -eq "${sent:-x}"
expect "UDP 5001 (denied by both): not one datagram through" "${denied:-x}" -eq 0
ping_tx() { sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) \(packets \)\{0,1\}received.*/\1 \2/p' "$1"; }
read -r tx rx <<<"$(ping_tx "$T/ping.out")"
expect "ICMP: $tx echoes, none lost" "${rx:-0}" -eq "${tx:-x}"
read -r tx6 rx6 <<<"$(ping_tx "$T/ping6.out")"
expect "ICMPv6: $tx6 echoes, none lost" "${rx6:-0}" -eq "${tx6:-x}"
expect "TCP round trips: $tcp_ok whole, none failed" "$tcp_fail" -eq 0
spoofed=$(cg_reason spoofed-source "$st1")
expect "the spoofed frames were dropped and counted" "$spoofed" -ge $((SECS * 10))

# Memory.
diag "samples (seconds, loader RSS KiB, map memory bytes, active policy):"
printf '#   %s\n' "${samples[@]}"
rss_first='' rss_max=0 rss_last='' mem_min='' mem_max=0
declare -A mem_of
mem_flat=yes
for s in "${samples[@]}"; do
	read -r t rss mem pol <<<"$s"
	[ -z "$rss" ] && continue
	if [ "$t" -ge 60 ] || [ "$SECS" -lt 120 ]; then
		[ -z "$rss_first" ] && rss_first=$rss
		[ "$rss" -gt "$rss_max" ] && rss_max=$rss
	fi
	rss_last=$rss
	{ [ -z "$mem_min" ] || [ "$mem" -lt "$mem_min" ]; } && mem_min=$mem
	[ "$mem" -gt "$mem_max" ] && mem_max=$mem
	# The same policy must always take the same memory.
	[ "$pol" = - ] && continue
	if [ -n "${mem_of[$pol]:-}" ] && [ "${mem_of[$pol]}" != "$mem" ]; then
		mem_flat="no: $pol took ${mem_of[$pol]} and $mem bytes"
	fi
	mem_of[$pol]=$mem
done
growth=$((${rss_max:-0} - ${rss_first:-0}))
diag "loader RSS: ${rss_first:-?} KiB after warm-up, ${rss_max} KiB at most, ${rss_last:-?} KiB at the end"
expect "the loader's memory stays flat (growth ${growth} KiB <= ${GROWTH_KB} KiB)" "$growth" -le "$GROWTH_KB"
diag "gate map memory: ${mem_min:-?} .. ${mem_max} bytes"
expect "the gate's map memory stays flat (each policy always the same)" "$mem_flat" = yes
# Every reload's program must be gone but the last.
live=$(cg_policy_field program_id)
leaked=0 n_progs=0
for id in $(printf '%s\n' "${progs[@]}" | sort -un); do
	n_progs=$((n_progs + 1))
	[ "$id" = "$live" ] && continue
	if bpftool prog show id "$id" >/dev/null 2>&1; then
		leaked=$((leaked + 1))
		diag "left: $(bpftool prog show id "$id" 2>&1 | tr '\n' ' ')"
	fi
done
expect "none of the $n_progs programs seen during the soak but the live one is left" "$leaked" -eq 0

total=$(gate_counted "$st1")
{
	echo "# make soak, $(date -u '+%Y-%m-%d %H:%M UTC'), ${SECS} s"
	echo
	echo "| figure | value |"
	echo "| --- | --- |"
	echo "| reloads (SIGHUP sent / applied / refused) | $hups / $reloads / $refused |"
	echo "| frames into the gateway / counted by the gate | $seen / $counted |"
	echo "| UDP 5000 sent / received; 5001 let through | $sent / $received; $denied |"
	echo "| ICMP / ICMPv6 echoes (sent / answered) | $tx / $rx; $tx6 / $rx6 |"
	echo "| TCP round trips (whole / failed) | $tcp_ok / $tcp_fail |"
	echo "| events | $ev |"
	echo "| loader RSS KiB (after warm-up / max / end) | ${rss_first:-?} / $rss_max / ${rss_last:-?} |"
	echo "| gate map memory bytes (min / max) | ${mem_min:-?} / $mem_max |"
	echo "| programs of earlier reloads left | $leaked |"
	echo "| all frames counted since the gate started | $total |"
} >"$REPORT_DIR/report.md"
diag "report: $REPORT_DIR/report.md"

tap_done
