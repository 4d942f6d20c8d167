#!/usr/bin/env bash
# The whole test suite, on a fresh machine of this kind: starts a Docker engine and a local registry
# (for the pull test), builds the runtime fixture images from Debian and npm-registry sources
# (cached), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/start-dockerd.sh
scripts/start-registry.sh
catalog=$(scripts/fixture-images.sh | tail -n 1)
export APPRUNNER_TEST_CATALOG="$catalog"
out=$(mktemp)
status=0
cargo test --locked --no-fail-fast "$@" 2>&1 | tee "$out" || status=$?
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$out"
rm -f "$out"
exit "$status"
