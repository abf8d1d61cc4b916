#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make fuzz`: run every libFuzzer target (build/fuzz/fuzz_*) for a bounded
# time, starting from its committed seed corpus (tests/fuzz/corpus/T) and
# what earlier runs added (build/fuzz/corpus/T, not committed), and report
# executions, executions per second, coverage and crashes as TAP, with a
# summary in build/fuzz/report.md.
#
# A crash, leak, timeout (an input taking longer than 10 s: a hang) or
# out-of-memory (2 GiB) stops that target; the input is kept under
# build/fuzz/artifacts/T/ and the way to reproduce it is printed. Once
# the bug is fixed, copy the input into tests/fuzz/regress/T/: `make test`
# replays that directory (build/tests/fuzz/regress_T) from then on.
#
# Environment:
#   FUZZ_SECONDS  seconds per target (default 60)
#   FUZZ_TARGETS  which targets (default: all of build/fuzz/fuzz_*)
#   FUZZ_PARALLEL targets run at once (default: the number of CPUs)

set -u -o pipefail

cd "$(dirname "$0")/../.." || exit 1

secs=${FUZZ_SECONDS:-60}
parallel=${FUZZ_PARALLEL:-$(nproc)}
out=build/fuzz
targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
	read -r -a targets <<<"$FUZZ_TARGETS"
else
	for f in "$out"/fuzz_*; do
		[ -x "$f" ] && targets+=("${f#"$out"/fuzz_}")
	done
fi
if [ ${#targets[@]} -eq 0 ]; then
	echo "Bail out! no fuzz target under $out (make fuzz-bins)"
	exit 1
fi

declare -A max_len=([policy]=8192 [pcap]=16384)

run_target() { # TARGET
	local t=$1 work=$out/corpus/$1 art=$out/artifacts/$1 dict=
	mkdir -p "$work" "$art"
	cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	# The seeds of the committed corpus and the regressions are read
	# but not written: new inputs go to the work directory only.
	timeout -k 10 $((secs + 120)) "$out/fuzz_$t" \
		-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len="${max_len[$t]:-8192}" -print_final_stats=1 \
		-artifact_prefix="$art/" $dict \
		"$work" tests/fuzz/corpus/"$t" tests/fuzz/regress/"$t" \
		>"$out/$t.log" 2>&1
	echo $? >"$out/$t.rc"
}

echo "# fuzzing ${targets[*]} for ${secs} s each, ${parallel} at a time"
running=0
for t in "${targets[@]}"; do
	rm -f "$out/$t.rc"
	run_target "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$parallel" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

stat() { # LOG NAME
	sed -n "s/^stat::$2: *//p" "$1" | tail -1
}

n=0 failed=0
report=$out/report.md
{
	echo "# make fuzz, $(date -u '+%Y-%m-%d %H:%M UTC'), ${secs} s per target"
	echo
	echo "| target | execs | execs/s | new inputs | corpus | coverage | peak RSS MB | result |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
} >"$report"
for t in "${targets[@]}"; do
	log=$out/$t.log
	n=$((n + 1))
	rc=$(cat "$out/$t.rc" 2>/dev/null || echo "?")
	execs=$(stat "$log" number_of_executed_units)
	rate=$(stat "$log" average_exec_per_sec)
	new=$(stat "$log" new_units_added)
	rss=$(stat "$log" peak_rss_mb)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	corpus=$(find "$out/corpus/$t" -type f | wc -l)
	found=$(grep -E '^==[0-9]+==ERROR|^SUMMARY|ALARM: working on the last Unit|out-of-memory|deadly signal' "$log" | head -3)
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	result=clean
	if [ "$rc" != 0 ] || [ -n "$found" ]; then
		result="FAILED (exit $rc)"
	fi
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "${execs:-?}" \
		"${rate:-?}" "${new:-?}" "$corpus" "${cov:-?}" "${rss:-?}" "$result" >>"$report"
	echo "# fuzz_$t: ${execs:-?} executions, ${rate:-?}/s, ${new:-?} new inputs, corpus $corpus, coverage ${cov:-?}, peak RSS ${rss:-?} MB"
	if [ "$result" = clean ]; then
		echo "ok $n - fuzz_$t: ${secs} s without a crash, leak, hang or OOM"
	else
		failed=$((failed + 1))
		echo "not ok $n - fuzz_$t: $result"
		printf '%s\n' "$found" | sed 's/^/#   /'
		grep -A12 -m1 -E '^==[0-9]+==ERROR' "$log" | sed 's/^/#   /'
		if [ -n "$artifact" ]; then
			echo "#   input: $artifact"
			echo "#   reproduce: $out/fuzz_$t $artifact"
			echo "#   or, as make test will: build/tests/fuzz/regress_$t $artifact"
			echo "#   after the fix: cp $artifact tests/fuzz/regress/$t/"
		fi
		echo "#   log: $log"
	fi
done
echo "1..$n"
echo "# report: $report"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
