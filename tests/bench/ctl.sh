#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/ctl.sh OUTDIR: the control plane. For policies of
# CTL_SIZES flows (the benchmark's rule set, tests/bench/rules.c):
#   - `cranegate check` (parse, validate, compile): wall time, peak RSS;
#   - `cranegate apply` on interfaces with no gate: wall time, peak RSS;
#   - `cranegate apply` of another policy of the same size over the
#     running gate (the atomic reload): wall time, peak RSS;
#   - the kernel memory of the running gate's maps (bpftool: memlock of
#     every map the pinned program uses), policy maps and state maps apart.
# Then cgbench phases: the same policies timed phase by phase in-process
# (parse, compile, load), to say where the time goes.
#
# Writes OUTDIR/ctl.csv, ctl-maps.csv and phases.csv. Runs in a namespace
# of its own with a per-run name, removed in a trap on every exit path.

set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/bench/lib.sh"
OUT=${1:-$TOP/build/bench}
CGBENCH=$TOP/build/bench/cgbench
CRANEGATE=${CRANEGATE:-$TOP/build/cranegate}
SIZES=${CTL_SIZES:-1000 10000 100000}
REPS=${CTL_REPS:-3}
# Every command is bounded; one that runs out of time is recorded as such
# and not run again at that size.
LIMIT=${CTL_TIMEOUT:-60}

P=cgc$$
NS=${P}cp
IF_A=ca$$
IF_B=cb$$
PIN=/sys/fs/bpf/cgbench-ctl-$$
TMP=
CREATED=()
BG_PID=

skip() {
	echo "SKIP control plane: $*" >&2
	exit 0
}

bench_traps "$NS"

mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$CRANEGATE" ] || skip "$CRANEGATE is not built"
[ -x "$CGBENCH" ] || skip "$CGBENCH is not built"
mountpoint -q /sys/fs/bpf || skip "bpffs is not mounted at /sys/fs/bpf"
for tool in ip nsenter timeout jq bpftool; do
	command -v "$tool" >/dev/null || skip "$tool is missing (tests/lib/deps.sh installs it)"
done
TIME=/usr/bin/time
[ -x "$TIME" ] || {
	echo "note: /usr/bin/time is missing (package time): no peak RSS" >&2
	TIME=
}
TMP=$(mktemp -d "/tmp/cgbench-ctl.XXXXXX") || exit 1
mkdir -p "$TMP/state"
# The CLI in the namespace, as one command line (for /usr/bin/time).
CG=(nsenter "--net=/var/run/netns/$NS" "$CRANEGATE" --pin-root "$PIN"
	--state-dir "$TMP/state")

ip netns add "$NS" && CREATED+=("$NS") || skip "cannot create a namespace"
ip -n "$NS" link add "$IF_A" type veth peer name "$IF_B" &&
	ip -n "$NS" link set "$IF_A" up && ip -n "$NS" link set "$IF_B" up ||
	skip "cannot create the veths"

# timed OP FLOWS REP COMMAND...: one line of ctl.csv (status ok, timeout
# or failed); the command's status is the function's.
declare -A TIMED_OUT
timed() {
	local op=$1 n=$2 rep=$3 t0 t1 rc rss="" status=ok
	shift 3
	if [ -n "${TIMED_OUT[$op-$n]:-}" ]; then
		return 124
	fi
	rm -f "$TMP/rss"
	t0=$(date +%s%N)
	if [ -n "$TIME" ]; then
		timeout -k 10 "$LIMIT" "$TIME" -f '%M' -o "$TMP/rss" "$@" >"$TMP/out" 2>&1
		rc=$?
		rss=$(tail -1 "$TMP/rss" 2>/dev/null | grep -E '^[0-9]+$')
	else
		timeout -k 10 "$LIMIT" "$@" >"$TMP/out" 2>&1
		rc=$?
	fi
	t1=$(date +%s%N)
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		status=timeout
		TIMED_OUT[$op-$n]=1
		echo "ctl: $op of $n flows did not finish in $LIMIT s" >&2
	elif [ $rc -ne 0 ]; then
		status=failed
		echo "ctl: $op of $n flows failed (exit $rc):" >&2
		tail -5 "$TMP/out" >&2
	fi
	echo "$n,$op,$rep,$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }'),$rss,$status" \
		>>"$OUT/ctl.csv"
	printf '  %-7s %6s flows, run %s: %s s, peak RSS %s KiB (%s)\n' "$op" "$n" "$rep" \
		"$(tail -1 "$OUT/ctl.csv" | cut -d, -f4)" "${rss:-?}" "$status" >&2
	return $rc
}

# /usr/bin/time can run).
cg() {
	"${CG[@]}" "$@"
}

# Kernel memory of every map of the running gate.
map_memory() {
	local n=$1 id prog_maps kind
	prog_maps=$(bpftool prog show pinned "$PIN/prog" -j 2>/dev/null | jq -r '.map_ids[]?')
	for id in $prog_maps; do
		bpftool map show id "$id" -j 2>/dev/null |
			jq -r '[.name, .type, .max_entries, (.bytes_memlock // 0)] | @csv' |
			while IFS= read -r line; do
				name=$(cut -d, -f1 <<<"$line" | tr -d '"')
				kind=policy
				[ -e "$PIN/$name" ] && kind=state
				echo "$n,$line,$kind" >>"$OUT/ctl-maps.csv"
			done
	done
}

echo "flows,op,rep,seconds,maxrss_kb,status" >"$OUT/ctl.csv"
echo "flows,map,type,max_entries,bytes,kind" >"$OUT/ctl-maps.csv"

# The runs go in a subshell that this shell waits for, so that a signal
# interrupts `wait` and the traps run at once (see e2e.sh).
measure_all() {
	for n in $SIZES; do
		for v in a b; do
			"$CGBENCH" gen yaml "$n" --ifaces "$IF_A,$IF_B" --name "bench-$n-$v" \
				>"$TMP/p-$n-$v.yaml" || exit 1
		done
		for rep in $(seq "$REPS"); do
			timed check "$n" "$rep" "$CRANEGATE" check "$TMP/p-$n-a.yaml"
		done
		for rep in $(seq "$REPS"); do
			if timed apply "$n" "$rep" "${CG[@]}" apply "$TMP/p-$n-a.yaml"; then
				timed reload "$n" "$rep" "${CG[@]}" apply "$TMP/p-$n-b.yaml"
				[ "$rep" -eq 1 ] && map_memory "$n"
			fi
			timeout 60 "${CG[@]}" detach >/dev/null 2>&1
			rm -rf "$PIN"
		done
	done

	# Where the time goes, in-process (cgbench runs in a namespace of its own);
	# 10 flows too: its load is the verifier's and the loader's fixed cost.
	sizes_csv=10,$(tr ' ' ',' <<<"$SIZES")
	timeout -k 10 $((LIMIT * 3)) "$CGBENCH" phases --sizes "$sizes_csv" --samples "$REPS" \
		--csv "$OUT/phases.csv" || echo "ctl: cgbench phases failed" >&2
}
measure_all &
BG_PID=$!
wait "$BG_PID"
BG_PID=
exit 0
