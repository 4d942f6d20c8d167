#!/usr/bin/env bash
# Stop the second engine that scripts/start-engine26.sh started:
#   scripts/stop-engine26.sh [classic|containerd|all]
# Stops its dockerd by its pid file (which stops its containers and its containerd), ends what is left in
# its private mount namespace (whose mounts go with it) and deletes the bridge the start made. Keeps the
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
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
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
  # Whatever is left in its mount namespace (shims, containers) is this engine's; the namespace and
  # every mount in it go when its last process does.
  ns=$(cat "$run/$mode.mntns" 2>/dev/null || true)
  if [ -n "$ns" ]; then
    for _ in 1 2 3; do
      left=""
      for p in /proc/[0-9]*; do
        [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && left="$left ${p#/proc/}"
      done
      [ -z "$left" ] && break
      # shellcheck disable=SC2086
      kill -KILL $left 2>/dev/null || true
      sleep 0.5
    done
  fi
  if [ -e "$run/$mode.bridge" ]; then
    ip link del "$bridge" 2>/dev/null || true
  fi
  rm -f "$run/$mode.sock" "$run/$mode.pid" "$run/$mode.unshare-pid" "$run/$mode.mntns" "$run/$mode.bridge" "$run/$mode.json"
  if [ "${ENGINE26_PURGE:-}" = 1 ]; then
    rm -rf "/var/lib/apprunner-build-engine26-$mode"
  fi
  echo "engine26: $mode stopped" >&2
done
