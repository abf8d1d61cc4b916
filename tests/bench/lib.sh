# SPDX-License-Identifier: GPL-2.0
#
# What the benchmark scripts (ctl.sh, e2e.sh, events.sh) share: cleaning
# up after themselves on every exit path. A script sets, before it creates
# anything:
#   PIN       its pin root (/sys/fs/bpf/cgbench-...)
#   TMP       its temporary directory (empty until made)
#   CREATED   the namespaces it made, in order
#   BG_PID    a background process of its own to stop first (or empty)
# and calls bench_traps GW, GW being the namespace whose interfaces carry
# its gate (detached by name before the namespaces go).

bench_cleanup() {
	local gw=$1 pid ns i
	trap - EXIT
	trap '' PIPE
	if [ -n "${BG_PID:-}" ]; then
		kill "$BG_PID" 2>/dev/null
		wait "$BG_PID" 2>/dev/null
	fi
	# What is left running in our namespaces (trafgen, the CLI), by pid.
	for ns in "${CREATED[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done
	if [ -e "$PIN" ] && [ -e "/var/run/netns/$gw" ]; then
		timeout 30 nsenter --net="/var/run/netns/$gw" "$CRANEGATE" detach \
			--pin-root "$PIN" --state-dir "$TMP/state" >/dev/null 2>&1
	fi
	[ -e "$PIN" ] && rm -rf "$PIN"
	for ((i = ${#CREATED[@]} - 1; i >= 0; i--)); do
		ip netns del "${CREATED[$i]}" 2>/dev/null
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}

# bench_traps GW: clean up on exit, and exit on the usual signals.
bench_traps() {
	# shellcheck disable=SC2064 # GW is fixed now, on purpose
	trap "bench_cleanup '$1'" EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
}
