#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: reloading the policy under load. Two policies A and B that
# both allow HMI -> PLC ICMP, ICMPv6 and UDP 5000 (and differ elsewhere) are
# applied in turn 20 times while numbered UDP datagrams and fast pings
# cross the gate; not one allowed packet may be lost, and not one datagram
# of a flow that both deny (UDP 5001) may get through. Then: a broken policy
# changes nothing, and a loader killed with SIGKILL leaves the gate
# attached and enforcing, for the next apply to adopt. TAP output.

. "$(dirname "$0")/lib.sh"

sandbox_up
T=$CG_TMP
RELOADS=${CG_RELOADS:-20}

# ---- the policies: A, B (A with flows changed and added), two broken ones
policy() { # NAME EXTRA_FLOWS
	cat <<EOF
version: 1
name: $1
mode: enforce
EOF
	topo_zones
	cat <<EOF
hosts:
  scada-hmi: 198.18.10.5
  scada-hmi6: 2001:2:0:10::5
  plc-hoist: 198.18.20.11
flows:
  - name: hmi-pings-plcs
    from: scada-hmi
    to: crane-control
    proto: icmp
  - name: hmi-pings-plcs-v6
    from: scada-hmi6
    to: crane-control
    proto: icmpv6
  - name: hmi-streams-to-hoist
    from: scada-hmi
    to: plc-hoist
    proto: udp
    ports: [5000]
$2
EOF
}
policy reload-a "  - name: mgmt-ssh
    from: crane-mgmt
    to: crane-control
    proto: tcp
    ports: [22]" >"$T/a.yaml"
