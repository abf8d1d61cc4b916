#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/e2e.sh OUTDIR: end-to-end runs in network namespaces.
#
#   ${P}tx  eth0 ---- veth ---- gi$$  ${P}gw  gc$$ -- gp$$ (crane side, idle)
#   trafgen, CPU 0 (nice -20)   NAPI thread, CPU 1
#
# trafgen sends 64-byte UDP frames (60 bytes + FCS) from 198.18.250.1, a
# business host that no flow names, to crane host 198.19.0.1, port 9: a
# frame every system drops after consulting all of its rules. The
# gateway's receiving veth runs its NAPI poll in a kernel thread
# (threaded NAPI) pinned to CPU 1 at real-time priority (SCHED_FIFO 50,
# ahead of whatever else runs there), so that everything the receiver does
# for a frame (veth ring, XDP or the netdev ingress hook, the stack) is
# that thread's CPU time, apart from the sender's on CPU 0.
#
# Systems: none (the stack routes the frame into a blackhole route), a
# bare XDP_DROP, cranegate, xdp-filter (its installed program, an allow
# list of N source addresses and N ports), nftables in the netdev ingress
# hook with N linear rules and with one lookup in a set of N elements.
#
# cranegate-rnd and xdp-filter-rnd: the same systems, sent frames whose
# source address is random (trafgen saddr=drnd()), the classic spoofed
# flood: no frame's source was seen before (cranegate drops them as
# spoofed-source), at E2E_RND_SIZES rules (default: 1000).
#
# Each run is one of two kinds: `max`, trafgen as fast as it can send
# (received and dropped frames per second; which side was the
# bottleneck), and `rate`, a fixed E2E_RATE frames per second that every
# system but the slowest can take, so that the receiver's CPU time per
# frame is compared at the same load (NAPI's batches, and so its cost per
# frame, depend on the rate).
#
# Writes OUTDIR/e2e.csv (one line per run) and OUTDIR/e2e.log. Bounded:
# each run is E2E_SECONDS of traffic (and at most 2,000,000 frames per
# second of it); everything it creates is named with this run's prefix
# and removed in a trap on every exit path.

set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/bench/lib.sh"
OUT=${1:-$TOP/build/bench}
CGBENCH=$TOP/build/bench/cgbench
CRANEGATE=${CRANEGATE:-$TOP/build/cranegate}
SECS=${E2E_SECONDS:-2}
REPS=${E2E_REPS:-3}
RATE=${E2E_RATE:-100000}
SIZES=${E2E_SIZES:-10 1000 10000}
SYSTEMS=${E2E_SYSTEMS:-none xdp-drop cranegate xdp-filter cranegate-rnd xdp-filter-rnd nft-linear nft-set}
RND_SIZES=${E2E_RND_SIZES:-1000}

P=cgb$$
TX=${P}tx
GW=${P}gw
IF_IN=gi$$
IF_CR=gc$$
IF_CRP=gp$$
PIN=/sys/fs/bpf/cgbench-$$
SRC=198.18.250.1
DST=198.19.0.1
TMP=
CREATED=()
BG_PID=

log() {
	echo "$*" | tee -a "$OUT/e2e.log" >&2
}

skip() {
	echo "SKIP e2e: $*" | tee -a "$OUT/e2e.log" >&2
	exit 0
}

bench_traps "$GW"

mkdir -p "$OUT"
: >"$OUT/e2e.log"
[ "$(id -u)" -eq 0 ] || skip "needs root"
for tool in ip ethtool nsenter taskset chrt timeout trafgen jq; do
	command -v "$tool" >/dev/null || skip "$tool is missing (tests/lib/deps.sh installs it)"
done
[ -x "$CGBENCH" ] || skip "$CGBENCH is not built"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (sender on one, receiver on the other)"
TMP=$(mktemp -d "/tmp/cgbench-e2e.XXXXXX") || exit 1
mkdir -p "$TMP/state"

