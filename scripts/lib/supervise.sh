# shellcheck shell=bash
# scripts/lib/supervise.sh — keep a set of background services running, as systemd
# (Restart=always) or PM2 would: a service that exits is started again after a delay
# that doubles while it keeps exiting quickly, and everything stops cleanly on request.
#
# Sourced by scripts/run and scripts/tests/supervise-test.sh, after scripts/lib/stack.sh
# (it reports with kindred_log, kindred_warn and kindred_die). Plain bash (5.1 or later,
# for `wait -n -p`): no files of its own, no daemons; the supervising shell is the
# parent of every service.
#
# Interface:
#   kindred_supervise_start [--log FILE] [--setup FUNCTION] NAME COMMAND...
#       Start COMMAND in the background as service NAME and supervise it from now on.
#       NAME is letters, digits, '.', '_' or '-'. COMMAND runs in its own session
#       (setsid), so a Ctrl-C at the terminal reaches only the supervising script, and
#       the PID is COMMAND's own. With --setup, `FUNCTION NAME` runs in the child shell
#       just before the exec (e.g. to export only that service's variables). stdout and
#       stderr go to our stdout, each line prefixed with "[NAME] "; with --log they are
#       appended to FILE too, which this first start empties (a restart does not).
#   kindred_supervise_running NAME   true while NAME's current process runs
#   kindred_supervise_reap NAME VAR  for a NAME that has exited but was not handled by the
#       loop yet (e.g. while the caller waits for readiness): collect its exit status, stop
#       supervising it (no restart), and set VAR to how it ended: "status 1", "killed by
#       SIGKILL". Status 1 if NAME is still running.
#   kindred_supervise_loop
#       Supervise (restart, see below) until kindred_supervise_stop_all has been called —
#       normally from an INT/TERM trap, which then exits — and return 0; or return 1 when
#       no service is left to supervise (each exited with status 2, or was reaped).
#   kindred_supervise_stop_all GRACE
#       Cancel every pending restart, send SIGTERM to every service (to its whole process
#       group), SIGKILL to those still running after GRACE seconds (an integer), and reap
#       them. Nothing is started after it began. Idempotent; safe in an INT/TERM trap.
#
# Restart policy (applied by kindred_supervise_loop): a service that exits, whatever its
# status, is restarted after a delay, announced by one line on stderr:
#   ==> profile exited (killed by SIGKILL); restarting in 1 s (restart 1)
# The delay starts at the base, doubles after each exit up to the maximum, and starts
# again from the base when the service had run for at least the reset time. Exit status
# 2 means bad configuration: such a service is not restarted (a warning says so) and the
# others keep running. Leftover processes of an exited service's process group are
# killed (SIGKILL) before it is restarted. Exits are seen only while the caller runs
# kindred_supervise_loop (or reaps); before that, nothing restarts.
#
# Environment (read when this file is sourced; milliseconds):
#   KINDRED_RESTART_BACKOFF_BASE_MS    1000   first delay
#   KINDRED_RESTART_BACKOFF_MAX_MS     30000  largest delay
#   KINDRED_RESTART_BACKOFF_RESET_MS   60000  uptime after which the delay is back to the base

# Sourcing twice is harmless.
if [[ -n "${KINDRED_SUPERVISE_SH_LOADED:-}" ]]; then
    return 0
fi
if ! declare -F kindred_log kindred_warn kindred_die >/dev/null; then
    echo "scripts/lib/supervise.sh: source scripts/lib/stack.sh first" >&2
    return 1
fi
KINDRED_SUPERVISE_SH_LOADED=1

