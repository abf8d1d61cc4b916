#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: change control that does not lie, on a live gate in
# namespaces (issue 13 items 1, 2, 6; issue 19 item 7). TAP output.
#
#   1. A full state directory (a tiny tmpfs) and a read-only one (a bind
#      mount remounted ro) during apply, rollback, confirm and revert: each
#      change is refused with a clear error and changes nothing; a revert
#      that cannot be recorded waits and happens once it can; afterwards
#      the gate and `history` agree, every listed revision can be rolled
#      back to, and the audit log parses line by line.
#   2. A torn last audit line: readers say so and skip it, the next line
#      starts on a line of its own, revision numbers stay unique; a change
#      that recorded "started" but not its result is listed as such, keeps
#      its number and can be rolled back to.
#   3. A pending `apply --confirm` under `run`: survives a re-guard (the
#      interface lost its program), a restart of run, and a restart after
#      its watchdog died (as after a reboot), and still reverts at its
#      deadline; a SIGHUP or --watch reload that applies another policy
#      ends it, and the audit log and run's log say so.
#   4. One run per pin root (the second names the first's pid); detach
#      refuses while run manages the gate.
#   5. A pin root pre-created by nobody with mode 0777, a state directory
#      others can write: refused, naming the directory and the fix.

. "$(dirname "$0")/lib.sh"

sandbox_up python3
T=$CG_TMP
S0=$CG_STATE_DIR
MOUNTS=()

cleanup() {
	local m
	for m in "${MOUNTS[@]}"; do
		umount -l "$m" 2>/dev/null
	done
	topo_down
}
trap cleanup EXIT

policy() { # NAME [EXTRA_FLOW_LINES]
	cat <<EOF
version: 1
name: $1
$(topo_zones)
hosts:
  scada-hmi: 198.18.10.5
  plc-hoist: 198.18.20.11
flows:
  - name: hmi-pings-plcs
    from: scada-hmi
    to: crane-control
    proto: icmp
$2
EOF
}
policy integ-a "  - name: hmi-polls-hoist
    from: scada-hmi
    to: plc-hoist
    proto: tcp
    ports: [502]" >"$T/a.yaml"
policy integ-b "" >"$T/b.yaml"
policy integ-c "  - name: mgmt-ssh
    from: crane-mgmt
    to: crane-control
    proto: tcp
    ports: [22]" >"$T/c.yaml"
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
SHA_A=$(sha_of "$T/a.yaml")
SHA_B=$(sha_of "$T/b.yaml")

active_sha() { cg_policy_field sha256; }
active_name() { cg_policy_field name; }
pending_rev() { cg_status_json | jq -r '.pending_confirm.rev // "none"'; }

# The gate and history agree: the revision history marks active holds the
# sha256 the gate enforces.
agree() { # LABEL
	local gate hist
	gate=$(active_sha)
	hist=$(cg history --json 2>/dev/null | jq -r '[.[] | select(.active)][0].sha256 // empty')
	if [ -n "$gate" ] && [ "$gate" = "$hist" ]; then
		ok "$1: the gate and history agree (${gate:0:12})"
	else
		not_ok "$1: the gate and history agree" "gate: $gate" "history: $hist" "$(cg history 2>&1)"
	fi
}

