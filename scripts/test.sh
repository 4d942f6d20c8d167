#!/usr/bin/env bash
# The whole test suite, on a fresh machine of this kind: starts a Docker engine and a local registry
# (for the pull test), builds the runtime fixture images from Debian and npm-registry sources
# (cached), then runs every test, the ignored engine tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/start-dockerd.sh
scripts/start-registry.sh
# skopeo reads the OCI layouts `build --output` writes (tests/output.rs).
command -v skopeo >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq skopeo >/dev/null; }
# socat is the TLS front (client certificates verified) before the engine in tests/engines/tls.rs.
command -v socat >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq socat >/dev/null; }
# The platforms' own schemas that `export`'s output is checked against (tests/export.rs, through
# scripts/validate-export.py): botocore's ECS model, kubernetes-validate, Knative Serving's models.
# CycloneDX 1.5's JSON schema, as cyclonedx-python-lib ships it (tests/sbom.rs, scripts/validate-sbom.py).
# A venv outside the repository, made once and kept; pinned so that a check means the same each run.
pyvalidators=/var/cache/apprunner-build-fixtures/pyvalidators
pyvalidator_pins="botocore==1.44.18 kubernetes-validate==1.37.0 cloudcoil-models-knative-serving==1.17.0.1 cyclonedx-python-lib[json-validation]==11.12.0"
if [ "$(cat "$pyvalidators/pins" 2>/dev/null)" != "$pyvalidator_pins" ]; then
  rm -rf "$pyvalidators"
  python3 -m venv "$pyvalidators"
  # shellcheck disable=SC2086 # one argument per pin
  "$pyvalidators/bin/pip" install -q $pyvalidator_pins
  echo "$pyvalidator_pins" >"$pyvalidators/pins"
fi
export APPRUNNER_TEST_PYVALIDATORS="$pyvalidators"
catalog=$(scripts/fixture-images.sh | tail -n 1)
export APPRUNNER_TEST_CATALOG="$catalog"
# The second engines (tests/engines/): Docker 26 with classic overlay2 and with the containerd image
# store, beside the main one, with the fixture images the tests build on (python 3.11, Node.js 22;
# ENGINE26_IMAGES overrides). Their DOCKER_HOST values go to the tests as
# APPRUNNER_TEST_ENGINE26_CLASSIC and APPRUNNER_TEST_ENGINE26_CONTAINERD. One that does not start is
# stopped (what a killed one left) and started once more; if it still does not, the reason is
# printed and its variable stays unset: its tests then say so, and fail where CI is set.
export ENGINE26_IMAGES=${ENGINE26_IMAGES-$(grep -o 'image = "apprunner-test/\(python:3\.11\|node:22[^"]*\)"' "$catalog" | cut -d'"' -f2 | sort -u | tr '\n' ' ')}
for mode in classic containerd; do
  var=APPRUNNER_TEST_ENGINE26_$(echo "$mode" | tr '[:lower:]' '[:upper:]')
  started=$(date +%s)
  host=$(scripts/start-engine26.sh "$mode" | tail -n 1) || {
    echo "engine26 ($mode) did not start: stopping what is left of it and trying once more" >&2
    scripts/stop-engine26.sh "$mode" || true
    host=$(scripts/start-engine26.sh "$mode" | tail -n 1)
  } || host=""
  if [ -n "$host" ]; then
    export "$var=$host"
    echo "engine26 ($mode): $host ($(($(date +%s) - started)) s)" >&2
  else
    echo "engine26 ($mode) did not start (its log: /tmp/apprunner-build-engine26-$mode.log): $var is unset" >&2
  fi
done
out=$(mktemp)
status=0
# Arguments go to cargo test; any after a `--` go to the test binaries, after --include-ignored
# (the engine tests are #[ignore]d so that a plain `cargo test` passes without an engine), e.g.
# `scripts/test.sh --test engine -- docker_host`.
cargo_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  cargo_args+=("$1")
  shift
done
if [ $# -gt 0 ]; then shift; fi
cargo test --locked --no-fail-fast ${cargo_args[@]+"${cargo_args[@]}"} -- --include-ignored "$@" 2>&1 | tee "$out" || status=$?
# The tests' temporary projects are gone: so are the package-cache volumes their builds made.
target/debug/apprunner-build cache prune >/dev/null 2>&1 || true
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$out"
rm -f "$out"
exit "$status"
