#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: privileges and files. TAP output.
#
#  1. The policy file's permissions: apply (and apply --confirm) refuses
#     a file writable by its group or by others, owned by another user,
#     or in a directory others can write (not sticky), also when the
#     path reaches it through a symbolic link, with the exact message;
#     the gate is unchanged after each refusal (sha256 and program id).
#     A sticky directory is fine; --insecure accepts; check only warns.
#  2. run refuses such a file at start and on SIGHUP (the running policy
#     stays), and accepts it with --insecure.
#  3. run drops capabilities after the first apply: CapEff, CapPrm and
#     CapBnd of every thread are exactly CAP_BPF, CAP_NET_ADMIN,
#     CAP_PERFMON and CAP_SYS_ADMIN, CapInh and CapAmb are empty,
#     NoNewPrivs is 1; the systemd unit's CapabilityBoundingSet names the
#     same set; SIGHUP still reloads, events still stream, /metrics is
#     served. The same under the unit's bounding set (no CAP_SETPCAP),
#     set with setpriv(1). With --no-reload: CAP_BPF and CAP_SYS_ADMIN
#     only (and CAP_NET_ADMIN with --detach-on-exit, which then detaches),
#     and SIGHUP does not apply.

. "$(dirname "$0")/lib.sh"

CG_PIN_ROOT=/sys/fs/bpf/cg-$P

sandbox_up
T=$CG_TMP
umask 022

policy() { # NAME
	cat <<EOF
version: 1
name: $1
EOF
	topo_zones
	cat <<EOF
flows:
  - name: hmi-pings-plcs
    from: 198.18.10.5
    to: crane-control
    proto: icmp
EOF
}
policy privs-a >"$T/a.yaml"
policy privs-b >"$T/b.yaml"
SHA_A=$(sha256sum <"$T/a.yaml" | cut -c1-64)
SHA_B=$(sha256sum <"$T/b.yaml" | cut -c1-64)

active_sha() { cg_policy_field sha256; }

# ---- 1. apply and the policy file's permissions
check "apply a 0644 policy in a private directory" cg apply "$T/a.yaml"
SHA0=$(active_sha)
expect "the active policy is A" "$SHA0" = "$SHA_A"
gate_before=$(cg_status_json | jq -c '{p: .policy, a: .attached}')

# refused DESCRIPTION FILE EXPECTED_MESSAGE [APPLY OPTIONS...]
refused() {
	local desc=$1 file=$2 want=$3 out rc
	shift 3
	out=$(cg apply "$@" "$file" 2>&1)
	rc=$?
	expect "$desc: apply exits 1" "$rc" -eq 1
	expect "$desc: the message" "$out" = "$want"
	expect "$desc: the gate is unchanged" \
		"$(cg_status_json | jq -c '{p: .policy, a: .attached}')" = "$gate_before"
}

cp "$T/b.yaml" "$T/g.yaml" && chmod 0664 "$T/g.yaml"
refused "group-writable file" "$T/g.yaml" \
	"cranegate: $T/g.yaml: refusing the policy: the file is mode 0664, writable by its group (fix: chmod go-w $T/g.yaml, or pass --insecure)"
cp "$T/b.yaml" "$T/w.yaml" && chmod 0646 "$T/w.yaml"
refused "world-writable file" "$T/w.yaml" \
	"cranegate: $T/w.yaml: refusing the policy: the file is mode 0646, writable by others (fix: chmod go-w $T/w.yaml, or pass --insecure)"
refused "world-writable file, apply --confirm" "$T/w.yaml" \
	"cranegate: $T/w.yaml: refusing the policy: the file is mode 0646, writable by others (fix: chmod go-w $T/w.yaml, or pass --insecure)" \
	--confirm 30
cp "$T/b.yaml" "$T/o.yaml" && chown 65534 "$T/o.yaml"
refused "file owned by another user" "$T/o.yaml" \
	"cranegate: $T/o.yaml: refusing the policy: the file belongs to uid 65534, not to root (fix: chown root $T/o.yaml, or pass --insecure)"