gw() { ip netns exec "$GW" "$@"; }

# ---------------------------------------------------------------- topology

ip netns add "$TX" && CREATED+=("$TX") &&
	ip netns add "$GW" && CREATED+=("$GW") || skip "cannot create namespaces"
ip -n "$TX" link add eth0 type veth peer name "$IF_IN" netns "$GW" &&
	ip -n "$GW" link add "$IF_CR" type veth peer name "$IF_CRP" &&
	ip -n "$TX" addr add "$SRC/16" dev eth0 &&
	ip -n "$GW" addr add 198.18.255.254/16 dev "$IF_IN" &&
	ip -n "$GW" addr add 198.19.255.254/17 dev "$IF_CR" || skip "cannot create the veths"
for l in lo eth0; do ip -n "$TX" link set "$l" up; done
for l in lo "$IF_IN" "$IF_CR" "$IF_CRP"; do ip -n "$GW" link set "$l" up; done
# The gateway forwards; what no filter drops ends in a blackhole route
# (no neighbour to resolve, no queue), the cheapest path of the stack.
gw sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.default.rp_filter=0 "net.ipv4.conf.$IF_IN.rp_filter=0"
ip -n "$GW" route add blackhole 198.19.0.0/16 metric 10
# Sender: no TSO/GSO, so that each frame is its own skb down to the veth.
ip netns exec "$TX" ethtool -K eth0 tso off gso off >/dev/null 2>&1
# Receiver: GRO on makes veth use NAPI even without XDP; threaded NAPI
# puts that poll in a kernel thread we can pin and time.
gw ethtool -K "$IF_IN" gro on >/dev/null 2>&1
gw sh -c "echo 1 > /sys/class/net/$IF_IN/threaded" 2>/dev/null ||
	log "note: threaded NAPI unavailable; receiver time from /proc/stat instead"
for _ in $(seq 50); do
	ip -n "$GW" link show dev "$IF_IN" | grep -q LOWER_UP && break
	sleep 0.1
done

GW_MAC=$(ip -n "$GW" -j link show dev "$IF_IN" | jq -r '.[0].address')
TX_MAC=$(ip -n "$TX" -j link show dev eth0 | jq -r '.[0].address')
cat >"$TMP/udp64.cfg" <<EOF
/* 64-byte frames on the wire: 14 + 20 + 8 + 18 bytes + 4 bytes FCS. */
{
	eth(da=$GW_MAC, sa=$TX_MAC, type=0x0800),
	ipv4(saddr=$SRC, daddr=$DST, ttl=64, proto=17, df),
	udp(sport=40000, dport=9),
	fill(0x00, 18)
}
EOF
sed 's/saddr=[0-9.]*/saddr=drnd()/' "$TMP/udp64.cfg" >"$TMP/udp64-rnd.cfg"

# The NAPI thread of the receiving veth (its comm is cut at 15 bytes).
napi_pid() {
	local want="napi/$IF_IN-"
	ps -eo pid=,comm= | awk -v w="${want:0:15}" 'index($2, w) == 1 { print $1; exit }'
}

# CPU time of a task in ns (sum_exec_runtime), or "".
task_ns() {
	[ -n "$1" ] && awk '/se.sum_exec_runtime/ { printf "%.0f", $3 * 1e6 }' "/proc/$1/sched" 2>/dev/null
}

# Busy time of CPU 1 in ns from /proc/stat (all but idle and iowait):
# the receiver's time when there is no NAPI thread to read.
cpu1_ns() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu1" { printf "%.0f", ($2+$3+$4+$7+$8+$9) * 1e9 / hz }' /proc/stat
}

# softirq and steal time of the whole machine in ns ("SOFTIRQ STEAL").
softirq_steal_ns() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.0f %.0f", $8 * 1e9 / hz, $9 * 1e9 / hz }' /proc/stat
}

