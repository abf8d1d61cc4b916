#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every test program and sum up their TAP output.
#
#   tests/run.sh            every test, in layers: unit, bpf, policy, e2e
#   tests/run.sh PATTERN    only the programs whose path contains PATTERN
#                           (tests/e2e/test_soak.sh runs only when PATTERN
#                           names it: make soak)
#
# Each program prints TAP lines ("ok N - ...", "not ok N - ...",
# "ok N - ... # SKIP reason"). A program that exits non-zero without
# reporting a failure of its own, that is killed by the timeout, or that
# plans more tests than it reports, counts as one more failure, named after
# it. The last line is always "N passed, N failed, N skipped"; the exit
# status is 1 if anything failed.
#
# Programs run CG_TEST_JOBS at a time (default: 2, or 1 on a one-CPU
# machine; most of a test's time is spent waiting on traffic and timers,
# so two lanes nearly halve the wall time even on two CPUs). Each
# e2e program builds its own namespaces, pin root and state directory
# under a per-run prefix, so programs share nothing but the CPUs. With more than one job, a program's output is shown whole
# when it ends. The programs in SERIAL below measure time or rates (event
# budgets, floods, latencies): they run afterwards, one at a time, with the
# machine to themselves, so that a busy neighbour cannot fail them.
#
# Environment: CG_TEST_TIMEOUT (seconds per program, default 600),
# CG_TEST_JOBS (programs at once).

set -u -o pipefail

cd "$(dirname "$0")/.." || exit 1

pattern=${1:-}
timeout_s=${CG_TEST_TIMEOUT:-600}

programs=()
add_executables() {
	local f
	for f in "$1"/*; do
		[ -f "$f" ] && [ -x "$f" ] && programs+=("$f")
	done
}
add_executables build/tests/unit
add_executables build/tests/bpf
# The fuzz targets' regression replay (build/tests/fuzz/regress_*).
add_executables build/tests/fuzz
[ -x tests/policy/run.sh ] && programs+=(tests/policy/run.sh)
[ -f tests/policy/run_change.sh ] && programs+=(tests/policy/run_change.sh)
[ -f tests/policy/hostile/run.sh ] && programs+=(tests/policy/hostile/run.sh)
[ -f tests/docs/run.sh ] && programs+=(tests/docs/run.sh)
for f in tests/e2e/test_*.sh; do
	# The soak runs for minutes: `make soak`, or a pattern naming it.
	[[ $f == */test_soak.sh && $pattern != *soak* ]] && continue
	[ -f "$f" ] && programs+=("$f")
done

if [ -n "$pattern" ]; then
	selected=()
	for f in "${programs[@]}"; do
		[[ $f == *"$pattern"* ]] && selected+=("$f")
	done
	programs=("${selected[@]}")
fi

# Programs that time things (event rates and budgets, floods, latencies,
# watch delays, watchdog deadlines, not one echo lost across reloads, a
# refusal within a bound): run alone, after the others.
SERIAL=(
	tests/e2e/test_reload.sh
	tests/e2e/test_integrity.sh
	tests/policy/hostile/run.sh
	tests/e2e/test_events.sh
	tests/e2e/test_flood.sh
	tests/e2e/test_fanout.sh
	tests/e2e/test_metrics.sh
	tests/e2e/test_timed.sh
	tests/e2e/test_watch.sh
	tests/e2e/test_watch_links.sh
	tests/e2e/test_soak.sh
)
# The longest programs start first, so that the lanes end together.
FIRST=(
	tests/e2e/test_faults.sh
	build/tests/bpf/test_diff
	tests/e2e/test_evasion.sh
)

jobs=${CG_TEST_JOBS:-}
if [ -z "$jobs" ]; then
	jobs=$(nproc 2>/dev/null || echo 1)
	[ "$jobs" -gt 2 ] && jobs=2
fi
case $jobs in '' | *[!0-9]* | 0) echo "CG_TEST_JOBS must be a positive number" >&2 && exit 2 ;; esac

passed=0
failed=0
skipped=0
failures=()