mkdir "$T/open" && chmod 0777 "$T/open" && cp "$T/b.yaml" "$T/open/p.yaml"
refused "directory writable by others" "$T/open/p.yaml" \
	"cranegate: $T/open/p.yaml: refusing the policy: its directory $T/open is mode 0777, writable by its group and others, who can replace the file (fix: chmod go-w $T/open, or pass --insecure)"
mkdir "$T/theirs" && chown 65534 "$T/theirs" && cp "$T/b.yaml" "$T/theirs/p.yaml"
refused "directory owned by another user" "$T/theirs/p.yaml" \
	"cranegate: $T/theirs/p.yaml: refusing the policy: its directory $T/theirs belongs to uid 65534, not to root (fix: chown root $T/theirs, or pass --insecure)"
ln -s "$T/b.yaml" "$T/open/link.yaml"
refused "a symbolic link in a directory others can write" "$T/open/link.yaml" \
	"cranegate: $T/open/link.yaml: refusing the policy: its directory $T/open is mode 0777, writable by its group and others, who can replace the file (fix: chmod go-w $T/open, or pass --insecure)"
pushd "$T/open" >/dev/null
refused "a relative path" p.yaml \
	"cranegate: p.yaml: refusing the policy: its directory $T/open is mode 0777, writable by its group and others, who can replace the file (fix: chmod go-w $T/open, or pass --insecure)"
popd >/dev/null

out=$(cg check "$T/w.yaml" 2>&1)
expect "check only warns about a world-writable file (exit 0)" "$?" -eq 0
expect "check's warning" "$(grep 'will refuse' <<<"$out")" = \
	"cranegate: warning: $T/w.yaml: apply and run will refuse this policy: the file is mode 0646, writable by others (fix: chmod go-w $T/w.yaml, or pass --insecure)"
out=$(cg check "$T/b.yaml" 2>&1)
expect "check says nothing about a 0644 file" "$(grep -c 'refuse' <<<"$out")" -eq 0

mkdir "$T/sticky" && chmod 1777 "$T/sticky" && cp "$T/b.yaml" "$T/sticky/p.yaml"
check "apply accepts a root-owned file in a sticky directory" cg apply "$T/sticky/p.yaml"
expect "... and B is active" "$(active_sha)" = "$SHA_B"
check "apply --insecure accepts a world-writable file" cg apply --insecure "$T/open/p.yaml"
check "apply A again" cg apply "$T/a.yaml"

# ---- 2. run and the policy file's permissions
out=$(timeout 20 nsenter --net="/var/run/netns/${P}gw" "$CG_BIN" run "$T/w.yaml" \
	--pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" --summary 0 2>"$T/run-refused.err")
rc=$?
expect "run refuses a world-writable policy at start (exit 1)" "$rc" -eq 1
expect "run's log says why" \
	"$(jq -r 'select(.type == "apply") | .errors[0]' <<<"$out")" = \
	"cranegate: $T/w.yaml: refusing the policy: the file is mode 0646, writable by others (fix: chmod go-w $T/w.yaml, or pass --insecure)"
expect "the gate is unchanged after run refused" "$(active_sha)" = "$SHA_A"

# ---- 3. run drops its capabilities
# The capability numbers (linux/capability.h).
CAP_NET_ADMIN=12 CAP_SYS_ADMIN=21 CAP_PERFMON=38 CAP_BPF=39
mask() { # CAP...
	local m=0 c
	for c in "$@"; do m=$((m | (1 << c))); done
	printf '%016x' "$m"
}
RELOAD_CAPS=$(mask $CAP_BPF $CAP_NET_ADMIN $CAP_PERFMON $CAP_SYS_ADMIN)
STREAM_CAPS=$(mask $CAP_BPF $CAP_SYS_ADMIN)

# The unit keeps what run keeps.
unit_caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$CG_TOP/user/dist/cranegate.service")
unit_mask=0
for c in $unit_caps; do
	case $c in
	CAP_BPF) unit_mask=$((unit_mask | (1 << CAP_BPF))) ;;
	CAP_NET_ADMIN) unit_mask=$((unit_mask | (1 << CAP_NET_ADMIN))) ;;
	CAP_PERFMON) unit_mask=$((unit_mask | (1 << CAP_PERFMON))) ;;
	CAP_SYS_ADMIN) unit_mask=$((unit_mask | (1 << CAP_SYS_ADMIN))) ;;
	*) unit_mask=-1 ;;
	esac
