#!/usr/bin/env bash
# Engine overhead on the guide's Python example: wall time of `apprunner-build build` minus the
# time of the user's commands (both from the build log), median of N builds; and, measured in the
# same run, `docker build --no-cache` of an equivalent Dockerfile on the same base image, with the
# ratio of the two wall times. Timings only; nothing here asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
scripts/start-dockerd.sh
command -v bc >/dev/null || { apt-get update -qq; apt-get install -y -qq bc >/dev/null; }
catalog=$(scripts/fixture-images.sh | tail -n 1)
cargo build --release --locked -q
bin=target/release/apprunner-build
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

walls=(); engines=(); commands=()
for i in $(seq 1 "$runs"); do
  line=$(APPRUNNER_BUILD_CATALOG=$catalog "$bin" build --no-cache examples/python-hello -t bench-hello \
    --ca-bundle /etc/ssl/certs/ca-certificates.crt | grep 'Successfully built image')
  # "... in 2.0 s (build commands 1.3 s, engine 0.7 s)."
  walls+=("$(sed -E 's/.* in ([0-9.]+) s \(build commands.*/\1/' <<<"$line")")
  commands+=("$(sed -E 's/.*build commands ([0-9.]+) s.*/\1/' <<<"$line")")
  engines+=("$(sed -E 's/.*engine ([0-9.]+) s\)\./\1/' <<<"$line")")
done

ctx=$(mktemp -d)
cp -r examples/python-hello/. "$ctx/"
# The classic builder has no secret mounts: pass the CA bundle the way a Dockerfile user would.
cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca.crt"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM apprunner-test/python:3.11
WORKDIR /app
COPY . /app
RUN python3 -m compileall -q .
RUN PIP_CERT=/app/ca.crt pip3 install -r requirements.txt && rm /app/ca.crt
ENV PORT=8080 APP_PORT=8080 PYTHONUNBUFFERED=1
CMD ["/bin/sh", "-c", "python3 server.py"]
DOCKERFILE
baseline=()
for i in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  docker build -q --no-cache -t bench-hello-docker "$ctx" >/dev/null 2>&1
  end=$(date +%s.%N)
  baseline+=("$(echo "$end - $start" | bc)")
done
# No-change rebuilds: both tools should answer from what they have, without running anything.
nochange=(); nochange_docker=()
for i in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  APPRUNNER_BUILD_CATALOG=$catalog "$bin" build examples/python-hello -t bench-hello \
    --ca-bundle /etc/ssl/certs/ca-certificates.crt >/dev/null
  end=$(date +%s.%N)
  nochange+=("$(echo "$end - $start" | bc)")
  start=$(date +%s.%N)
  docker build -q -t bench-hello-docker "$ctx" >/dev/null 2>&1
  end=$(date +%s.%N)
  nochange_docker+=("$(echo "$end - $start" | bc)")
done
rm -rf "$ctx"
docker rmi -f bench-hello bench-hello-docker >/dev/null 2>&1 || true

w=$(printf '%s\n' "${walls[@]}" | median)
c=$(printf '%s\n' "${commands[@]}" | median)
e=$(printf '%s\n' "${engines[@]}" | median)
b=$(printf '%s\n' "${baseline[@]}" | median)
echo "apprunner-build, guide's Python example, $runs cold builds (medians):"
echo "  wall ${w} s, user commands ${c} s, engine overhead ${e} s"
echo "docker build --no-cache of the equivalent Dockerfile: ${b} s"
echo "ratio apprunner-build / docker build: $(echo "scale=2; $w / $b" | bc)"
n=$(printf '%s\n' "${nochange[@]}" | median)
nd=$(printf '%s\n' "${nochange_docker[@]}" | median)
echo "no-change rebuild: apprunner-build ${n} s, docker build ${nd} s, ratio $(echo "scale=2; $n / $nd" | bc)"
