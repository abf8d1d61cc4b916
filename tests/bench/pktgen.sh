#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/pktgen.sh: drive a gateway under test with the kernel's
# pktgen, from a *separate sender machine* cabled to the gateway's
# interface. For real hardware only: `make bench` never runs it (this
# development machine has no pktgen module, and its benchmarks stay in
# namespaces). See tests/bench/README.md.
#
# One pktgen thread per CPU from FIRST_CPU on, each bound to its own TX
# queue of DEV, each sending COUNT frames of SIZE bytes (FCS included):
# UDP from the source range to DST_IP:DST_PORT, with the UDP source port
# varied over a range so that the gateway's NIC spreads the frames over
# its RX queues (RSS). Prints the packets and rate each thread achieved.
#
#   pktgen.sh -i DEV -m GW_MAC [-d DST_IP] [-s SRC_MIN-SRC_MAX] [-p PORT]
#             [-t THREADS] [-f FIRST_CPU] [-n COUNT] [-z SIZE] [-b BURST]
#             [-r RATE_PPS_PER_THREAD] [-w MAX_SECONDS]
#
# Defaults send denied traffic (port 9, a business host no flow names,
# to a crane host) from the benchmarking range 198.18.0.0/15: give the
# addresses of your own test network, never of production hosts. The run
# is bounded by COUNT per thread and by MAX_SECONDS, and pktgen is reset
# on every exit path.

set -euo pipefail

DEV=
DST_MAC=
DST_IP=198.19.0.1
SRC_RANGE=198.18.250.1-198.18.250.254
DST_PORT=9
THREADS=1
FIRST_CPU=0
COUNT=10000000
SIZE=64
BURST=32
RATE=0
MAX_SECONDS=120
PG=/proc/net/pktgen

usage() {
	sed -n '/^#   pktgen.sh/,/^#             \[-r/p' "$0" | sed 's/^# \{0,3\}//'
	exit "${1:-2}"
}

while getopts "i:m:d:s:p:t:f:n:z:b:r:w:h" opt; do
	case $opt in
	i) DEV=$OPTARG ;;
	m) DST_MAC=$OPTARG ;;
	d) DST_IP=$OPTARG ;;
	s) SRC_RANGE=$OPTARG ;;
	p) DST_PORT=$OPTARG ;;
	t) THREADS=$OPTARG ;;
	f) FIRST_CPU=$OPTARG ;;
	n) COUNT=$OPTARG ;;
	z) SIZE=$OPTARG ;;
	b) BURST=$OPTARG ;;
	r) RATE=$OPTARG ;;
	w) MAX_SECONDS=$OPTARG ;;
	h) usage 0 ;;
	*) usage ;;
	esac
done
[ -n "$DEV" ] && [ -n "$DST_MAC" ] || usage
[ "$(id -u)" -eq 0 ] || {
	echo "pktgen.sh: run as root" >&2
	exit 1
}
[ "$COUNT" -gt 0 ] || {
	echo "pktgen.sh: COUNT must be > 0 (pktgen's 0 means forever)" >&2
	exit 2
}
if [ ! -d "$PG" ]; then
	modprobe pktgen 2>/dev/null || true
	[ -d "$PG" ] || {
		echo "pktgen.sh: no $PG: this kernel has no pktgen (CONFIG_NET_PKTGEN)" >&2
		exit 1
	}
fi

pgset() {
	local file=$1
	shift
	echo "$*" >"$file"
	if ! grep -q '^Result: OK' "$file" 2>/dev/null && grep -q '^Result:' "$file"; then
		echo "pktgen.sh: '$*' -> $file: $(grep '^Result:' "$file")" >&2
		return 1
	fi
}

reset() {
	echo reset >"$PG/pgctrl" 2>/dev/null || true
}
trap reset EXIT
trap 'exit 130' INT TERM

reset
src_min=${SRC_RANGE%-*}
src_max=${SRC_RANGE#*-}
for ((t = 0; t < THREADS; t++)); do
	cpu=$((FIRST_CPU + t))
	thread=$PG/kpktgend_$cpu
	[ -e "$thread" ] || {
		echo "pktgen.sh: no pktgen thread on CPU $cpu" >&2
		exit 1
	}
	pgset "$thread" rem_device_all
	pgset "$thread" "add_device $DEV@$t"
	d=$PG/$DEV@$t
	pgset "$d" "count $COUNT"
	pgset "$d" "pkt_size $((SIZE - 4))"
	pgset "$d" "clone_skb 0"
	pgset "$d" "burst $BURST"
	pgset "$d" "queue_map_min $t"
	pgset "$d" "queue_map_max $t"
	pgset "$d" "dst_mac $DST_MAC"
	pgset "$d" "dst $DST_IP"
	pgset "$d" "src_min $src_min"
	pgset "$d" "src_max $src_max"
	pgset "$d" "udp_dst_min $DST_PORT"
	pgset "$d" "udp_dst_max $DST_PORT"
	# A different source-port range per thread: flows the gateway's NIC
	# hashes over its RX queues.
	pgset "$d" "udp_src_min $((1024 + t * 4096))"
	pgset "$d" "udp_src_max $((1024 + t * 4096 + 4095))"
	pgset "$d" "flag UDPSRC_RND"
	pgset "$d" "flag NO_TIMESTAMP"
	if [ "$RATE" -gt 0 ]; then
		pgset "$d" "ratep $RATE"
	else
		pgset "$d" "delay 0"
	fi
done

echo "pktgen.sh: $THREADS thread(s) on $DEV, $COUNT frames of $SIZE bytes each," \
	"to $DST_IP:$DST_PORT ($DST_MAC) from $SRC_RANGE; at most $MAX_SECONDS s" >&2
timeout -s INT "$MAX_SECONDS" sh -c "echo start > $PG/pgctrl" || true
for ((t = 0; t < THREADS; t++)); do
	echo "--- $DEV@$t"
	grep -A2 '^Result:' "$PG/$DEV@$t" || true
done
