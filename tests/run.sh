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
# "ok N - ... # SKIP reason"); its output is shown as it runs. A program
# that exits non-zero without reporting a failure of its own, that is
# killed by the timeout, or that plans more tests than it reports, counts as
# one more failure, named after it. The last line is always
# "N passed, N failed, N skipped"; the exit status is 1 if anything failed.
#
# Environment: CG_TEST_TIMEOUT (seconds per program, default 600).

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

passed=0
failed=0
skipped=0
failures=()

out=$(mktemp /tmp/cranegate-run.XXXXXX)
trap 'rm -f "$out"' EXIT

if [ ${#programs[@]} -eq 0 ]; then
	echo "# no test program matches '${pattern}'" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

for prog in "${programs[@]}"; do
	echo "# ---- $prog"
	start=$(date +%s.%N)
	# Programs run from the top of the tree with no input. Scripts run
	# through bash so that a missing exec bit does not hide a test.
	case "$prog" in
	*.sh) cmd=(bash "$prog") ;;
	*) cmd=("$prog") ;;
	esac
	timeout --kill-after=15 "$timeout_s" "${cmd[@]}" </dev/null 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	end=$(date +%s.%N)

	# Count only top-level TAP lines; indented lines are subtests or
	# quoted output. "# SKIP" and "# TODO" are TAP directives (any case).
	p=0 f=0 s=0 planned=-1
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
	done <"$out"

	why=
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
done

echo "# ----"
for prog in "${failures[@]}"; do
	echo "# failed: $prog"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