_ks_setting() { # NAME DEFAULT → sets _ks_value
    local value=${!1:-$2}
    if ! [[ "$value" =~ ^[0-9]{1,9}$ ]]; then
        kindred_die "$1 must be a number of milliseconds, not '$value'"
    fi
    _ks_value=$((10#$value))
}
_ks_setting KINDRED_RESTART_BACKOFF_BASE_MS 1000
_ks_base_ms=$((_ks_value > 0 ? _ks_value : 1))
_ks_setting KINDRED_RESTART_BACKOFF_MAX_MS 30000
_ks_max_ms=$((_ks_value > _ks_base_ms ? _ks_value : _ks_base_ms))
_ks_setting KINDRED_RESTART_BACKOFF_RESET_MS 60000
_ks_reset_ms=$_ks_value
unset _ks_value

# The loop wakes at least this often, to catch an exit that `wait -n` could miss (see
# kindred_supervise_loop).
_ks_heartbeat_ms=5000

# Per service, by NAME. State: running | backoff (waiting to restart) | failed (exited
# with status 2) | reaped | stopped.
_ks_names=()
declare -gA _ks_state=() _ks_pid=() _ks_cmd=() _ks_log=() _ks_setup=() \
    _ks_started_ms=() _ks_next_delay_ms=() _ks_restart_at_ms=() _ks_restarts=()
_ks_stopping=0
_ks_timer=""   # the loop's `sleep` child, while it waits
_ks_deferred=() # signals that arrived while a child was being started

# Signal numbers → names (KILL, SEGV, ...), from one `kill -l`.
declare -gA _ks_signame=()
_ks_init_signames() {
    local -a words
    local i
    read -r -d '' -a words <<<"$(kill -l)" || true
    for ((i = 0; i + 1 < ${#words[@]}; i++)); do
        if [[ "${words[i]}" =~ ^([0-9]+)\)$ ]]; then
            _ks_signame[${BASH_REMATCH[1]}]=${words[i + 1]#SIG}
        fi
    done
}
_ks_init_signames

_ks_now() { # → sets _ks_now_ms (wall clock, milliseconds); no fork
    local t=${EPOCHREALTIME//[!0-9]/}
    _ks_now_ms=$((10#$t / 1000))
}

# True while the process runs. (Not `kill -0`: it also succeeds for a zombie.)
_ks_alive() { # PID
    local stat
    [[ -n "$1" ]] || return 1
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [[ "${stat%% *}" != Z ]]
}

# (The helpers that set a caller's VAR name their locals _ks_*, so as not to hide it.)
_ks_describe() { # STATUS VAR → "status N" or "killed by SIGNAME"
    local _ks_rc=$1
    if ((_ks_rc > 128)) && [[ -n "${_ks_signame[$((_ks_rc - 128))]:-}" ]]; then
        printf -v "$2" 'killed by SIG%s' "${_ks_signame[$((_ks_rc - 128))]}"
    else
        printf -v "$2" 'status %d' "$_ks_rc"
    fi
}

_ks_seconds() { # MS VAR → "1", "0.05", "1.5"
    local _ks_ms=$1 _ks_text
    if ((_ks_ms % 1000 == 0)); then
        _ks_text=$((_ks_ms / 1000))
    else
        printf -v _ks_text '%d.%03d' $((_ks_ms / 1000)) $((_ks_ms % 1000))
        while [[ "$_ks_text" == *0 ]]; do _ks_text=${_ks_text%0}; done
    fi
    printf -v "$2" '%s' "$_ks_text"
}

# Signal a service: its process group (it is a session leader once setsid has run),
# else the process alone (it may not have reached setsid yet).
_ks_signal() { # SIGNAL PID
    kill -s "$1" -- "-$2" 2>/dev/null || kill -s "$1" "$2" 2>/dev/null || true
}

# After a service's process was reaped: kill what is left of its process group (children
# it started). A process group outlives its leader only while it has members, and its
# number is not given to a new process meanwhile, so this reaches nothing else.
_ks_kill_leftovers() { # PID
    kill -s KILL -- "-$1" 2>/dev/null || true
}

# Fork service NAME. INT/TERM/HUP are held back meanwhile and re-raised after its PID is
# recorded, so that a trap calling kindred_supervise_stop_all always knows every child.
_ks_spawn() { # NAME
    local name=$1 saved sig
    ((_ks_stopping == 0)) || return 0
    local log=${_ks_log[$name]} setup=${_ks_setup[$name]}
    local -a cmd
    eval "cmd=(${_ks_cmd[$name]})"
    saved=$(trap -p INT TERM HUP)
    _ks_deferred=()
    trap '_ks_deferred+=(INT)' INT
    trap '_ks_deferred+=(TERM)' TERM
    trap '_ks_deferred+=(HUP)' HUP
    # The subshell execs the command, so $! is the service itself. (A subshell resets
    # the traps above to what the script inherited.) The output goes through sed/tee,
    # which ignore INT/TERM so that they outlive the service and keep its last lines;
    # they run in our process group, not the service's.
    (
        if [[ -n "$setup" ]]; then
            "$setup" "$name"
        fi
        exec setsid "${cmd[@]}"
    ) > >(
        trap '' INT TERM
        if [[ -n "$log" ]]; then
            sed -u "s/^/[$name] /" | tee -a "$log"
        else
            sed -u "s/^/[$name] /"
        fi
    ) 2>&1 </dev/null &
    _ks_pid[$name]=$!
    _ks_state[$name]=running
    _ks_now
    _ks_started_ms[$name]=$_ks_now_ms
    trap - INT TERM HUP
    eval "$saved"
    for sig in "${_ks_deferred[@]}"; do
        kill -s "$sig" "$BASHPID"
    done
    _ks_deferred=()
    return 0
}

kindred_supervise_start() { # [--log FILE] [--setup FUNCTION] NAME COMMAND...
    local log="" setup="" name q
    while (($# > 0)); do
        case "$1" in
            --log) log=${2:?kindred_supervise_start: --log needs a file} && shift 2 ;;
            --setup) setup=${2:?kindred_supervise_start: --setup needs a function} && shift 2 ;;
            *) break ;;
        esac
    done
    (($# >= 2)) || kindred_die "usage: kindred_supervise_start [--log FILE] [--setup FUNCTION] NAME COMMAND..."
    name=$1
    shift
    [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || kindred_die "kindred_supervise_start: bad service name '$name'"
    [[ -z "${_ks_state[$name]:-}" ]] || kindred_die "kindred_supervise_start: $name is already supervised"
    [[ -z "$setup" ]] || declare -F "$setup" >/dev/null ||
        kindred_die "kindred_supervise_start: --setup $setup is not a shell function"
    ((_ks_stopping == 0)) || return 1
    printf -v q '%q ' "$@"
    _ks_names+=("$name")
    _ks_cmd[$name]=$q
    _ks_log[$name]=$log
    _ks_setup[$name]=$setup
    _ks_restarts[$name]=0
    _ks_next_delay_ms[$name]=$_ks_base_ms
    if [[ -n "$log" ]]; then
        : >"$log"
    fi
    _ks_spawn "$name"
}

kindred_supervise_running() { # NAME
    [[ "${_ks_state[$1]:-}" == running ]] && _ks_alive "${_ks_pid[$1]}"
}

kindred_supervise_reap() { # NAME VAR
    local _ks_name=$1 _ks_p _ks_rc=0
    [[ "${_ks_state[$_ks_name]:-}" == running ]] || return 1
    _ks_p=${_ks_pid[$_ks_name]}
    ! _ks_alive "$_ks_p" || return 1
    wait "$_ks_p" 2>/dev/null || _ks_rc=$?
    _ks_kill_leftovers "$_ks_p"
    _ks_pid[$_ks_name]=""
    _ks_state[$_ks_name]=reaped
    _ks_describe "$_ks_rc" "$2"
}

# A service's process has ended with status RC (already reaped): decide what follows.
_ks_exited() { # NAME RC
    local name=$1 rc=$2 how delay up n text
    _ks_kill_leftovers "${_ks_pid[$name]}"
    _ks_pid[$name]=""
    _ks_describe "$rc" how
    if ((_ks_stopping == 1)); then
        _ks_state[$name]=stopped
        return 0
    fi
    if ((rc == 2)); then
        _ks_state[$name]=failed
        kindred_warn "$name exited with status 2 (bad configuration); not restarting it (the other services keep running)"
        return 0
    fi
    _ks_now
    up=$((_ks_now_ms - _ks_started_ms[$name]))
    if ((up >= _ks_reset_ms)); then
        _ks_next_delay_ms[$name]=$_ks_base_ms
    fi
    delay=${_ks_next_delay_ms[$name]}
    _ks_next_delay_ms[$name]=$((delay * 2 < _ks_max_ms ? delay * 2 : _ks_max_ms))
    n=$((_ks_restarts[$name] + 1))
    _ks_restarts[$name]=$n
    _ks_restart_at_ms[$name]=$((_ks_now_ms + delay))
    _ks_state[$name]=backoff
    _ks_seconds "$delay" text
    kindred_log "$name exited ($how); restarting in $text s (restart $n)"
}

# Handle every running service whose process has ended. Builtins only (no fork), so
# that bash does not drop a finished job between this check and the `wait -n` after it.
_ks_sweep() { # → status 0 if it handled one
    local name pid rc found=1
    for name in "${_ks_names[@]}"; do
        [[ "${_ks_state[$name]}" == running ]] || continue
        pid=${_ks_pid[$name]}
        ! _ks_alive "$pid" || continue
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        _ks_exited "$name" "$rc"
        found=0
    done
    return "$found"
}

_ks_any_exited() {
    local name
    for name in "${_ks_names[@]}"; do
        if [[ "${_ks_state[$name]}" == running ]] && ! _ks_alive "${_ks_pid[$name]}"; then
            return 0
        fi
    done
    return 1
}

_ks_stop_timer() {
    if [[ -n "$_ks_timer" ]]; then
        kill "$_ks_timer" 2>/dev/null || true
        wait "$_ks_timer" 2>/dev/null || true
        _ks_timer=""
    fi
}

# How it waits: `wait -n` on the running services and a `sleep` timer (until the next
# restart is due, at most the heartbeat), so that an INT/TERM trap runs at once. bash
# forgets a finished job it has already reported — after any fork — and `wait -n` would
# then not return for it; so every round first checks each process (_ks_sweep, which
# collects the status with a plain `wait PID`), and the heartbeat bounds the rest.
kindred_supervise_loop() {
    local name wake ms secs done_pid rc
    local -a pids
    while ((_ks_stopping == 0)); do
        _ks_sweep || true
        _ks_now
        for name in "${_ks_names[@]}"; do
            if [[ "${_ks_state[$name]}" == backoff ]] && ((_ks_restart_at_ms[$name] <= _ks_now_ms)); then
                _ks_spawn "$name"
            fi
        done
        ((_ks_stopping == 0)) || break
        pids=()
        wake=""
        for name in "${_ks_names[@]}"; do
            case "${_ks_state[$name]}" in
                running) pids+=("${_ks_pid[$name]}") ;;
                backoff)
                    if [[ -z "$wake" ]] || ((_ks_restart_at_ms[$name] < wake)); then
                        wake=${_ks_restart_at_ms[$name]}
                    fi
                    ;;
            esac
        done
        if ((${#pids[@]} == 0)) && [[ -z "$wake" ]]; then
            return 1
        fi
        ms=$_ks_heartbeat_ms
        if [[ -n "$wake" ]]; then
            _ks_now
            ms=$((wake - _ks_now_ms))
            ((ms <= _ks_heartbeat_ms)) || ms=$_ks_heartbeat_ms
            ((ms >= 1)) || ms=1
        fi
        printf -v secs '%d.%03d' $((ms / 1000)) $((ms % 1000))
        sleep "$secs" &
        _ks_timer=$!
        if _ks_any_exited; then
            _ks_stop_timer
            continue
        fi
        done_pid=""
        rc=0
        wait -n -p done_pid "${pids[@]}" "$_ks_timer" 2>/dev/null || rc=$?
        if [[ "$done_pid" == "$_ks_timer" ]]; then
            _ks_timer=""
        else
            _ks_stop_timer
        fi
        ((_ks_stopping == 0)) || break
        if [[ -n "$done_pid" ]]; then
            for name in "${_ks_names[@]}"; do
                if [[ "${_ks_state[$name]}" == running && "${_ks_pid[$name]}" == "$done_pid" ]]; then
                    _ks_exited "$name" "$rc"
                fi
            done
        fi
    done
    return 0
}

kindred_supervise_stop_all() { # GRACE (seconds)
    local grace=${1:?usage: kindred_supervise_stop_all GRACE} fd
    [[ "$grace" =~ ^[0-9]+$ ]] || kindred_die "kindred_supervise_stop_all: GRACE must be whole seconds, not '$grace'"
    _ks_stopping=1
    # bash may report a service killed by a signal ("... Killed") while we wait for it:
    # keep that off stderr, and write our own lines to the real one.
    exec {fd}>&2
    _ks_stop_all "$grace" "$fd" 2>/dev/null
    exec {fd}>&-
}

_ks_stop_all() { # GRACE FD
    local grace=$1 fd=$2 name pid i alive
    local -a running=()
    _ks_stop_timer
    for name in "${_ks_names[@]}"; do
        case "${_ks_state[$name]}" in
            backoff)
                _ks_state[$name]=stopped
                kindred_log "not restarting $name: stopping" 2>&"$fd"
                ;;
            running) running+=("$name") ;;
        esac
    done
    ((${#running[@]} > 0)) || return 0
    kindred_log "stopping ${running[*]} (SIGTERM; SIGKILL after ${grace} s)" 2>&"$fd"
    for name in "${running[@]}"; do
        _ks_signal TERM "${_ks_pid[$name]}"
    done
    for ((i = 0; i < grace * 10; i++)); do
        alive=0
        for name in "${running[@]}"; do
            if _ks_alive "${_ks_pid[$name]}"; then
                alive=1
                break
            fi
        done
        ((alive == 1)) || break
        sleep 0.1
    done
    for name in "${running[@]}"; do
        if _ks_alive "${_ks_pid[$name]}"; then
            kindred_warn "$name did not stop within ${grace} s; killing it" 2>&"$fd"
            _ks_signal KILL "${_ks_pid[$name]}"
        fi
    done
    for name in "${running[@]}"; do
        pid=${_ks_pid[$name]}
        wait "$pid" || true
        _ks_kill_leftovers "$pid"
        _ks_pid[$name]=""
        _ks_state[$name]=stopped
    done
    # Give the output prefixers a moment to flush the last lines.
    sleep 0.2
}