ethstat() {
	gw ethtool -S "$IF_IN" 2>/dev/null | awk -v k="$1:" '$1 == k { print $2 }'
}

tx_stat() {
	ip -n "$TX" -j -s link show dev eth0 | jq -r ".[0].stats64.tx.$1"
}

nft_drops() {
	gw nft -j list table netdev "$P" 2>/dev/null |
		jq -r '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets] | add // 0'
}

# ---------------------------------------------------------------- systems

have() {
	case ${1%-rnd} in
	none | xdp-drop | xdp-filter) return 0 ;;
	cranegate) [ -x "$CRANEGATE" ] && mountpoint -q /sys/fs/bpf ;;
	nft-*) command -v nft >/dev/null ;;
	esac
}

why_not() {
	case ${1%-rnd} in
	cranegate) echo "build/cranegate is not built or bpffs is not mounted" ;;
	nft-*) echo "nft is missing (nftables)" ;;
	esac
}

setup() {
	local sys=${1%-rnd} n=$2
	case $sys in
	none) ;;
	xdp-drop) gw "$CGBENCH" attach drop "$IF_IN" ;;
	xdp-filter) gw "$CGBENCH" attach xdp-filter "$IF_IN" "$n" --proto udp ;;
	cranegate)
		"$CGBENCH" gen yaml "$n" --proto udp --ifaces "$IF_IN,$IF_CR" \
			--name "bench-$n" >"$TMP/policy.yaml" &&
			timeout 120 nsenter --net="/var/run/netns/$GW" "$CRANEGATE" apply \
				--pin-root "$PIN" --state-dir "$TMP/state" "$TMP/policy.yaml" >/dev/null
		;;
	nft-linear | nft-set)
		"$CGBENCH" gen "$sys" "$n" --proto udp --ifaces "$IF_IN,$IF_CR" \
			--name "$P" >"$TMP/rules.nft" &&
			timeout 300 ip netns exec "$GW" nft -f "$TMP/rules.nft"
		;;
	esac
}

teardown() {
	case ${1%-rnd} in
	xdp-drop | xdp-filter) ip -n "$GW" link set dev "$IF_IN" xdp off ;;
	cranegate)
		timeout 30 nsenter --net="/var/run/netns/$GW" "$CRANEGATE" detach \
			--pin-root "$PIN" --state-dir "$TMP/state" >/dev/null
		rm -rf "$PIN"
		;;
	nft-*) gw nft delete table netdev "$P" ;;
	esac
}

drops() {
	case ${1%-rnd} in
	none) echo 0 ;;
	nft-*) nft_drops ;;
	*) ethstat rx_queue_0_xdp_drops ;;
	esac
}

