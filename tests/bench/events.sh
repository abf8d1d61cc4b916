#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/events.sh OUTDIR: events through the whole pipeline, and
# what they cost the data plane.
#
#   1. pipeline: a gate applied by `cranegate run --log FILE` in a
#      namespace of its own, with the event limits raised out of the way
#      (events_per_second 1,000,000 per CPU, no per-source limit); `cgbench
#      drive` runs dropped frames through the pinned live program
#      (BPF_PROG_TEST_RUN, as if they arrived on the gate's interface) at
#      paced rates and flat out. Measured: frames offered per second, events
#      emitted into the ring buffer, lost (ring buffer full), suppressed, and
#      JSON lines written to the log per second (from the first frame to the
#      last line). run's syslog(3) lines go nowhere (a private /dev without
#      /dev/log; run then sends none): their cost depends on the syslog
#      daemon and is not here, unless EV_SYSLOG=1 (socat reads them).
#   2. data plane: cgbench events (see tests/bench/events.c).
#
# Writes OUTDIR/events-pipeline.csv and OUTDIR/events.csv (EV_COST=0 skips
# part 2). Runs in a
# namespace of its own with a per-run name, removed in a trap on every exit
# path, with a pin root of its own.

set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/bench/lib.sh"
OUT=${1:-$TOP/build/bench}
CGBENCH=$TOP/build/bench/cgbench
CRANEGATE=${CRANEGATE:-$TOP/build/cranegate}
# Offered rates (frames/s; 0 = as fast as test runs go) and seconds each.
RATES=${EV_RATES:-20000 100000 1000000 0}
SECS=${EV_SECONDS:-2}
REPEAT=${EV_REPEAT:-100000}
SAMPLES=${EV_SAMPLES:-7}

P=cgb$$
NS=${P}ev
PIN=/sys/fs/bpf/cgbench-ev-$$
TMP=
CREATED=()
BG_PID=

skip() {
	echo "SKIP events: $*" >&2
	exit 0
}

bench_traps "$NS"

mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$CRANEGATE" ] || skip "$CRANEGATE is not built"
[ -x "$CGBENCH" ] || skip "$CGBENCH is not built"
mountpoint -q /sys/fs/bpf || skip "bpffs is not mounted at /sys/fs/bpf"
for tool in ip nsenter unshare timeout jq; do
	command -v "$tool" >/dev/null || skip "$tool is missing (tests/lib/deps.sh installs it)"
done
TMP=$(mktemp -d /tmp/cgbench-ev.XXXXXX)

# ---- 2 first: it needs no gate of ours (private namespace, private maps)
if [ "${EV_COST:-1}" = 1 ]; then
	echo "# data plane: cgbench events --repeat $REPEAT --samples $SAMPLES" >&2
	"$CGBENCH" events --repeat "$REPEAT" --samples "$SAMPLES" --csv "$OUT/events.csv" ||
		echo "FAIL cgbench events" >&2
fi

# ---- 1. the pipeline
ip netns add "$NS" || skip "cannot create a namespace"
CREATED+=("$NS")
ip -n "$NS" link set lo up
ip -n "$NS" link add ev0 type veth peer name ev1 || skip "cannot create a veth pair"
ip -n "$NS" link set ev0 up
ip -n "$NS" link set ev1 up
cat >"$TMP/policy.yaml" <<'EOF'
version: 1
name: bench-events-pipeline
limits:
  events_per_second: 1000000
  events_burst: 1000000
  event_sources: 0
zones:
  business:
    interfaces: [ev0]
    networks: [198.18.10.0/24]
  crane:
    interfaces: [ev1]
    networks: [198.18.20.0/24]
EOF
LOG=$TMP/events.jsonl
mkdir -p "$TMP/dev" "$TMP/state"
# EV_SYSLOG=1: a syslog daemon that reads and drops (socat on the private
# /dev/log), so that the figures include run's syslog(3) line per event.
# In our namespace, so that the cleanup ends it.
if [ "${EV_SYSLOG:-0}" = 1 ]; then
	command -v socat >/dev/null || skip "EV_SYSLOG=1 needs socat"
	nsenter --net="/var/run/netns/$NS" socat -u UNIX-RECV:"$TMP/dev/log" OPEN:/dev/null,wronly \
		</dev/null >/dev/null 2>&1 &
	for _ in $(seq 50); do
		[ -S "$TMP/dev/log" ] && break
		sleep 0.1
	done
	[ -S "$TMP/dev/log" ] || skip "socat did not make $TMP/dev/log"
	echo "# syslog: socat reads run's syslog lines on its /dev/log" >&2