done
expect "the unit's CapabilityBoundingSet is what run keeps" "$(printf '%016x' "$unit_mask")" = "$RELOAD_CAPS"

# run_pid: the cranegate process under the last cg_bg (timeout's child).
run_pid() {
	local p
	p=$(pgrep -P "$CG_LAST_PID" | head -1)
	[ -n "$p" ] && echo "$p"
}

# caps_of PID FIELD: the field of every thread, sorted and unique.
caps_of() {
	local t
	for t in /proc/"$1"/task/*/status; do
		awk -v f="$2:" '$1 == f { print $2 }' "$t"
	done | sort -u | tr '\n' ' ' | sed 's/ $//'
}

has_record() { # LOG JQ_FILTER
	jq -e -s "[.[] | $2] | length > 0" "$1" >/dev/null 2>&1
}

# check_run LABEL EXPECTED_MASK LOG: the capabilities of the running daemon.
check_caps() {
	local label=$1 want=$2 log=$3 pid
	if ! wait_until 20 has_record "$log" 'select(.type == "privileges")'; then
		not_ok "$label: run reports its privileges" "$(tail -n 5 "$log" "$log.err")"
		return 1
	fi
	pid=$(run_pid)
	expect "$label: the threads looked at include the metrics server's" \
		"$(ls /proc/"$pid"/task | wc -l)" -ge 2
	expect "$label: CapEff of every thread" "$(caps_of "$pid" CapEff)" = "$want"
	expect "$label: CapPrm of every thread" "$(caps_of "$pid" CapPrm)" = "$want"
	expect "$label: CapBnd of every thread" "$(caps_of "$pid" CapBnd)" = "$want"
	expect "$label: CapInh is empty" "$(caps_of "$pid" CapInh)" = 0000000000000000
	expect "$label: CapAmb is empty" "$(caps_of "$pid" CapAmb)" = 0000000000000000
	expect "$label: NoNewPrivs" "$(caps_of "$pid" NoNewPrivs)" = 1
}

# A denied frame: the camera may not ping the PLC.
denied_ping() { in_ns cam timeout 5 ping -q -n -c 2 -i 0.2 -W 1 "$PLC" >/dev/null 2>&1; }

# run_checks LABEL LOG: reload, events and metrics after the drop.
run_checks() {
	local label=$1 log=$2
	denied_ping
	if wait_until 10 has_record "$log" 'select(.type == "event" and .reason == "no-rule")'; then
		ok "$label: events still stream after the drop"
	else
		not_ok "$label: events still stream after the drop" "$(tail -3 "$log")"
	fi
	expect "$label: /metrics is served" \
		"$(in_ns gw timeout 5 curl -s "http://127.0.0.1:$PORT/metrics" | grep -c '^cranegate_policy_active 1')" -eq 1
	install -m 0644 "$T/b.yaml" "$T/run.yaml"
	kill -HUP "$(run_pid)"
	if wait_until 15 has_record "$log" 'select(.type == "apply" and .trigger == "sighup" and .ok == true)'; then
		ok "$label: SIGHUP reloads after the drop"
	else
		not_ok "$label: SIGHUP reloads after the drop" "$(tail -n 3 "$log" "$log.err")"
	fi
	expect "$label: B is active after SIGHUP" "$(active_sha)" = "$SHA_B"
	xdp_attached crane0 && ok "$label: still attached" || not_ok "$label: still attached"
	# A file others can write is refused on SIGHUP; B stays.
	install -m 0666 "$T/a.yaml" "$T/run.yaml"
	kill -HUP "$(run_pid)"
	if wait_until 15 has_record "$log" 'select(.type == "apply" and .trigger == "sighup" and .ok == false)'; then
		ok "$label: SIGHUP refuses a world-writable policy"
	else
		not_ok "$label: SIGHUP refuses a world-writable policy" "$(tail -3 "$log")"
	fi
	expect "$label: the refusal names the fix" \
		"$(jq -r 'select(.type == "apply" and .ok == false) | .errors[0]' "$log" | tail -1)" = \
		"cranegate: $T/run.yaml: refusing the policy: the file is mode 0666, writable by its group and others (fix: chmod go-w $T/run.yaml, or pass --insecure)"
	expect "$label: B stays active" "$(active_sha)" = "$SHA_B"
}

stop_run() {
	local pid
	pid=$(run_pid) && kill -TERM "$pid"
	wait "$CG_LAST_PID" 2>/dev/null
}

PORT=$((20000 + $$ % 20000))
install -m 0644 "$T/a.yaml" "$T/run.yaml"
cg_bg 60 "$T/run1.log" run "$T/run.yaml" --summary 0 --metrics "127.0.0.1:$PORT"
check_caps "run as root" "$RELOAD_CAPS" "$T/run1.log"
run_checks "run as root" "$T/run1.log"
stop_run

# Under the unit's bounding set: no CAP_SETPCAP to shrink it with.
install -m 0644 "$T/a.yaml" "$T/run.yaml"
timeout -s INT -k 5 60 nsenter --net="/var/run/netns/${P}gw" \
	setpriv --bounding-set -all,+bpf,+net_admin,+perfmon,+sys_admin --inh-caps -all \
	"$CG_BIN" run "$T/run.yaml" --pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" \
	--summary 0 --metrics "127.0.0.1:$PORT" >"$T/run2.log" 2>"$T/run2.log.err" </dev/null &
CG_LAST_PID=$!
CG_PIDS+=("$CG_LAST_PID")
check_caps "run under the unit's bounding set" "$RELOAD_CAPS" "$T/run2.log"
run_checks "run under the unit's bounding set" "$T/run2.log"
stop_run

# --no-reload: what streaming and metrics need.
install -m 0644 "$T/a.yaml" "$T/run.yaml"
cg_bg 60 "$T/run3.log" run "$T/run.yaml" --no-reload --summary 0 --metrics "127.0.0.1:$PORT"
check_caps "run --no-reload" "$STREAM_CAPS" "$T/run3.log"
denied_ping
wait_until 10 has_record "$T/run3.log" 'select(.type == "event")' &&
	ok "run --no-reload: events stream" || not_ok "run --no-reload: events stream"
expect "run --no-reload: /metrics is served" \
	"$(in_ns gw timeout 5 curl -s "http://127.0.0.1:$PORT/metrics" | grep -c '^cranegate_policy_active 1')" -eq 1
install -m 0644 "$T/b.yaml" "$T/run.yaml"
kill -HUP "$(run_pid)"
sleep 1
expect "run --no-reload: SIGHUP applies nothing" "$(active_sha)" = "$SHA_A"
expect "run --no-reload: still one apply record" \
	"$(jq -s '[.[] | select(.type == "apply")] | length' "$T/run3.log")" -eq 1
stop_run

# --no-reload --detach-on-exit keeps CAP_NET_ADMIN, to detach on SIGTERM.
install -m 0644 "$T/a.yaml" "$T/run.yaml"
cg_bg 60 "$T/run5.log" run "$T/run.yaml" --no-reload --detach-on-exit --summary 0 --metrics "127.0.0.1:$PORT"
check_caps "run --no-reload --detach-on-exit" "$(mask $CAP_BPF $CAP_SYS_ADMIN $CAP_NET_ADMIN)" "$T/run5.log"
stop_run
expect "run --no-reload --detach-on-exit: detached on SIGTERM" \
	"$(jq -r 'select(.type == "stop") | .gate' "$T/run5.log")" = detached
xdp_attached crane0 && not_ok "run --no-reload --detach-on-exit: crane0 has no program left" ||
	ok "run --no-reload --detach-on-exit: crane0 has no program left"

# --insecure: run accepts the world-writable file.
install -m 0666 "$T/b.yaml" "$T/run.yaml"
cg_bg 30 "$T/run4.log" run "$T/run.yaml" --insecure --summary 0
wait_until 15 has_record "$T/run4.log" 'select(.type == "apply" and .ok == true)' &&
	ok "run --insecure accepts a world-writable policy" ||
	not_ok "run --insecure accepts a world-writable policy" "$(cat "$T/run4.log.err")"
stop_run

check "detach" cg detach
tap_done
