#!/usr/bin/env bash
# Stop the second engine that scripts/start-engine26.sh started:
#   scripts/stop-engine26.sh [classic|containerd|all]
# Stops its dockerd by its pid file (which stops its containers and its containerd), ends what a killed
# dockerd left running (its mounts go with it: they are in its private mount namespace) and deletes the
# bridge the start made. Keeps the
# cached trixie root, the unpacked root and the engine's data root (its images), so the next start is quick;
# ENGINE26_PURGE=1 removes the data root too.
set -euo pipefail
run=/run/apprunner-build-engine26
modes=${1:-classic}
[ "$modes" = all ] && modes="classic containerd"
for mode in $modes; do
  case $mode in
    classic) bridge=ar26-classic ;;
    containerd) bridge=ar26-ctrd ;;
    *) echo "usage: $0 [classic|containerd|all]" >&2; exit 2 ;;
  esac
  pid=$(cat "$run/$mode.pid" 2>/dev/null || cat "$run/$mode.unshare-pid" 2>/dev/null || true)
  # Only a dockerd in a mount namespace of its own: never the machine's engine, should the pid be reused.
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] &&
    [ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]; then
    kill -TERM "$pid"
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "engine26: dockerd $pid ($mode) did not stop within 20 s: killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  # What is left of this engine (its containerd and shims, which carry its dockerd's environment with
  # APPRUNNER_BUILD_ENGINE26=MODE, and its containers' processes, in cgroups under its --cgroup-parent)
  # after a dockerd that was killed; its mount namespace, and every mount in it, go with the last of them.
  for _ in 1 2 3 4 5 6; do
    left=""
    for p in /proc/[0-9]*; do
      if grep -qsxz "APPRUNNER_BUILD_ENGINE26=$mode" "$p/environ" ||
        grep -qs ":/apprunner-build-engine26-$mode/" "$p/cgroup"; then
        left="$left ${p#/proc/}"
      fi
    done
    [ -z "$left" ] && break
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
    sleep 0.5
  done
  if [ -e "$run/$mode.bridge" ]; then
    ip link del "$bridge" 2>/dev/null || true
  fi
  rm -f "$run/$mode.sock" "$run/$mode.pid" "$run/$mode.unshare-pid" "$run/$mode.bridge" "$run/$mode.json"
  if [ "${ENGINE26_PURGE:-}" = 1 ]; then
    rm -rf "/var/lib/apprunner-build-engine26-$mode"
  fi
  echo "engine26: $mode stopped" >&2
done