work=$(mktemp -d /tmp/cranegate-run.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ ${#programs[@]} -eq 0 ]; then
	echo "# no test program matches '${pattern}'" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

in_list() {
	local x=$1 y
	shift
	for y in "$@"; do [ "$x" = "$y" ] && return 0; done
	return 1
}

# Split into the parallel part (FIRST ones first, in their order) and
# the serial part.
parallel=()
serial=()
for prog in "${FIRST[@]}"; do
	in_list "$prog" "${programs[@]}" && parallel+=("$prog")
done
for prog in "${programs[@]}"; do
	if in_list "$prog" "${SERIAL[@]}"; then
		serial+=("$prog")
	elif ! in_list "$prog" "${FIRST[@]}"; then
		parallel+=("$prog")
	fi
done

# run_prog PROG OUT [tee]: run PROG with its output in OUT (and on stdout
# too with "tee"); OUT.meta gets "rc start end".
run_prog() {
	local prog=$1 o=$2 mode=${3:-} start end rc cmd
	start=$(date +%s.%N)
	# Programs run from the top of the tree with no input. Scripts run
	# through bash so that a missing exec bit does not hide a test.
	case "$prog" in
	*.sh) cmd=(bash "$prog") ;;
	*) cmd=("$prog") ;;
	esac
	if [ "$mode" = tee ]; then
		timeout --kill-after=15 "$timeout_s" "${cmd[@]}" </dev/null 2>&1 | tee "$o"
		rc=${PIPESTATUS[0]}
	else
		timeout --kill-after=15 "$timeout_s" "${cmd[@]}" </dev/null >"$o" 2>&1
		rc=$?
	fi
	end=$(date +%s.%N)
	echo "$rc $start $end" >"$o.meta"
}

# account PROG OUT: count PROG's top-level TAP lines in OUT and add them
# up. Indented lines are subtests or quoted output. "# SKIP" and "# TODO"
# are TAP directives (any case).
account() {
	local prog=$1 o=$2 rc start end p=0 f=0 s=0 planned=-1 line n why=
	read -r rc start end <"$o.meta"
	while IFS= read -r line; do
		case "$line" in
		"not ok" | "not ok "*)
			shopt -s nocasematch
			if [[ $line == *"# TODO"* || $line == *"# SKIP"* ]]; then
				s=$((s + 1))
			else
				f=$((f + 1))
			fi
			shopt -u nocasematch
			;;
		"ok" | "ok "*)
			shopt -s nocasematch
			if [[ $line == *"# SKIP"* ]]; then
				s=$((s + 1))
			else
				p=$((p + 1))
			fi
			shopt -u nocasematch
			;;
		1..*)
			n=${line#1..}
			n=${n%%[!0-9]*}
			[ -n "$n" ] && planned=$n
			# "1..0 # SKIP reason": the whole program skipped.
			if [ "$planned" = 0 ]; then
				s=$((s + 1))
			fi
			;;
		esac
	done <"$o"

	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="timed out after ${timeout_s}s"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		why="exited with status $rc"
	elif [ "$planned" -gt 0 ] && [ $((p + f + s)) -lt "$planned" ]; then
		why="planned $planned tests, reported $((p + f + s))"
	fi
	if [ -n "$why" ]; then
		echo "not ok - $prog $why"
		f=$((f + 1))
	fi

	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	[ "$f" -gt 0 ] && failures+=("$prog")
	printf '# %s: %d passed, %d failed, %d skipped in %.1fs\n' \
		"$prog" "$p" "$f" "$s" "$(awk "BEGIN { print $end - $start }")"
}

t0=$(date +%s)
if [ "$jobs" -eq 1 ]; then
	serial=("${parallel[@]}" "${serial[@]}")
	parallel=()
fi

# The parallel part: up to $jobs programs at once, each one's output
# shown whole when it ends.
declare -A running=()
i=0
while [ "$i" -lt ${#parallel[@]} ] || [ ${#running[@]} -gt 0 ]; do
	while [ "$i" -lt ${#parallel[@]} ] && [ ${#running[@]} -lt "$jobs" ]; do
		run_prog "${parallel[$i]}" "$work/$i" &
		running[$!]=$i
		i=$((i + 1))
	done
	done_pid=
	wait -n -p done_pid
	[ -n "$done_pid" ] || continue
	k=${running[$done_pid]}
	unset "running[$done_pid]"
	echo "# ---- ${parallel[$k]}"
	cat "$work/$k"
	account "${parallel[$k]}" "$work/$k"
done

# The serial part, one at a time, output as it comes.
for prog in "${serial[@]}"; do
	echo "# ---- $prog"
	run_prog "$prog" "$work/serial" tee
	account "$prog" "$work/serial"
done

echo "# ----"
for prog in "${failures[@]}"; do
	echo "# failed: $prog"
done
echo "# $(($(date +%s) - t0))s with $jobs job(s)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
