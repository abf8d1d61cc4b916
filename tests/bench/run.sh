#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: every benchmark that runs on this machine, then the report.
#
#   1. program cost   cgbench cost / ops / shadow / first2 (BPF_PROG_TEST_RUN,
#                     private netns; first2: first packets on both CPUs at
#                     once)
#   2. end to end     tests/bench/e2e.sh   (trafgen through veth, netns)
#   3. control plane  tests/bench/ctl.sh   (check, apply, reload, map memory)
#   4. events         tests/bench/events.sh (cgbench events: what events and
#                     per-interface counters cost; the ring buffer -> run ->
#                     log pipeline in events per second)
#                     and cgbench records (run's sweep, records per second)
#   5. report         tests/bench/report.py -> build/bench/results.md, *.png
#
# Each part prints "SKIP <part>: <reason>" and the others go on when a tool
# it needs is missing. BENCH_QUICK=1 runs everything briefly (a smoke
# test: the figures are not worth quoting). Keeps kernel.bpf_stats_enabled
# at 0 (stats add ~70 ns to every run of every program).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
OUT=build/bench
CGBENCH=build/bench/cgbench
mkdir -p "$OUT"
rm -f "$OUT"/*.csv "$OUT"/*.png "$OUT"/*.dat "$OUT"/*.gp "$OUT"/results.md \
	"$OUT"/machine.txt "$OUT"/e2e.log

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${REPEAT:=20000}" "${SAMPLES:=3}" "${FIRST:=50}" "${SIZES:=10,1000}"
	: "${MAX:=0}" "${E2E_SECONDS:=1}" "${E2E_REPS:=1}" "${E2E_SIZES:=10 1000}"
	: "${CTL_SIZES:=1000}" "${CTL_REPS:=1}" "${EV_SECONDS:=0.5}"
fi
export EV_SECONDS=${EV_SECONDS:-2}
REPEAT=${REPEAT:-200000}
SAMPLES=${SAMPLES:-7}
FIRST=${FIRST:-300}
SIZES=${SIZES:-10,1000,100000}
MAX=${MAX:-1}
export E2E_SECONDS=${E2E_SECONDS:-2} E2E_REPS=${E2E_REPS:-3}
export E2E_SIZES=${E2E_SIZES:-10 1000 10000}
export CTL_SIZES=${CTL_SIZES:-1000 10000 100000} CTL_REPS=${CTL_REPS:-3}

stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
if [ "$stats" != 0 ]; then
	echo "note: kernel.bpf_stats_enabled is $stats; 0 for the run"
	sysctl -qw kernel.bpf_stats_enabled=0
	trap 'sysctl -qw kernel.bpf_stats_enabled=$stats' EXIT
fi

part() {
	echo
	echo "== $* ($(date +%T))"
}

# The CLI as built now: a rebuild during the run (make in another shell)
# must not pull it from under the benchmark.
if [ -x build/cranegate ]; then
	cp build/cranegate "$OUT/cranegate"
	export CRANEGATE=$PWD/$OUT/cranegate
fi

t_start=$(date +%s)
{
	echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "kernel: $(uname -r) $(uname -m)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs online"
	echo "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "virtualisation: $(systemd-detect-virt 2>/dev/null || echo unknown)$(grep -qw hypervisor /proc/cpuinfo && echo ', hypervisor flag set')"
	echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
	echo "cmdline mitigations: $(tr ' ' '\n' </proc/cmdline | grep -E '^(mitigations|lockdown)=' | tr '\n' ' ')$(cat /sys/kernel/security/lockdown 2>/dev/null | sed 's/^/lockdown /')"
	echo "bpf_jit_enable: $(sysctl -n net.core.bpf_jit_enable 2>/dev/null), bpf_stats_enabled: $(sysctl -n kernel.bpf_stats_enabled 2>/dev/null)"
	echo "cranegate: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- bpf user maps 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "packages: $(dpkg-query -W -f='${Package} ${Version}, ' libbpf1 xdp-tools nftables netsniff-ng clang 2>/dev/null | sed 's/, $//')"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt"

part "1. program cost (BPF_PROG_TEST_RUN)"
max_flag=
[ "$MAX" = 1 ] && max_flag=--max
t=$(date +%s)
if [ -x "$CGBENCH" ]; then
	"$CGBENCH" cost --repeat "$REPEAT" --samples "$SAMPLES" --first "$FIRST" \
		--sizes "$SIZES" $max_flag --csv "$OUT/cost.csv" ||
		echo "FAIL program cost (see above)"
	"$CGBENCH" ops --repeat "$REPEAT" --samples "$SAMPLES" --first "$FIRST" \
		--sizes 100000 --csv "$OUT/ops.csv" ||
		echo "FAIL per-operation cost (see above)"
	"$CGBENCH" shadow --repeat "$REPEAT" --samples "$SAMPLES" \
		--sizes 1000 --csv "$OUT/shadow.csv" ||
		echo "FAIL shadow cost (see above)"
	# First packets on both CPUs at once against each alone (issue 15).
	"$CGBENCH" first2 --samples "$SAMPLES" --first $((FIRST * 6 < 2000 ? FIRST * 6 : 2000)) \
		--sizes 1000 --csv "$OUT/first2.csv" ||
		echo "FAIL first packets on two CPUs (see above)"
else
	echo "SKIP program cost: $CGBENCH is not built"
fi
echo "-- $(($(date +%s) - t)) s"

part "2. end to end (trafgen -> veth -> gateway namespace)"
t=$(date +%s)
tests/bench/e2e.sh "$OUT" || echo "FAIL end to end (see $OUT/e2e.log)"
echo "-- $(($(date +%s) - t)) s"

part "3. control plane (check, apply, reload, map memory)"
t=$(date +%s)
tests/bench/ctl.sh "$OUT" || echo "FAIL control plane (see above)"
echo "-- $(($(date +%s) - t)) s"

part "4. events (data-plane cost, ring buffer -> run -> log)"
t=$(date +%s)
if [ -x "$CGBENCH" ]; then
	EV_REPEAT=$((REPEAT / 2)) EV_SAMPLES=$SAMPLES tests/bench/events.sh "$OUT" ||
		echo "FAIL events (see above)"
else
	echo "SKIP events: $CGBENCH is not built"
fi
# Connection records: run's sweep of the table, records per second (the
# fast-path cost of counting is the no-conn-count row of cgbench events).
if [ -x "$CGBENCH" ]; then
	"$CGBENCH" records --sizes "${REC_CONNS:-20000}" --csv "$OUT/records.csv" ||
		echo "FAIL records (see above)"
fi
echo "-- $(($(date +%s) - t)) s"

part "5. report"
echo "total: $(($(date +%s) - t_start)) s" >>"$OUT/machine.txt"
if command -v python3 >/dev/null; then
	python3 tests/bench/report.py "$OUT" || echo "FAIL report"
else
	echo "SKIP report: python3 is missing; the raw figures are in $OUT/*.csv"
fi

# Nothing of ours may outlive the run.
left=$(ip netns list 2>/dev/null | grep -E '^cg[bc][0-9]+' || true)
pins=$(ls -d /sys/fs/bpf/cgbench-* 2>/dev/null || true)
[ -z "$left$pins" ] || echo "WARNING: left behind: $left $pins"
echo "make bench: $(($(date +%s) - t_start)) s"
