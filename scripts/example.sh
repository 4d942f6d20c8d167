#!/usr/bin/env bash
# Build the example app (the App Runner guide's Python example) with apprunner-build and run it:
# it answers on http://localhost:8080. Works on a fresh machine of this kind: it starts a Docker
# engine and, as no registry is reachable here, builds the runtime image from Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/start-dockerd.sh
catalog=$(scripts/fixture-images.sh | tail -n 1)
cargo build --release --locked -q
APPRUNNER_BUILD_CATALOG=$catalog target/release/apprunner-build build examples/python-hello \
  -t python-hello --ca-bundle /etc/ssl/certs/ca-certificates.crt
docker rm -f python-hello >/dev/null 2>&1 || true
docker run -d --name python-hello -p 8080:8080 python-hello >/dev/null
for _ in $(seq 1 40); do
  if curl -fsS http://localhost:8080/ 2>/dev/null; then
    echo "python-hello is running on http://localhost:8080 (stop it with: docker rm -f python-hello)"
    exit 0
  fi
  sleep 0.5
done
echo "the app did not answer; its output:" >&2
docker logs python-hello >&2
exit 1