# Every line of the audit log is a JSON object (N bad lines allowed).
audit_parses() { # LABEL [ALLOWED_BAD]
	local bad
	bad=$(python3 -c '
import json, sys
bad = 0
for n, line in enumerate(open(sys.argv[1], "rb"), 1):
    try:
        assert isinstance(json.loads(line), dict)
    except Exception:
        bad += 1
        print("line %d: %r" % (n, line[:80]), file=sys.stderr)
print(bad)' "$CG_STATE_DIR/audit.jsonl" 2>"$T/audit.bad")
	expect "$1: the audit log parses line by line" "$bad" -eq "${2:-0}"
	[ "$bad" -eq "${2:-0}" ] || diag "$(cat "$T/audit.bad")"
}

# Revision numbers given out are unique and increasing.
revs_unique() { # LABEL
	local revs sorted
	revs=$(jq -r 'select(.result == "started") | .rev' "$CG_STATE_DIR/audit.jsonl" 2>/dev/null | tr '\n' ' ')
	sorted=$(tr ' ' '\n' <<<"$revs" | grep . | sort -n -u | tr '\n' ' ')
	expect "$1: every revision number was given out once, in order" "$revs" = "$sorted"
}

# Roll back to every revision history lists; each must become active.
rollback_all() { # LABEL
	local rev sha failed=
	while read -r rev sha; do
		if ! cg rollback "$rev" >/dev/null 2>"$T/rb.err" || [ "$(active_sha)" != "$sha" ]; then
			failed+=" $rev($(head -c 200 "$T/rb.err"))"
		fi
	done < <(cg history --json | jq -r '.[] | select(.rev != null and (.action | IN("apply", "rollback", "revert", "promote")) and (.result | startswith("failed") | not)) | "\(.rev) \(.sha256)"' | sort -n -u)
	expect "$1: every revision history lists can be rolled back to" "${failed:-none}" = none
}

# ---- 1a. a full state directory (a tiny tmpfs)
tiny=$T/tiny
mkdir -p "$tiny"
if mount -t tmpfs -o size=256k,mode=0700 "${P}tiny" "$tiny"; then
	MOUNTS+=("$tiny")
	CG_STATE_DIR=$tiny
	check "full: apply A" cg apply "$T/a.yaml"
	check "full: apply B" cg apply "$T/b.yaml"
	check "full: apply --confirm 6 A (reverts to B)" cg apply --confirm 6 "$T/a.yaml"
	wd=$(cg_status_json | jq -r '.pending_confirm.watchdog_pid')
	# Fill it: the audit log up to a page boundary (with a check line,
	# which history skips), then every free block.
	python3 -c '
import os, sys
path = sys.argv[1]
size = os.path.getsize(path)
head = "{\"time\": \"2026-01-01T00:00:00Z\", \"action\": \"check\", \"pad\": \""
tail = "\"}\n"
room = -(size + len(head) + len(tail) + 1) % 4096 + 1
open(path, "a").write(head + " " * room + tail)' "$tiny/audit.jsonl"
	diag "audit.jsonl: $(stat -c %s "$tiny/audit.jsonl") bytes"
	dd if=/dev/zero of="$tiny/fill" bs=4k >/dev/null 2>&1
	out=$(cg apply "$T/c.yaml" 2>&1)
	expect "full: apply C is refused" "$?" -ne 0
	expect "... saying why" "$(grep -c 'refusing the change: cannot keep a copy of the policy: No space left on device; nothing was changed' <<<"$out")" -eq 1
	expect "... and A is still active" "$(active_name)" = integ-a
	out=$(cg rollback 2 2>&1)
	expect "full: rollback 2 is refused (it cannot be recorded)" "$?" -ne 0
	expect "... saying why" "$(grep -c 'cannot record the change in the audit log: No space left on device' <<<"$out")" -eq 1
	expect "... and A is still active" "$(active_name)" = integ-a
	out=$(cg confirm 2>&1)
	expect "full: confirm is refused (it cannot be recorded)" "$?" -ne 0
	expect "... saying the revert still comes" "$(grep -c 'not confirmed: the confirmation cannot be recorded' <<<"$out")" -eq 1
	agree "full, before the deadline"
	sleep 8
	expect "full: past the deadline, the revert that cannot be recorded has not happened" \
		"$(active_name) $(pending_rev)" = "integ-a 3"
	expect "... its watchdog waits to try again" "$(kill -0 "$wd" 2>/dev/null && echo running)" = running
	agree "full, past the deadline"
	rm -f "$tiny/fill"
	if wait_until 15 bash -c "[ \"\$(nsenter --net=/var/run/netns/${P}gw $CG_BIN status --json --pin-root $CG_PIN_ROOT --state-dir $tiny | jq -r .policy.name)\" = integ-b ]"; then
		ok "full: with space again, the revert happens (B is back)"
	else
		not_ok "full: with space again, the revert happens (B is back)" "$(cg status 2>&1 | head -5)"
	fi
	expect "... nothing is pending" "$(pending_rev)" = none
	# The switch comes first, its audit line right after (with the diff).
	wait_until 10 bash -c "jq -e 'select(.action == \"revert\" and .result == \"ok\")' '$tiny/audit.jsonl' >/dev/null" || true
	expect "... and the revert is recorded as revision 4, taking back 3" \
		"$(jq -r 'select(.action == "revert" and .result == "ok") | "\(.rev) \(.reverts_rev)"' "$tiny/audit.jsonl")" = "4 3"
	agree "full, after the revert"
	audit_parses "full"
	revs_unique "full"
	expect "full: history has no revision for the refused C" \
		"$(cg history --json | jq '[.[] | select(.policy == "integ-c" and .rev != null)] | length')" -eq 0
	rollback_all "full"
	agree "full, after the rollbacks"
	CG_STATE_DIR=$S0
else
	skip "full: a tiny tmpfs as state directory" "cannot mount tmpfs"
fi

# ---- 1b. a read-only state directory (a bind mount remounted ro)
ro=$T/ro-state
mkdir -m 0700 "$ro"
CG_STATE_DIR=$ro
check "read-only: apply A" cg apply "$T/a.yaml"
check "read-only: apply B" cg apply "$T/b.yaml"
check "read-only: apply --confirm 6 A (reverts to B)" cg apply --confirm 6 "$T/a.yaml"
if mount --bind "$ro" "$ro" && MOUNTS+=("$ro") && mount -o remount,bind,ro "$ro"; then
	out=$(cg apply "$T/c.yaml" 2>&1)
	expect "read-only: apply C is refused" "$?" -ne 0
	expect "... saying why" "$(grep -c 'cannot keep a copy of the policy: Read-only file system' <<<"$out")" -eq 1
	expect "... and A is still active" "$(active_name)" = integ-a
	check_fails "read-only: rollback 2 is refused" cg rollback 2
	expect "... and A is still active" "$(active_name)" = integ-a
	check_fails "read-only: confirm is refused" cg confirm
	out=$(cg detach 2>&1)
	expect "read-only: detach is refused (it cannot be recorded)" "$?" -ne 0
	expect "... saying why" "$(grep -c 'refusing to detach: it cannot be recorded' <<<"$out")" -eq 1
	expect "... and the gate stays attached" "$(xdp_attached crane0 && echo yes)" = yes
	agree "read-only, before the deadline"
	sleep 8
	expect "read-only: past the deadline, the revert waits (A active, revision 3 pending)" \
		"$(active_name) $(pending_rev)" = "integ-a 3"
	agree "read-only, past the deadline"
	mount -o remount,bind,rw "$ro"
	if wait_until 15 bash -c "[ \"\$(nsenter --net=/var/run/netns/${P}gw $CG_BIN status --json --pin-root $CG_PIN_ROOT --state-dir $ro | jq -r .policy.name)\" = integ-b ]"; then
		ok "read-only: writable again, the revert happens (B is back)"
	else
		not_ok "read-only: writable again, the revert happens (B is back)" "$(cg status 2>&1 | head -5)"
	fi
	agree "read-only, after the revert"
	audit_parses "read-only"
	revs_unique "read-only"
	rollback_all "read-only"
	umount "$ro" && MOUNTS=("${MOUNTS[@]/$ro/}")
else
	skip "read-only: a read-only bind mount as state directory" "cannot bind-mount"
fi
CG_STATE_DIR=$S0

# ---- 2. a torn last audit line
check "apply A (main state directory)" cg apply "$T/a.yaml"
printf '{"time": "2026-12-02T00:00:00Z", "user": "root", "action": "apply", "rev": 77, "pol' >>"$S0/audit.jsonl"
out=$(cg history 2>&1 >/dev/null)
expect "torn: history says the last line is cut off, and skips it" "$(grep -c 'audit.jsonl:[0-9]*: the last line is cut off' <<<"$out")" -eq 1
check "torn: the next apply (B) works" cg apply "$T/b.yaml"
audit_parses "torn" 1
expect "torn: the next line started on a line of its own (B's result is whole)" \
	"$(jq -R -r 'fromjson? | select(.action == "apply" and .result == "ok") | .policy' "$S0/audit.jsonl" | tail -n 1)" = integ-b
expect "torn: numbering goes on from the whole lines (B is revision 2)" \
	"$(jq -R -r 'fromjson? | select(.policy == "integ-b" and .result == "ok") | .rev' "$S0/audit.jsonl" | tail -n 1)" -eq 2
agree "torn"
# A change that recorded "started", then died before its result.
python3 -c '
import json, sys
last = None
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("policy") == "integ-a" and r.get("result") == "started":
        last = r
last["rev"] = 3
open(sys.argv[1], "a").write(json.dumps(last) + "\n")' "$S0/audit.jsonl"
expect "unrecorded: history lists revision 3, whose result was never written" \
	"$(cg history --json 2>/dev/null | jq -r '.[] | select(.rev == 3) | .result')" = "applied, result not recorded"
check "unrecorded: the next apply (C) works" cg apply "$T/c.yaml"
expect "... as revision 4: the number 3 is not given out again" \
	"$(jq -R -r 'fromjson? | select(.policy == "integ-c" and .result == "ok") | .rev' "$S0/audit.jsonl" | tail -n 1)" -eq 4
check "unrecorded: revision 3 can be rolled back to" cg rollback 3
expect "... A is active" "$(active_name)" = integ-a
agree "unrecorded"

# ---- 3. a pending confirmation under run
LOG=$T/run.jsonl
POLICY=$T/policy.yaml
cp "$T/a.yaml" "$POLICY"
start_run "$LOG" "$POLICY" --summary 0 || diag "run did not start"
wait_until 10 log_has '.type == "apply" and .ok and .trigger == "start"' ||
	diag "no start record: $(cat "$LOG.err")"
DEADLINE=40
check "run: apply --confirm $DEADLINE B" cg apply --confirm $DEADLINE "$T/b.yaml"
prev=$(pending_rev)
wd=$(cg_status_json | jq -r '.pending_confirm.watchdog_pid')
t0=$SECONDS
ip -n "${P}gw" link set dev crane0 xdp off
if wait_until 10 log_has '.type == "apply" and .ok and .trigger == "link"'; then
	ok "run re-guards crane0 after its program was removed"
else
	not_ok "run re-guards crane0 after its program was removed" "$(tail -3 "$LOG")" "$(tail -3 "$LOG.err")"
fi
expect "... with B, the policy awaiting confirmation" "$(active_name)" = integ-b
expect "... and the confirmation is still pending (revision $prev)" "$(pending_rev)" = "$prev"
expect "... run's log says so" "$(jq -r 'select(.type == "apply" and .trigger == "link") | .pending_confirm_rev' "$LOG" | tail -n 1)" = "$prev"
kill -TERM "$RUN_PID"
wait_until 10 bash -c "! kill -0 $RUN_PID 2>/dev/null"
start_run "$LOG.2" "$POLICY" --summary 0 || diag "run did not start again"
wait_until 10 log_has '.type == "apply" and .trigger == "start"' "$LOG.2"
expect "a restarted run applies B (awaiting confirmation), not its POLICY (A)" "$(active_name)" = integ-b
expect "... the confirmation is still pending" "$(pending_rev)" = "$prev"
expect "... with the same watchdog" "$(cg_status_json | jq -r '.pending_confirm.watchdog_pid')" = "$wd"
# As after a reboot: the watchdog is gone.
kill -TERM "$RUN_PID"
wait_until 10 bash -c "! kill -0 $RUN_PID 2>/dev/null"
kill -KILL "$wd" 2>/dev/null
wait_until 5 bash -c "! kill -0 $wd 2>/dev/null"
start_run "$LOG.3" "$POLICY" --summary 0 || diag "run did not start a third time"
wait_until 10 log_has '.type == "apply" and .trigger == "start"' "$LOG.3"
wd2=$(cg_status_json | jq -r '.pending_confirm.watchdog_pid')
expect "a run started after the watchdog died starts a new one" \
	"$([ "$wd2" != "$wd" ] && kill -0 "$wd2" 2>/dev/null && echo new)" = new
expect "... and B is still awaiting confirmation" "$(active_name) $(pending_rev)" = "integ-b $prev"
left=$((DEADLINE - (SECONDS - t0)))
if wait_until $((left + 10)) bash -c "[ \"\$(nsenter --net=/var/run/netns/${P}gw $CG_BIN status --json --pin-root $CG_PIN_ROOT --state-dir $S0 | jq -r .policy.name)\" = integ-a ]"; then
	ok "... the revert still happens at the deadline (A is back after $((SECONDS - t0)) s)"
else
	not_ok "... the revert still happens at the deadline" "$(cg status 2>&1 | head -5)"
fi
expect "... and not before it" $((SECONDS - t0)) -ge $((DEADLINE - 1))
diag "the steps before the deadline took $((DEADLINE - left)) s"
agree "after the revert under run"

# A SIGHUP that applies another policy is a decision.
check "run: apply --confirm 60 B" cg apply --confirm 60 "$T/b.yaml"
prev=$(pending_rev)
cp "$T/c.yaml" "$POLICY"
kill -HUP "$RUN_PID"
if wait_until 10 log_has '.type == "apply" and .ok and .trigger == "sighup"' "$LOG.3"; then
	ok "SIGHUP applies C"
else
	not_ok "SIGHUP applies C" "$(tail -3 "$LOG.3.err")"
fi
expect "... which ends the pending confirmation" "$(pending_rev)" = none
expect "... run's log says so" \
	"$(jq -r 'select(.type == "apply" and .trigger == "sighup") | .cancels_confirm_rev' "$LOG.3" | tail -n 1)" = "$prev"
expect "... and so does the audit log" \
	"$(jq -R -r 'fromjson? | select(.action == "apply" and .result == "ok") | "\(.policy) \(.cancels_confirm_rev)"' "$S0/audit.jsonl" | tail -n 1)" = "integ-c $prev"

# A --watch reload of another policy is a decision too.
kill -TERM "$RUN_PID"
wait_until 10 bash -c "! kill -0 $RUN_PID 2>/dev/null"
start_run "$LOG.4" "$POLICY" --watch --summary 0 || diag "run --watch did not start"
wait_until 10 log_has '.type == "apply" and .ok and .trigger == "start"' "$LOG.4"
check "run --watch: apply --confirm 60 B" cg apply --confirm 60 "$T/b.yaml"
prev=$(pending_rev)
cp "$T/a.yaml" "$T/policy.new" && mv "$T/policy.new" "$POLICY"
if wait_until 10 log_has '.type == "apply" and .ok and .trigger == "watch"' "$LOG.4"; then
	ok "run --watch applies A when the file changes"
else
	not_ok "run --watch applies A when the file changes" "$(tail -3 "$LOG.4.err")"
fi
expect "... which ends the pending confirmation" "$(pending_rev)" = none
expect "... run's log says so" \
	"$(jq -r 'select(.type == "apply" and .trigger == "watch") | .cancels_confirm_rev' "$LOG.4" | tail -n 1)" = "$prev"

# ---- 4. one run per pin root; detach while run manages the gate
start_run "$T/second.jsonl" "$POLICY" --summary 0
second=$RUN_TIMEOUT_PID
if wait_until 10 bash -c "! kill -0 $second 2>/dev/null"; then
	ok "a second run on the same pin root exits"
else
	not_ok "a second run on the same pin root exits"
fi
first=$(cg_status_json | jq -r '.run_pid')
expect "... naming the first one's pid ($first)" \
	"$(grep -c "another \`cranegate run\` (pid $first) already manages the gate" "$T/second.jsonl.err")" -eq 1
expect "status names the run that manages the gate" "$(cg status | grep -c "^run: .*pid $first")" -eq 1
out=$(cg detach 2>&1)
expect "detach refuses while run manages the gate" "$?" -ne 0
expect "... naming run's pid and what to do" "$(grep -c "(pid $first) manages the gate.*stop it first" <<<"$out")" -eq 1
expect "... and the gate stays attached" "$(xdp_attached crane0 && echo yes)" = yes
kill -TERM "$first"
wait_until 10 bash -c "! kill -0 $first 2>/dev/null"
check "with run stopped, detach works" cg detach
expect "... and the gate is gone" "$(xdp_attached crane0 && echo yes)" = ""

# ---- 5. directories someone else owns
rm -rf "$CG_PIN_ROOT"
mkdir -m 0777 "$CG_PIN_ROOT" && chown nobody "$CG_PIN_ROOT" && chmod 0777 "$CG_PIN_ROOT"
out=$(cg apply "$T/a.yaml" 2>&1)
expect "a pin root pre-created by nobody (0777): apply refuses" "$?" -ne 0
expect "... naming it, its owner and the fix" \
	"$(grep -c "refusing the pin root $CG_PIN_ROOT: it belongs to uid $(id -u nobody), not to root.*fix: remove it" <<<"$out")" -eq 1
expect "... and nothing is attached" "$(xdp_attached crane0 && echo yes)" = ""
expect "status says so" "$(cg status 2>/dev/null | grep -c "^access: .*refusing the pin root $CG_PIN_ROOT")" -eq 1
chown root "$CG_PIN_ROOT"
out=$(cg apply "$T/a.yaml" 2>&1)
expect "... root's but mode 0777: still refused" "$(grep -c "refusing the pin root $CG_PIN_ROOT: it is mode 0777, writable by its group and others" <<<"$out")" -eq 1
rmdir "$CG_PIN_ROOT"
check "with it removed, apply creates the pin root" cg apply "$T/a.yaml"
expect "... 0700, root's" "$(stat -c '%a %U' "$CG_PIN_ROOT")" = "700 root"
expect "status says the directories are root's alone" "$(cg status | grep -c '^access: .* are root.s and writable by no one else')" -eq 1
loose=$T/loose
mkdir -m 0700 "$loose" && chmod 0770 "$loose"
out=$(CG_STATE_DIR=$loose cg apply "$T/b.yaml" 2>&1)
expect "a state directory its group can write: apply refuses" "$?" -ne 0
expect "... naming it and the fix" "$(grep -c "refusing the state directory $loose: it is mode 0770, writable by its group" <<<"$out")" -eq 1
expect "... and A stays" "$(active_name)" = integ-a
mkdir -m 0700 "$T/open"
chmod 0777 "$T/open"
mkdir -m 0700 "$T/open/state"
out=$(CG_STATE_DIR=$T/open/state cg apply "$T/b.yaml" 2>&1)
expect "a state directory below a directory others can write: refused" \
	"$(grep -c "refusing the state directory $T/open/state: the directory $T/open above it is mode 0777" <<<"$out")" -eq 1

tap_done
