#!/usr/bin/env bash
# scripts/tests/supervise-test.sh — tests scripts/lib/supervise.sh, the supervision that
# scripts/run uses, with small dummy services (bash -c '...') instead of the Swift ones:
# no build, no stack.
#
#   bash scripts/tests/supervise-test.sh        (scripts/test runs it after the lint)
#
# Checks that a service killed with kill -9 is restarted, says so, and appends to its log
# while its sibling keeps its PID; that the restart delay doubles up to its cap and starts
# over after a long run; that a service exiting with status 2 is not restarted; and that
# SIGTERM to the supervisor stops every service — one ignoring SIGTERM, one with a child,
# one waiting to restart — and leaves no process behind. Takes about 5 s. Prints one line
# per check, then exactly one line "supervise: N passed, M failed"; exits non-zero if any
# check failed. Every process it starts carries a token in its environment, by which the
# clean-up (at any exit) finds and kills them all.
#
# Internally, `supervise-test.sh --supervisor DIR NAME BODY [NAME BODY...]` is one
# supervisor under test: it supervises `bash -c BODY` as NAME until SIGTERM.
set -euo pipefail

# The scenarios set the restart delays they need; ignore the caller's.
if [[ "${1:-}" != --supervisor ]]; then
    unset KINDRED_RESTART_BACKOFF_BASE_MS KINDRED_RESTART_BACKOFF_MAX_MS KINDRED_RESTART_BACKOFF_RESET_MS
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
self="$here/$(basename "${BASH_SOURCE[0]}")"
# shellcheck source-path=SCRIPTDIR source=../lib/stack.sh
source "$here/../lib/stack.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/supervise.sh
source "$here/../lib/supervise.sh"

# ---------------------------------------------------------------------------
# Supervisor mode
# ---------------------------------------------------------------------------

