#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/lines.sh CLASS [FLOWS] [SECONDS]: where the gate's program
# spends its time on frames of one `cgbench cost` class (established,
# no-rule, spoofed-source, ...), per source line, and which kernel
# functions it calls spend the rest.
#
# `cgbench cost --class CLASS` runs the real program on the frame for a
# long while on CPU 1; `perf record -a -g` samples it; `cgbench lines`
# gives the JIT address where each source line starts, from the kernel's
# line info. perf's own annotate cannot do this with Debian's perf (it
# needs libopcode for BPF). Needs perf (apt-get install linux-perf).
# Prints two tables: the program's own samples by source line, and the
# samples of each kernel function under the program (map lookups, hashes).
#
# Sampling attributes a slow instruction's time to the one after it, and a
# line's code may be scattered by the compiler: read it as where the time
# is, give or take a line. Nothing is left behind: the bench process and
# the perf data go away on every exit path.

set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CGBENCH=$TOP/build/bench/cgbench
CLASS=${1:?usage: lines.sh CLASS [FLOWS] [SECONDS]}
FLOWS=${2:-10}
SECS=${3:-4}

command -v perf >/dev/null || {
	echo "lines.sh: needs perf (apt-get install linux-perf)" >&2
	exit 2
}
[ -x "$CGBENCH" ] || {
	echo "lines.sh: build it first: make build/bench/cgbench" >&2
	exit 2
}
T=$(mktemp -d /tmp/cg-lines.XXXXXX) || exit 1
BENCH=
cleanup() {
	[ -n "$BENCH" ] && kill "$BENCH" 2>/dev/null && wait "$BENCH" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

newest_gate() {
	bpftool prog show -j 2>/dev/null |
		jq -r '[.[] | select(.name == "cranegate_xdp") | .id] | max // empty'
}
before=$(newest_gate)
taskset -c 1 "$CGBENCH" cost --sizes "$FLOWS" --samples 31 \
	--repeat 5000000 --class "$CLASS" >"$T/cost.out" 2>&1 &
BENCH=$!
id=
for _ in $(seq 100); do
	id=$(newest_gate)
	[ -n "$id" ] && [ "$id" != "$before" ] && break
	id=
	kill -0 "$BENCH" 2>/dev/null || break
	sleep 0.1
done
[ -n "$id" ] || {
	echo "lines.sh: the bench did not load the gate:" >&2
	cat "$T/cost.out" >&2
	exit 1
}
"$CGBENCH" lines "$id" >"$T/lines.txt" || exit 1
sleep 0.5
perf record -q -a -g -o "$T/perf.data" -- sleep "$SECS" 2>/dev/null
perf script -i "$T/perf.data" -F ip,sym 2>/dev/null >"$T/samples.txt"
echo "# $CLASS, $FLOWS flows: cgbench cost on CPU 1, perf for ${SECS}s, program $id"
python3 - "$T/lines.txt" "$T/samples.txt" "$TOP" <<'PY'
import bisect, collections, os, sys

def source(loc, cache={}):
    """The text of FILE:LINE, from bpf/ (the kernel keeps it only for some)."""
    f, _, n = loc.rpartition(":")
    if f not in cache:
        p = os.path.join(sys.argv[3], "bpf", f)
        cache[f] = open(p).read().split("\n") if os.path.exists(p) else []
    lines = cache[f]
    n = int(n) if n.isdigit() else 0
    return lines[n - 1].strip() if 0 < n <= len(lines) else ""

starts = []
for l in open(sys.argv[1]):
    a, loc, src = (l.rstrip("\n").split("\t") + ["", ""])[:3]
    starts.append((int(a, 16), loc, src.strip()))
starts.sort()
addrs = [s[0] for s in starts]
own, called = collections.Counter(), collections.Counter()
n_own = n_called = 0
for block in open(sys.argv[2]).read().split("\n\n"):
    frames = [f.split(None, 1) for f in block.strip().split("\n") if f.strip()]
    if not frames or len(frames[0]) < 2:
        continue
    leaf = frames[0][1]
    if "cranegate_xdp" in leaf:
        i = bisect.bisect_right(addrs, int(frames[0][0], 16)) - 1
        if i >= 0:
            own[(starts[i][1], (starts[i][2] or source(starts[i][1]))[:60])] += 1
            n_own += 1
    elif any(len(f) > 1 and "cranegate_xdp" in f[1] for f in frames[1:]) or \
            (leaf.startswith("bpf_prog_") and "_cg_" in leaf):
        called[leaf] += 1
        n_called += 1
total = n_own + n_called
if not total:
    sys.exit("lines.sh: no samples in the program")
print("# %d samples: %.0f %% in the program's own code, %.0f %% in what it calls"
      % (total, 100.0 * n_own / total, 100.0 * n_called / total))
print("\n% of all  line                     source")
for (loc, src), n in own.most_common(25):
    print("%6.1f    %-24s %s" % (100.0 * n / total, loc, src))
print("\n% of all  called function")
for f, n in called.most_common(12):
    print("%6.1f    %s" % (100.0 * n / total, f))
PY
