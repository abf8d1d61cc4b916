#!/usr/bin/env bash
# make bench: per-frame cost of the gate beside an empty XDP program.
# Keeps kernel.bpf_stats_enabled at 0 (stats add ~70 ns to every run).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench
mkdir -p "$out"
stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
if [ "$stats" != 0 ]; then
	echo "note: kernel.bpf_stats_enabled is $stats; setting it to 0 for the run"
	sysctl -qw kernel.bpf_stats_enabled=0
	trap 'sysctl -qw kernel.bpf_stats_enabled=$stats' EXIT
fi
{
	echo "# cranegate program cost ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo
	echo "machine: $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo
	echo "ns per frame through BPF_PROG_TEST_RUN (median of 7 samples of ${REPEAT:-200000} runs;"
	echo "spread = min..max of the samples). ratio = cranegate / empty XDP_PASS program,"
	echo "measured on the same frame in the same run."
	echo
	build/bench/cgbench "${REPEAT:-200000}"
} | tee "$out/program-cost.md"
echo "written: $out/program-cost.md"