if [[ "${1:-}" == --supervisor ]]; then
    export SUPERVISE_TEST_DIR=$2
    shift 2
    # shellcheck disable=SC2317 # called by kindred_supervise_start
    setup_dummy() { export SUPERVISE_TEST_SERVICE=$1; }
    trap 'kindred_supervise_stop_all "${SUPERVISE_TEST_GRACE:-1}"; exit 143' TERM
    trap 'kindred_supervise_stop_all "${SUPERVISE_TEST_GRACE:-1}"; exit 130' INT
    # Each run of a dummy says who it is and appends its PID to DIR/NAME.pids.
    # shellcheck disable=SC2016 # expanded by the dummy's bash
    prelude='echo "started $$ as $SUPERVISE_TEST_SERVICE"; echo "$$" >>"$SUPERVISE_TEST_DIR/$SUPERVISE_TEST_SERVICE.pids"'
    while (($# >= 2)); do
        kindred_supervise_start --log "$SUPERVISE_TEST_DIR/$1.log" --setup setup_dummy \
            "$1" bash -c "$prelude; $2"
        shift 2
    done
    rc=0
    kindred_supervise_loop || rc=$?
    exit "$rc" # 1: nothing left to supervise
fi

# ---------------------------------------------------------------------------
# Test mode
# ---------------------------------------------------------------------------

token="supervise-test-$$-$RANDOM$RANDOM"
work=$(mktemp -d "${TMPDIR:-/tmp}/kindred-supervise-test.XXXXXX")
passed=0
failed=0
sup="" # the current scenario's supervisor, its folder and exit status
dir=""
sup_rc=""

# PIDs of the processes whose environment holds TOKEN (our token, or one scenario's:
# "$token.<scenario>"). The test shell itself and its own commands do not carry it.
token_pids() { # TOKEN
    grep -lsF -- "KINDRED_SUPERVISE_TEST_TOKEN=$1" /proc/[0-9]*/environ 2>/dev/null |
        sed 's#^/proc/\([0-9]*\)/environ$#\1#' || true
}

# True when PID is one of ours (and not a process that got the number of one since).
ours() { grep -qsF -- "KINDRED_SUPERVISE_TEST_TOKEN=$token" "/proc/$1/environ"; }

# Kill every process we started, supervisors and services alike (a supervisor killed in
# the same round cannot start anything afterwards; a later round gets what it started).
cleanup() {
    local p
    for _ in 1 2 3; do
        p=$(token_pids "$token")
        [[ -n "$p" ]] || break
        # shellcheck disable=SC2086 # a list of PIDs
        kill -KILL $p 2>/dev/null || true
        sleep 0.2
    done
    rm -rf "$work"
}
trap 'cleanup 2>/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ok() {
    passed=$((passed + 1))
    echo "ok   - $*"
}
not_ok() {
    failed=$((failed + 1))
    echo "FAIL - $*"
    if [[ -f "$dir/err" ]]; then
        echo "       supervisor stderr so far:"
        sed 's/^/       | /' "$dir/err"
    fi
}
check() { # DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# True when COMMAND... succeeds within SECONDS (polled every 50 ms).
within() { # SECONDS COMMAND...
    local end=$((${EPOCHREALTIME//[!0-9]/} + $1 * 1000000))
    shift
    while true; do
        "$@" && return 0
        ((${EPOCHREALTIME//[!0-9]/} < end)) || return 1
        sleep 0.05
    done
}

alive() { # PID: runs (a zombie does not count)
    local stat
    [[ -n "$1" ]] || return 1
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [[ "${stat%% *}" != Z ]]
}
dead() { ! alive "$1"; }
all_alive() { # PID...
    local p
    for p in "$@"; do alive "$p" || return 1; done
}
all_dead() { # PID...
    local p
    for p in "$@"; do dead "$p" || return 1; done
}
count_lines() { # FILE → number of lines (0 when missing)
    if [[ -f "$1" ]]; then wc -l <"$1"; else echo 0; fi
}
has_lines() { # FILE N: at least N lines
    (($(count_lines "$1") >= $2))
}
exactly_lines() { # FILE N
    (($(count_lines "$1") == $2))
}
nth_line() { # FILE N
    sed -n "$2p" "$1" 2>/dev/null
}
err_has() { grep -qxF -- "$1" "$dir/err"; }
log_has() { grep -qxF -- "$2" "$dir/$1.log"; }
out_has() { grep -qxF -- "$1" "$dir/out"; }
no_token_processes() { [[ -z "$(token_pids "$1")" ]]; }

# The delays (and restart numbers) that the supervisor announced for NAME, space-separated.
announced() { # NAME delays|numbers [MAX]
    local field='\1'
    [[ "$2" == numbers ]] && field='\2'
    sed -n "s/^==> $1 exited ([^)]*); restarting in \([0-9.]*\) s (restart \([0-9]*\))\$/$field/p" "$dir/err" |
        head -n "${3:-100}" | paste -sd' ' -
}
announced_count() { # NAME
    grep -c "^==> $1 exited .*; restarting in " "$dir/err" || true
}

# start_supervisor SCENARIO [VAR=VALUE...] -- NAME BODY [NAME BODY...]
start_supervisor() {
    local scenario=$1
    shift
    local -a vars=()
    while [[ "$1" != -- ]]; do
        vars+=("$1")
        shift
    done
    shift
    dir="$work/$scenario"
    mkdir -p "$dir"
    echo "# $scenario"
    env "KINDRED_SUPERVISE_TEST_TOKEN=$token.$scenario" "${vars[@]}" \
        bash "$self" --supervisor "$dir" "$@" >"$dir/out" 2>"$dir/err" &
    sup=$!
    sup_rc=""
}

# SIGTERM the supervisor and wait (at most 10 s) for it to exit; sets sup_rc.
stop_supervisor() {
    if ours "$sup"; then
        kill -TERM "$sup" 2>/dev/null || true
    fi
    if ! within 10 dead "$sup" && ours "$sup"; then
        kill -KILL "$sup" 2>/dev/null || true
    fi
    sup_rc=0
    wait "$sup" 2>/dev/null || sup_rc=$?
}

# bash's own job reports ("... 1234 Killed   ...") must not reach the supervisor's stderr.
no_job_reports() { ! grep -qE '[0-9]+ (Killed|Terminated|Segmentation fault)' "$dir/err"; }

# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------

echo "# configuration"
if out=$(KINDRED_RESTART_BACKOFF_BASE_MS=soon bash -c \
    'source "$1/../lib/stack.sh"; source "$1/../lib/supervise.sh"' _ "$here" 2>&1); then
    not_ok "a bad KINDRED_RESTART_BACKOFF_BASE_MS is refused"
else
    check "a bad KINDRED_RESTART_BACKOFF_BASE_MS is refused" \
        grep -qF "KINDRED_RESTART_BACKOFF_BASE_MS must be a number of milliseconds, not 'soon'" <<<"$out"
fi

# (1) kill -9 two of three services; one of them has a child process.
restarted_anew() { [[ -n "$victim2" && "$victim2" != "$victim" ]] && alive "$victim2"; }
sibling_unchanged() { exactly_lines "$dir/steady.pids" 1 && alive "$steady"; }
log_appended() {
    log_has victim "[victim] started $victim as victim" &&
        log_has victim "[victim] started $victim2 as victim" &&
        out_has "[victim] started $victim2 as victim" &&
        out_has "[steady] started $steady as steady"
}
# shellcheck disable=SC2016 # expanded by the dummy's bash
start_supervisor restart KINDRED_RESTART_BACKOFF_BASE_MS=50 -- \
    steady 'exec sleep 1000' \
    victim 'exec sleep 1000' \
    family 'sleep 1000 & echo "$!" >"$SUPERVISE_TEST_DIR/family.child"; wait'
three_started() {
    has_lines "$dir/steady.pids" 1 && has_lines "$dir/victim.pids" 1 && has_lines "$dir/family.child" 1
}
if within 10 three_started; then
    steady=$(nth_line "$dir/steady.pids" 1)
    victim=$(nth_line "$dir/victim.pids" 1)
    family=$(nth_line "$dir/family.pids" 1)
    family_child=$(nth_line "$dir/family.child" 1)
    kill -KILL "$victim" "$family"
    check "a service killed with kill -9 is started again" within 10 has_lines "$dir/victim.pids" 2
    check "its restart is announced on stderr" within 5 err_has \
        "==> victim exited (killed by SIGKILL); restarting in 0.05 s (restart 1)"
    check "so is the other one's" within 5 err_has \
        "==> family exited (killed by SIGKILL); restarting in 0.05 s (restart 1)"
    check "the child process of a killed service is killed too" within 5 dead "$family_child"
    victim2=$(nth_line "$dir/victim.pids" 2)
    check "the restarted service runs, with a new PID" restarted_anew
    check "its sibling keeps running with the same PID" sibling_unchanged
    check "the restarted service appends to its log (prefixed), on stdout too" within 5 log_appended
else
    not_ok "the three dummy services started"
fi
stop_supervisor
check "SIGTERM stops the supervisor (status 143)" test "$sup_rc" = 143
check "no bash job reports on the supervisor's stderr" no_job_reports

# (2) Backoff: an always-crashing service, and one whose third run lasts longer than the
# reset time.
# shellcheck disable=SC2016 # the bodies are expanded by the dummies' bash
start_supervisor backoff KINDRED_RESTART_BACKOFF_BASE_MS=50 KINDRED_RESTART_BACKOFF_MAX_MS=400 \
    KINDRED_RESTART_BACKOFF_RESET_MS=1000 -- \
    crasher 'exit 1' \
    flaky 'if (($(wc -l <"$SUPERVISE_TEST_DIR/flaky.pids") == 3)); then sleep 1.5; fi; exit 1'
enough_restarts() { (($(announced_count crasher) >= 6 && $(announced_count flaky) >= 4)); }
if within 20 enough_restarts; then
    check "the delay doubles after each quick exit, up to the maximum (crasher: $(announced crasher delays 6))" \
        test "$(announced crasher delays 6)" = "0.05 0.1 0.2 0.4 0.4 0.4"
    check "the restarts are numbered (crasher: $(announced crasher numbers 6))" \
        test "$(announced crasher numbers 6)" = "1 2 3 4 5 6"
    check "the exit status is shown" err_has "==> crasher exited (status 1); restarting in 0.05 s (restart 1)"
    check "the delay starts over after a run longer than the reset time (flaky: $(announced flaky delays 4))" \
        test "$(announced flaky delays 4)" = "0.05 0.1 0.05 0.1"
else
    not_ok "crasher restarted 6 times and flaky 4 times within 20 s"
fi
stop_supervisor

# (3) Exit status 2: not restarted; the others keep running.
start_supervisor badconf KINDRED_RESTART_BACKOFF_BASE_MS=50 -- \
    steady 'exec sleep 1000' \
    badconf 'echo "bad configuration" >&2; exit 2'
check "a service that exits with status 2 is reported as not restarted" within 10 err_has \
    "warning: badconf exited with status 2 (bad configuration); not restarting it (the other services keep running)"
sleep 0.5 # ten base delays
not_restarted() { exactly_lines "$dir/badconf.pids" 1 && [[ -z "$(announced badconf delays)" ]]; }
check "it is not restarted" not_restarted
steady=$(nth_line "$dir/steady.pids" 1)
check "its sibling and the supervisor keep running" all_alive "$steady" "$sup"
check "the service's own output reaches its log" log_has badconf "[badconf] bad configuration"
stop_supervisor

start_supervisor lonely KINDRED_RESTART_BACKOFF_BASE_MS=50 -- badconf 'exit 2'
if within 10 dead "$sup"; then
    sup_rc=0
    wait "$sup" 2>/dev/null || sup_rc=$?
    check "with nothing left to supervise, kindred_supervise_loop returns 1" test "$sup_rc" = 1
else
    not_ok "with nothing left to supervise, kindred_supervise_loop returns"
    stop_supervisor
fi

# (4) SIGTERM to the supervisor while one service ignores SIGTERM, one has a child
# process (which says when it gets SIGTERM), and one waits 20 s to restart.
start_supervisor stop KINDRED_RESTART_BACKOFF_BASE_MS=20000 SUPERVISE_TEST_GRACE=1 -- \
    steady 'exec sleep 1000' \
    stubborn 'trap "" TERM; exec sleep 1000' \
    family 'bash -c "trap \"echo child stopping; exit 0\" TERM; sleep 1000 & wait" & wait' \
    crasher 'exit 1'
all_started() {
    local s
    for s in steady stubborn family crasher; do has_lines "$dir/$s.pids" 1 || return 1; done
    err_has "==> crasher exited (status 1); restarting in 20 s (restart 1)"
}
if within 10 all_started; then
    children=()
    for s in steady stubborn family; do children+=("$(nth_line "$dir/$s.pids" 1)"); done
    check "the services run" all_alive "${children[@]}"
    stop_supervisor
    check "the supervisor exits (status 143) within the grace time" test "$sup_rc" = 143
    check "every service process is gone" all_dead "${children[@]}"
    check "SIGTERM reaches a service's child processes too" log_has family "[family] child stopping"
    check "the pending restart is cancelled" err_has "==> not restarting crasher: stopping"
    check "the crashed service was not started again" exactly_lines "$dir/crasher.pids" 1
    check "a service ignoring SIGTERM is killed after the grace time" \
        err_has "warning: stubborn did not stop within 1 s; killing it"
    check "no process is left behind (children, output prefixers, timer)" within 2 no_token_processes "$token.stop"
    check "no bash job reports on the supervisor's stderr" no_job_reports
else
    not_ok "the four dummy services started and crasher waits to restart"
    stop_supervisor
fi

dir=""
check "no process of any scenario is left" within 3 no_token_processes "$token"

cleanup 2>/dev/null
trap - EXIT
echo "supervise: $passed passed, $failed failed"
((failed == 0))
