#!/usr/bin/env bash
# Start a Docker engine in the background when none answers, and wait for its socket.
# Used by .ci/run and by the README's commands on a fresh machine of this kind.
set -euo pipefail
if ! command -v dockerd >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi
log=${DOCKERD_LOG:-/tmp/apprunner-build-dockerd.log}
starts=0
for _ in $(seq 1 90); do
  if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then
    exit 0
  fi
  if ! pgrep -x dockerd >/dev/null && [ "$starts" -lt 3 ]; then
    # A daemon that was killed (as at the end of every session) leaves its pid files behind, and a
    # new one refuses to start while they exist.
    rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
    nohup dockerd >"$log" 2>&1 &
    starts=$((starts + 1))
  fi
  sleep 1
done
echo "dockerd did not answer within 90 s; its log is $log" >&2
tail -n 30 "$log" >&2
exit 1
