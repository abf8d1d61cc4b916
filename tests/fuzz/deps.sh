#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make fuzz` needs clang's libFuzzer runtime, which Debian ships apart
# from clang (libclang-rt-N-dev, only recommended by clang). Install it
# when it is missing; quiet when there is nothing to do.

set -euo pipefail

clang=${CLANG:-clang}
probe=$(mktemp -d /tmp/cranegate-fuzzdeps.XXXXXX)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
	>"$probe/t.c"
if "$clang" -fsanitize=fuzzer,address,undefined "$probe/t.c" -o "$probe/t" 2>/dev/null; then
	exit 0
fi
ver=$("$clang" -dumpversion | cut -d. -f1)
if [ "$(id -u)" -ne 0 ]; then
	echo "fuzz: clang's libFuzzer runtime is missing: apt-get install libclang-rt-$ver-dev" >&2
	exit 1
fi
echo "fuzz: installing libclang-rt-$ver-dev (libFuzzer)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "libclang-rt-$ver-dev" >/dev/null ||
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "libclang-rt-$ver-dev" >/dev/null; }
"$clang" -fsanitize=fuzzer,address,undefined "$probe/t.c" -o "$probe/t"
