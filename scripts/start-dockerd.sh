#!/usr/bin/env bash
# Start a Docker engine in the background when none answers, and wait for its socket.
# Used by .ci/run and by the README's commands on a fresh machine of this kind.
set -euo pipefail
if ! command -v dockerd >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi
if docker info >/dev/null 2>&1; then
  exit 0
fi
log=${DOCKERD_LOG:-/tmp/apprunner-build-dockerd.log}
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "dockerd did not answer within 60 s; its log is $log" >&2
tail -n 30 "$log" >&2
exit 1
