#!/usr/bin/env bash
# The whole test suite, on a fresh machine of this kind: starts a Docker engine, builds the runtime
# fixture images from Debian and npm-registry sources (cached), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/start-dockerd.sh
catalog=$(scripts/fixture-images.sh | tail -n 1)
export APPRUNNER_TEST_CATALOG="$catalog"
cargo test --locked --no-fail-fast "$@"
