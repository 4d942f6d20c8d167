#!/usr/bin/env bash
# A local container registry on 127.0.0.1:5000 (Debian's docker-registry, the CNCF distribution
# registry), so that pulling a runtime image is tested for real although no remote registry is
# reachable here. Plain HTTP on loopback, which Docker allows without configuration.
set -euo pipefail
addr=${REGISTRY_ADDR:-127.0.0.1:5000}
command -v curl >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq curl >/dev/null; }
if curl -fsS "http://$addr/v2/" >/dev/null 2>&1; then
  exit 0
fi
if ! command -v docker-registry >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker-registry >/dev/null
fi
state=${REGISTRY_DIR:-/var/cache/apprunner-build-registry}
mkdir -p "$state"
config="$state/config.yml"
cat >"$config" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $state/data
  delete:
    enabled: true
http:
  addr: $addr
YAML
log="$state/registry.log"
nohup docker-registry serve "$config" >"$log" 2>&1 &
for _ in $(seq 1 30); do
  if curl -fsS "http://$addr/v2/" >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "the registry did not answer on $addr; its log is $log" >&2
tail -n 20 "$log" >&2
exit 1
