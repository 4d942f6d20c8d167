#!/usr/bin/env bash
# The push of the guide's example (examples/python-hello) to a fresh local registry, medians of RUNS
# (default 3): through the engine (`apprunner-build build --push`, which the tool uses) against a direct
# push of the same image from an OCI layout (Debian's skopeo, as a stand-in for a push the tool would
# make itself from its image value), once with the layers sent as they are (uncompressed) and once gzipped
# as the engine sends them. Then what a second push after a one-line edit sends. Prints figures; asserts
# nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
addr=127.0.0.1:5099
command -v skopeo >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq skopeo >/dev/null; }
scripts/start-dockerd.sh
catalog=$(scripts/fixture-images.sh | tail -n 1)
cargo build --release --locked -q
bin=$PWD/target/release/apprunner-build
work=$(mktemp -d /tmp/apprunner-build-bench-push.XXXXXX)
pid=""
stop_registry() { [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; }; }
cleanup() { stop_registry; docker rmi -f "$addr/hello:bench" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
fresh_registry() { # an empty registry on $addr
  stop_registry
  rm -rf "$work/registry"
  mkdir -p "$work/registry"
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' "$work/registry" "$addr" \
    >"$work/registry.yml"
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do curl -fsS "http://$addr/v2/" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "bench-push: the registry did not start" >&2
  exit 1
}
cp -r examples/python-hello "$work/app"
build() { APPRUNNER_BUILD_CATALOG=$catalog "$bin" build "$work/app" -t "$addr/hello:bench" \
  --ca-bundle /etc/ssl/certs/ca-certificates.crt "$@" 2>&1; }
build --output "type=oci,dest=$work/layout" >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
declare -A t
for _ in $(seq 1 "$runs"); do
  fresh_registry
  t[engine]+="$(timed build --push)"$'\n'
  fresh_registry
  t[plain]+="$(timed skopeo copy --dest-tls-verify=false "oci:$work/layout" "docker://$addr/hello:bench")"$'\n'
  fresh_registry
  t[gzip]+="$(timed skopeo copy --dest-tls-verify=false --dest-compress --dest-compress-format gzip \
    "oci:$work/layout" "docker://$addr/hello:bench")"$'\n'
done
fresh_registry
build --push >/dev/null
echo "# bench-push edit" >>"$work/app/server.py"
second=$(build --push | grep -E "already in the registry|sent|Pushed" | tail -n 1 | sed 's/.*\[AppRunner\] //')
med() { printf '%s' "${t[$1]}" | median; }
echo "first push of the guide's example (218 MB image) to an empty local registry, medians of $runs (load $(cut -d' ' -f1-3 /proc/loadavg)):"
printf '  through the engine (build --push, gzip):   %.2f s\n' "$(med engine)"
printf '  direct from the OCI layout, uncompressed:   %.2f s\n' "$(med plain)"
printf '  direct from the OCI layout, gzip:           %.2f s\n' "$(med gzip)"
echo "second push after a one-line edit: $second"