policy reload-b "  - name: mgmt-ssh
    from: crane-mgmt
    to: [crane-control, crane-cctv]
    proto: tcp
    ports: [22, 2222]
    log: true
  - name: cctv-to-vms
    from: crane-cctv
    to: 198.18.10.40
    proto: tcp
    ports: [554, \"8000-8010\"]" >"$T/b.yaml"
sed 's/^  - name: mgmt-ssh$/  - name: mgmt-ssh\n    from: crane-nowhere/' "$T/a.yaml" |
	sed 's/^name: reload-a/name: broken-zone/' >"$T/broken-zone.yaml"
sed 's/^name: reload-a/name: broken-yaml/; s/^    proto: udp$/    proto: [udp/' \
	"$T/a.yaml" >"$T/broken-yaml.yaml"

check "policy A is valid" "$CG_BIN" check "$T/a.yaml"
check "policy B is valid" "$CG_BIN" check "$T/b.yaml"
check_fails "a flow from an unknown zone is invalid" "$CG_BIN" check "$T/broken-zone.yaml"
check_fails "a YAML syntax error is invalid" "$CG_BIN" check "$T/broken-yaml.yaml"

# ---- helpers

# denied_leaks: send 20 datagrams HMI -> PLC UDP 5001 (denied in A and B);
# print how many arrived.
# (Runs in a command substitution: no state survives a call.)
denied_leaks() {
	rm -f "$T/dready" "$T/denied.json"
	bg_in_ns 15 plc "$PYTHON" "$T/udpseq.py" recv $PLC 5001 --max-time 4 \
		--ready "$T/dready" >"$T/denied.json"
	local rpid=$CG_LAST_PID
	if ! wait_until 5 test -e "$T/dready"; then
		echo "receiver-not-ready"
		return
	fi
	in_ns biz timeout 10 "$PYTHON" "$T/udpseq.py" send $PLC 5001 --count 20 \
		--interval 0.01 >/dev/null
	wait "$rpid"
	jq -r '.received' "$T/denied.json" 2>/dev/null || echo "?"
}

# enforcing WHAT: the gate is attached everywhere, passes HMI -> PLC pings
# and drops HMI -> PLC UDP 5001.
enforcing() {
	local what=$1 dev missing=
	for dev in biz0 crane0 cctv0 mgmt0; do
		xdp_attached "$dev" || missing+=" $dev"
	done
	expect "$what: XDP attached to all four interfaces" "${missing:- none}" = " none"
	check "$what: HMI -> PLC ping passes" pings biz $PLC 3
	expect "$what: HMI -> PLC UDP 5001 (denied) is dropped" "$(denied_leaks)" -eq 0
}

# ---- the probes work: without a gate, everything arrives
expect "without the gate, the UDP 5001 probe gets all 20 datagrams through" "$(denied_leaks)" -eq 20

# ---- A, and the reference behaviour
check "apply A" cg apply "$T/a.yaml"
enforcing "policy A"

# ---- the reload loop under traffic

# How long does one apply take? Size the ping stream to outlast the loop.
start=$(date +%s%N)
cg apply "$T/b.yaml" >/dev/null 2>&1
cg apply "$T/a.yaml" >/dev/null 2>&1
pair_ms=$((($(date +%s%N) - start) / 1000000))
# Twice the estimate: applies slow down while the streams load the CPUs.
loop_s=$(((pair_ms * RELOADS + 999) / 1000 + 5))
[ $loop_s -gt 150 ] && loop_s=150
ping_count=$((loop_s * 100))
diag "one A+B apply pair takes ${pair_ms} ms; pinging ${ping_count} times at 10 ms"

bg_in_ns 240 plc "$PYTHON" "$T/udpseq.py" recv $PLC 5000 --denied-port 5001 \
	--max-time 220 --ready "$T/ready" >"$T/recv.json"
recv_pid=$CG_LAST_PID
wait_until 5 test -e "$T/ready" || diag "the UDP receiver did not start"

bg_in_ns 240 biz ping -q -n -i 0.01 -c $ping_count -W 2 $PLC >"$T/ping.out" 2>&1
ping_pid=$CG_LAST_PID
bg_in_ns 240 biz ping -6 -q -n -i 0.01 -c $ping_count -W 2 $PLC6 >"$T/ping6.out" 2>&1
ping6_pid=$CG_LAST_PID
bg_in_ns 240 biz "$PYTHON" "$T/udpseq.py" send $PLC 5000 --denied-port 5001 \
	--interval 0.002 --stop-file "$T/stop" --max-time 200 >"$T/send.json"
send_pid=$CG_LAST_PID
sleep 1

failed_applies=0
applied=0
loop_start=$SECONDS
for ((i = 1; i <= RELOADS; i++)); do
	if ((i % 2)); then p=b; else p=a; fi
	if out=$(cg apply "$T/$p.yaml" 2>&1); then
		applied=$((applied + 1))
	else
		failed_applies=$((failed_applies + 1))
		diag "apply $p ($i) failed: ${out:0:500}"
	fi
done
loop_s_real=$((SECONDS - loop_start))
ping_alive=no
kill -0 "$ping_pid" 2>/dev/null && ping_alive=yes
sleep 1
touch "$T/stop"
wait "$send_pid"
wait "$recv_pid"
wait "$ping_pid"
wait "$ping6_pid"

expect "$RELOADS applies of A and B in turn under traffic all succeed" "$applied" -eq "$RELOADS"
expect "the pings outlasted the reload loop (${loop_s_real} s)" "$ping_alive" = yes

sent=$(jq -r '.sent // 0' "$T/send.json" 2>/dev/null)
received=$(jq -r '.received // 0' "$T/recv.json" 2>/dev/null)
missing=$(jq -r '.missing // "?"' "$T/recv.json" 2>/dev/null)
denied=$(jq -r '.denied // "?"' "$T/recv.json" 2>/dev/null)
diag "UDP: sent $sent, received $received, missing $missing, denied flow received $denied"
expect "UDP 5000 (allowed in A and B): datagrams went out during the reloads" "${sent:-0}" -ge 500
expect "UDP 5000: not one datagram lost across $RELOADS reloads" "${received:-0}" -eq "${sent:-x}" ||
	diag "receiver: $(cat "$T/recv.json")"
expect "UDP 5001 (denied in A and B): not one datagram got through" "${denied:-x}" -eq 0

ping_tx() { sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) \(packets \)\{0,1\}received.*/\1 \2/p' "$1"; }
read -r tx rx <<<"$(ping_tx "$T/ping.out")"
diag "ping: ${tx:-?} sent, ${rx:-?} received"
expect "ICMP (allowed in A and B): not one echo lost across $RELOADS reloads" \
	"${rx:-0}" -eq "${tx:-x}" || diag "$(cat "$T/ping.out")"
read -r tx rx <<<"$(ping_tx "$T/ping6.out")"
diag "ping -6: ${tx:-?} sent, ${rx:-?} received"
expect "ICMPv6 (allowed in A and B): not one echo lost across $RELOADS reloads" \
	"${rx:-0}" -eq "${tx:-x}" || diag "$(cat "$T/ping6.out")"

status=$(cg_status_json)
expect "after the loop, A is the active policy" "$(jq -r '.policy.name // empty' <<<"$status")" = reload-a
expect "the reloaded A counts the UDP stream on its flow" \
	"$(cg_flow hmi-streams-to-hoist "$status")" -ge 1

# ---- per-flow counters follow their flow by name across a reload
# C is A with a new flow first: every kept flow moves one place down.
sed 's/^flows:$/flows:\n  - name: cctv-to-vms\n    from: crane-cctv\n    to: 198.18.10.40\n    proto: tcp\n    ports: [554]/' \
	"$T/a.yaml" | sed 's/^name: reload-a/name: reload-c/' >"$T/c.yaml"
counts() { # the packets of A's flows, in one line
	local json f out=
	json=$(cg_status_json)
	for f in hmi-pings-plcs hmi-pings-plcs-v6 hmi-streams-to-hoist mgmt-ssh; do
		out+="$f=$(cg_flow "$f" "$json") "
	done
	echo "$out"
}
before=$(counts)
diag "A's counters: $before"
check "apply C (A with a flow put first)" cg apply "$T/c.yaml"
expect "... every flow A and C share keeps its count, by name" "$(counts)" = "$before"
expect "... and C's new flow starts from zero" "$(cg_flow cctv-to-vms)" -eq 0
check "apply A again" cg apply "$T/a.yaml"
expect "... and the counts come back with their flows" "$(counts)" = "$before"
status=$(cg_status_json)

# ---- a broken policy changes nothing
name_before=$(jq -r '.policy.name // empty' <<<"$status")
sha_before=$(jq -r '.policy.sha256 // empty' <<<"$status")
for broken in broken-zone broken-yaml; do
	out=$(cg apply "$T/$broken.yaml" 2>&1)
	rc=$?
	expect "apply $broken.yaml fails" "$rc" -ne 0 || diag "$out"
	status=$(cg_status_json)
	expect "... and the active policy is still A (name)" \
		"$(jq -r '.policy.name // empty' <<<"$status")" = "$name_before"
	expect "... and the active policy is still A (sha256)" \
		"$(jq -r '.policy.sha256 // empty' <<<"$status")" = "$sha_before"
done
enforcing "after the broken applies"

# ---- a loader killed with SIGKILL
# apply, killed at several points of its work: whatever it managed, the
# gate stays attached and enforcing, and the next apply adopts it.
# The kill points are spread over the time one apply took above.
delays=$(awk -v ms="$pair_ms" 'BEGIN { n = split("3 15 30 50 70 90 110", f, " ");
	for (i = 1; i <= n; i++) printf "%.3f ", ms / 2 * f[i] / 100000 }')
exec 3>&2 2>/dev/null # bash reports every killed job on stderr
for delay in $delays; do
	nsenter --net="/var/run/netns/${P}gw" "$CG_BIN" apply "$T/b.yaml" \
		--pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" >/dev/null 2>&1 &
	pid=$!
	CG_PIDS+=("$pid")
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null && diag "killed apply after ${delay}s" ||
		diag "apply finished within ${delay}s"
	wait "$pid" 2>/dev/null
done
exec 2>&3 3>&-
enforcing "after apply was killed with SIGKILL"
check "a new apply adopts the gate" cg apply "$T/a.yaml"
expect "... and A is active" "$(cg_policy_field name)" = reload-a
multi=
for dev in biz0 crane0 cctv0 mgmt0; do
	[ "$(xdp_prog_ids "$dev" | wc -l)" -eq 1 ] || multi+=" $dev:$(xdp_prog_ids "$dev" | tr '\n' ,)"
done
expect "exactly one XDP program on each interface" "${multi:- ok}" = " ok"
enforcing "after adoption"

# `run` is the long-running loader; kill it with SIGKILL once it has applied.
if "$CG_BIN" run --help 2>&1 | grep -q 'usage: cranegate run'; then
	cg_bg 60 "$T/run.out" run "$T/b.yaml"
	run_pid=$CG_LAST_PID
	if wait_until 20 bash -c "[ \"\$(nsenter --net=/var/run/netns/${P}gw $CG_BIN status --json \
		--pin-root $CG_PIN_ROOT --state-dir $CG_STATE_DIR | jq -r .policy.name)\" = reload-b ]"; then
		ok "run applied B"
	else
		not_ok "run applied B" "$(head -c 1000 "$T/run.out.err")"
	fi
	# The loader itself, not the timeout wrapper around it.
	loader=$(pgrep -P "$run_pid" | head -1)
	exec 3>&2 2>/dev/null
	kill -9 "${loader:-$run_pid}" 2>/dev/null
	wait "$run_pid" 2>/dev/null
	exec 2>&3 3>&-
	enforcing "after run was killed with SIGKILL"
	check "a new apply adopts the gate left by run" cg apply "$T/a.yaml"
	enforcing "after adopting run's gate"
else
	skip "cranegate run killed with SIGKILL leaves the gate enforcing" \
		"this cranegate has no run command"
fi

# ---- a gate of an older version: its connection table has another shape
# The running gate's own table stays its own (the program holds it); a
# stand-in of another value size takes the pin, as an older version's
# gate leaves it. apply must refuse before loading, name the table and
# the upgrade, and change nothing: the gate keeps enforcing A.
ids_before=$(for dev in biz0 crane0 cctv0 mgmt0; do xdp_prog_ids "$dev"; done | sort | tr '\n' ,)
conns_vs=$(bpftool map show pinned "$CG_PIN_ROOT/conns" -j | jq -r .bytes_value)
mv_ok=
if rm -f "$CG_PIN_ROOT/conns" &&
	bpftool map create "$CG_PIN_ROOT/conns" type lru_hash key 40 \
		value $((conns_vs - 48)) entries 1024 name conns; then
	mv_ok=1
fi
expect "a stand-in for an older version's connection table" "${mv_ok:-no}" = 1
out=$(cg apply "$T/b.yaml" 2>&1)
rc=$?
expect "apply over it fails" "$rc" -ne 0
expect "... naming the table and both shapes" \
	"$(grep -c "the map 'conns' pinned under .* is from another version of cranegate (key 40 bytes, value $((conns_vs - 48)); this version's: 40, $conns_vs)" <<<"$out")" -eq 1 ||
	diag "$out"
expect "... and saying how to upgrade, and what it costs" \
	"$(grep -c 'To upgrade it, `cranegate detach` and then apply again: in between the interfaces pass traffic unfiltered' <<<"$out")" -eq 1
expect "... without trying to load" "$(grep -c 'loading the XDP program failed' <<<"$out")" -eq 0
expect "... the active policy is still A" "$(cg_policy_field name)" = reload-a
ids_after=$(for dev in biz0 crane0 cctv0 mgmt0; do xdp_prog_ids "$dev"; done | sort | tr '\n' ,)
expect "... the same programs on the interfaces" "$ids_after" = "$ids_before"
enforcing "after apply refused an older version's table"

# A gate from before the event sketch left an event_sources pin (its
# per-source LRU): detach removes it too.
check "a stand-in for the event_sources pin of an older gate" \
	bpftool map create "$CG_PIN_ROOT/event_sources" type lru_hash key 20 \
	value 16 entries 256 name event_sources
check "detach" cg detach
left=$(pins_left)
expect "no pins left under the pin root" "${left:-none}" = none

tap_done