# run SYSTEM RULES REP MODE: one timed run (MODE max or rate); appends a
# CSV line.
run() {
	local sys=$1 n=$2 rep=$3 mode=$4 pps=2000000 napi t0 t1
	local tx0 tx1 rt0 rt1 rx0 rx1 d0 d1 c0 c1 s0 s1 st0 st1 sender cfg

	napi=$(napi_pid)
	# The receiver on CPU 1, ahead of whatever else runs there.
	if [ -n "$napi" ]; then
		taskset -pc 1 "$napi" >/dev/null 2>&1
		chrt -f -p 50 "$napi" 2>/dev/null
	fi
	tx0=$(tx_stat packets) rt0=$(tx_stat dropped) rx0=$(ethstat rx_queue_0_xdp_packets)
	d0=$(drops "$sys") c0=$(task_ns "$napi")
	read -r s0 st0 <<<"$(softirq_steal_ns)"
	[ -n "$c0" ] || c0=$(cpu1_ns)
	[ "$mode" = rate ] && pps=$RATE
	cfg=udp64.cfg
	[ "${sys%-rnd}" != "$sys" ] && cfg=udp64-rnd.cfg
	t0=$(date +%s%N)
	# Into a file, not $(...): a signal that arrives while bash waits in a
	# command substitution makes bash 5.2 fail to run the trap.
	timeout -s INT -k 5 "$SECS" ip netns exec "$TX" taskset -c 0 nice -n -20 \
		trafgen -i "$TMP/$cfg" -o eth0 -b "${pps}pps" --no-sock-mem -P 1 \
		-n $((SECS * pps)) >"$TMP/trafgen.out" 2>&1
	t1=$(date +%s%N)
	tx1=$(tx_stat packets) rt1=$(tx_stat dropped) rx1=$(ethstat rx_queue_0_xdp_packets)
	d1=$(drops "$sys")
	read -r s1 st1 <<<"$(softirq_steal_ns)"
	if [ -n "$(task_ns "$napi")" ]; then c1=$(task_ns "$napi"); else c1=$(cpu1_ns); fi
	# trafgen: "\r  N sec, M usec on CPU0 (P packets)": the sender's CPU.
	sender=$(tr -d '\r' <"$TMP/trafgen.out" |
		awk '/usec on CPU/ { s += $1 + $3 / 1e6 } END { printf "%.6f", s }')
	echo "$sys,$n,$rep,$mode,$t0,$t1,$((tx1 - tx0)),$((rt1 - rt0)),$((rx1 - rx0)),$((d1 - d0)),$((c1 - c0)),$((s1 - s0)),$((st1 - st0)),$sender" \
		>>"$OUT/e2e.csv"
	awk -F, '{ w = ($6 - $5) / 1e9; printf "  %-10s %6s rules  %s %-4s: sent %7.0f/s, received %7.0f/s, dropped %7.0f/s, receiver %6.0f ns/frame (busy %3.0f%%)\n",
		$1, $2, $3, $4, $7 / w, $9 / w, $10 / w, ($9 ? $11 / $9 : 0), 100 * $11 / ($6 - $5) }' \
		<<<"$(tail -1 "$OUT/e2e.csv")" | tee -a "$OUT/e2e.log" >&2
}

echo "system,rules,rep,mode,t0_ns,t1_ns,tx_packets,tx_rejected,rx_packets,dropped,rx_cpu_ns,softirq_ns,steal_ns,sender_cpu_s" \
	>"$OUT/e2e.csv"
log "e2e: $SECS s per run, $REPS runs each at full speed and at $RATE frames/s; receiver NAPI thread pid $(napi_pid || true)"

# The runs go in a subshell that this shell waits for: a signal then
# interrupts `wait` and the traps above run at once. (Run here, bash 5.2
# would often be inside a command substitution when a signal came, and
# there it fails to run the trap at all.)
measure_all() {
	local rep sys n sizes t
	# Repetition first, then system: a slow spell of this shared machine
	# then falls on every system alike rather than on one system's runs.
	for rep in $(seq "$REPS"); do
		for sys in $SYSTEMS; do
			if ! have "$sys"; then
				[ "$rep" -eq 1 ] && log "SKIP $sys: $(why_not "$sys")"
				continue
			fi
			case $sys in
			none | xdp-drop) sizes=0 ;;
			*-rnd) sizes=$RND_SIZES ;;
			*) sizes=$SIZES ;;
			esac
			for n in $sizes; do
				t=$(date +%s%N)
				if ! setup "$sys" "$n" >>"$OUT/e2e.log" 2>&1; then
					log "SKIP $sys at $n rules, run $rep: setup failed (see e2e.log)"
					teardown "$sys" >/dev/null 2>&1
					continue
				fi
				log "$sys, $n rules: set up in $(((($(date +%s%N) - t) / 1000000))) ms"
				run "$sys" "$n" "$rep" max
				run "$sys" "$n" "$rep" rate
				teardown "$sys" >>"$OUT/e2e.log" 2>&1
			done
		done
	done
}
measure_all &
BG_PID=$!
wait "$BG_PID"
BG_PID=
exit 0
