#!/usr/bin/env bash
# stop-slurm.sh - stop the daemons tests/slurm/start-slurm.sh started, by their pid files
# (never by name: other SLURM or munge instances on the machine are left alone).
# Environment: SLURM_CI_DIR (default /tmp/cifar-zeroshot-slurm), the same as for the start.
# Exits 1 when a daemon survives SIGKILL.
set -uo pipefail

D=${SLURM_CI_DIR:-/tmp/cifar-zeroshot-slurm}
status=0

# running PID NAME: PID is a live (non-zombie) process called NAME, so a stale pid file whose
# number was reused by another program is never signalled.
running() {
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] || return 1
  ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

stop() { # NAME PIDFILE
  local name=$1 pidfile=$2 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if running "$pid" "$name"; then
    kill "$pid"
    for _ in $(seq 1 60); do # up to ~15 s of SIGTERM grace
      running "$pid" "$name" || break
      sleep 0.25
    done
    if running "$pid" "$name"; then
      echo "$name ($pid) ignored SIGTERM, sending SIGKILL"
      kill -9 "$pid"
      sleep 0.5
    fi
    if running "$pid" "$name"; then
      echo "$name ($pid) is still running" >&2
      status=1
      return
    fi
    echo "stopped $name ($pid)"
  fi
  rm -f "$pidfile"
}

# slurmd first (it reports to slurmctld), munged last (both authenticate through it).
stop slurmd "$D/run/slurmd.pid"
stop slurmctld "$D/run/slurmctld.pid"
stop munged "$D/munge/munged.pid"
exit "$status"