fi
nsenter --net="/var/run/netns/$NS" unshare --mount --propagation private sh -c '
	d=$1
	shift
	for n in null zero full random urandom; do
		touch "$d/$n"
		mount --bind "/dev/$n" "$d/$n" || exit 97
	done
	mount --rbind "$d" /dev || exit 97
	exec "$@"' sh "$TMP/dev" \
	"$CRANEGATE" run "$TMP/policy.yaml" --pin-root "$PIN" --state-dir "$TMP/state" \
	--log "$LOG" --summary 0 >"$TMP/run.out" 2>&1 </dev/null &
BG_PID=$!
for _ in $(seq 100); do
	grep -q '"type": "apply"' "$LOG" 2>/dev/null && break
	sleep 0.1
done
grep -q '"ok": true' "$LOG" 2>/dev/null || skip "cranegate run did not apply: $(head -3 "$TMP/run.out")"

cg() {
	nsenter --net="/var/run/netns/$NS" "$CRANEGATE" "$@" --pin-root "$PIN" --state-dir "$TMP/state"
}
# ev_counts: emitted lost suppressed (all reasons) from status --json.
ev_counts() {
	cg status --json | jq -r '.events | "\(.emitted) \(.lost) \(.suppressed)"'
}
now() { date +%s.%N; }

# run's CPU time (user + system, in clock ticks) from /proc: BG_PID is
# run itself (nsenter, unshare and sh exec it).
run_ticks() {
	awk '{ print $14 + $15 }' "/proc/$BG_PID/stat"
}
HZ=$(getconf CLK_TCK)
echo "rate,frames,drive_s,emitted,lost,suppressed,written,write_s,written_per_s,run_cpu_s,lines_per_cpu_s" >"$OUT/events-pipeline.csv"
for rate in $RATES; do
	: >"$LOG" # run appends (O_APPEND): it writes on at the new end
	read -r e0 l0 s0 <<<"$(ev_counts)"
	c0=$(run_ticks)
	t0=$(now)
	read -r frames dsecs < <(nsenter --net="/var/run/netns/$NS" "$CGBENCH" drive "$PIN" ev0 \
		198.18.10.5 198.18.20.5 "$SECS" "$rate")
	# Wait for the log to stop growing (1 s without a new line).
	last=-1
	quiet=0
	t_last=$t0
	for _ in $(seq 300); do
		n=$(wc -l <"$LOG")
		if [ "$n" != "$last" ]; then
			last=$n
			t_last=$(now)
			quiet=0
		else
			quiet=$((quiet + 1))
			[ "$quiet" -ge 10 ] && break
		fi
		sleep 0.1
	done
	c1=$(run_ticks)
	read -r e1 l1 s1 <<<"$(ev_counts)"
	written=$(wc -l <"$LOG")
	# run's CPU seconds for these lines (its 1 s sweeps and idle wakeups
	# included), and lines per second of run's CPU: what run could
	# write with a CPU to itself, whatever rate the driver reaches.
	cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
	lpc=$(awk -v n="$written" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0 ? n / c : 0) }')
	wsecs=$(awk -v a="$t0" -v b="$t_last" 'BEGIN { printf "%.3f", b - a }')
	wps=$(awk -v n="$written" -v s="$wsecs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
	echo "$rate,$frames,$dsecs,$((e1 - e0)),$((l1 - l0)),$((s1 - s0)),$written,$wsecs,$wps,$cpu,$lpc" >>"$OUT/events-pipeline.csv"
	printf '# offered %s/s: %s frames in %s s; events %s emitted, %s lost, %s suppressed; %s lines written in %s s = %s/s; run used %s s of CPU = %s lines per CPU second\n' \
		"${rate/#0/max}" "$frames" "$dsecs" $((e1 - e0)) $((l1 - l0)) $((s1 - s0)) "$written" "$wsecs" "$wps" "$cpu" "$lpc" >&2
	if [ "$written" -ne $((e1 - e0)) ]; then
		echo "WARNING: $written lines written, $((e1 - e0)) events emitted" >&2
	fi
done
kill -TERM "$BG_PID" 2>/dev/null
wait "$BG_PID" 2>/dev/null
BG_PID=
exit 0
