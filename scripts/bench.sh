#!/usr/bin/env bash
# apprunner-build against `docker build` (a well-layered Dockerfile on the same base image) with the legacy
# builder and with BuildKit (`docker buildx build --load`: the engine's own BuildKit through trixie's
# docker-buildx, scripts/buildx.sh), in one run: medians of RUNS builds (default 3) for a cold build
# (--no-cache for all), no change, a source edit (one line of the entry file) and a dependency edit (one
# package added), the ratios ours/legacy and ours/BuildKit, and the image sizes; then apprunner-build's
# peak RSS and wall time on a generated 500 MB, 100,000-file source tree and the time it takes to decide that tree is up to date. Prints figures; asserts nothing.
#
#   RUNS=3 scripts/bench.sh          # BENCH_CACHE (default /var/cache/apprunner-build-bench) keeps the tree
#   APPS="python311" TREE=0 scripts/bench.sh   # some apps only, and no tree
#
# The apps:
#   python3   the App Runner guide's Python example (server.py, requirements.txt: pyramid), original build,
#             `pip3 install -r requirements.txt` as the build command. The fixture catalog has no python3: an
#             overlay written here defines it on apprunner-test/python:3.11 (its version is a label only).
#   python311 examples/python-hello: build `python3 -m compileall -q .`, pre-run `pip3 install -r requirements.txt`
#   nodejs22  tests/fixtures/apps/express-npm (Express with package-lock.json): build `npm ci`
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
runs=${RUNS:-3}
cache=${BENCH_CACHE:-/var/cache/apprunner-build-bench}
ca=/etc/ssl/certs/ca-certificates.crt
mkdir -p "$cache"
need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq "$2" >/dev/null; }; }
need bc bc
[ -x /usr/bin/time ] || { apt-get update -qq; apt-get install -y -qq time >/dev/null; }

scripts/start-dockerd.sh
fixture_catalog=$(scripts/fixture-images.sh | tail -n 1)
cargo build --release --locked -q
bin=$repo/target/release/apprunner-build
buildx_config=$(scripts/buildx.sh)

work=$(mktemp -d /tmp/apprunner-build-bench.XXXXXX)
log=$cache/last-run.log # kept after the run
: >"$log"
ids=$work/image-ids
tags=()
cleanup() {
  # Only what this run made: its tags, then every image id it saw (images a rebuild replaced).
  [ ${#tags[@]} -eq 0 ] || docker rmi -f "${tags[@]}" >/dev/null 2>&1 || true
  [ -s "$ids" ] && sort -u "$ids" | xargs -r docker rmi -f >/dev/null 2>&1 || true
  # The package-cache volumes apprunner-build made for this run's directories (labelled with the directory).
  docker volume ls -q --filter label=apprunner-build.cache-for |
    xargs -r docker volume inspect -f '{{.Name}} {{index .Labels "apprunner-build.cache-for"}}' |
    awk -v w="$work/" 'index($2, w) == 1 {print $1}' | xargs -r docker volume rm -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
nonce=$(date +%s%N) # makes every edit new to docker's layer cache, across runs too

# The catalog overlay: the fixture catalog plus a python3 (original build) stand-in.
catalog=$work/catalog.toml
{
  cat "$fixture_catalog"
  echo
  echo "# Stand-in for App Runner's python3: the fixture Python 3.11 image, labelled 3.8.20."
  echo "[runtimes.python3]"
  echo 'language = "python"'
  echo 'build_process = "original"'
  echo 'app_runner = true'
  echo 'versions = [{ version = "3.8.20", image = "apprunner-test/python:3.11" }]'
} >"$catalog"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now() { date +%s.%N; }
# run LABEL CMD...: runs CMD with its output in the log; on failure shows the log's end and stops.
run() {
  local label=$1
  shift
  echo "=== $label: $*" >>"$log"
  if ! "$@" >>"$log" 2>&1; then
    echo "bench: $label failed: $*" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}
ours() { # ours APP [--no-cache]
  local app=$1
  shift
  run "ours $app" env APPRUNNER_BUILD_CATALOG="$catalog" "$bin" build "$work/$app/app" -t "bench-$app" \
    --ca-bundle "$ca" "$@"
  docker image inspect -f '{{.Id}}' "bench-$app" >>"$ids"
}
theirs() { # theirs APP [--no-cache]
  local app=$1
  shift
  run "docker $app" env DOCKER_BUILDKIT=0 docker build -q -t "bench-$app-docker" "$@" "$work/$app"
  docker image inspect -f '{{.Id}}' "bench-$app-docker" >>"$ids"
}
buildkit() { # buildkit APP [--no-cache]
  local app=$1
  shift
  run "buildkit $app" env DOCKER_CONFIG="$buildx_config" docker buildx build -q --load -t "bench-$app-bk" "$@" \
    "$work/$app"
  docker image inspect -f '{{.Id}}' "bench-$app-bk" >>"$ids"
}
declare -A t # t[app|case|tool] = the times, one a line
timed() { # timed KEY CMD...: appends CMD's wall time to t[KEY]
  local key=$1 start end
  shift
  start=$(now)
  "$@"
  end=$(now)
  t[$key]+="$(echo "$end - $start" | bc)"$'\n'
}

# Each app is a docker build context: Dockerfile, ca.crt (the classic builder has no secret mounts, so the
# CA bundle is copied in the way a Dockerfile user would, to /tmp, outside the app) and app/ (what
# apprunner-build builds).
# setup APP ENTRY MANIFESTS INSTALL BUILD: ENTRY is the file the source edit changes; MANIFESTS, the files
# the dependency edit changes; INSTALL and BUILD, the Dockerfile's RUN lines (BUILD may be empty).
declare -A entry manifest
setup() {
  local app=$1
  entry[$app]=$2
  manifest[$app]=$3
  cp "$ca" "$work/$app/ca.crt"
  mkdir -p "$work/$app/base"
  for f in $2 $3; do cp "$work/$app/app/$f" "$work/$app/base/$f"; done
  local copy="" f
  for f in $3; do copy+="app/$f "; done
  {
    echo "FROM $6"
    echo "WORKDIR /app"
    echo "COPY ca.crt /tmp/ca.crt"
    echo "COPY ${copy}./"
    echo "RUN $4"
    echo "COPY app/ ."
    [ -z "$5" ] || echo "RUN $5"
    echo "ENV PORT=8080 APP_PORT=8080 PYTHONUNBUFFERED=1"
    echo "CMD [\"/bin/sh\", \"-c\", \"$7\"]"
  } >"$work/$app/Dockerfile"
  tags+=("bench-$app" "bench-$app-docker" "bench-$app-bk")
}
restore() { # the app's files as they were before any edit
  local app=$1 f
  for f in ${entry[$app]} ${manifest[$app]}; do cp "$work/$app/base/$f" "$work/$app/app/$f"; done
}

# 1. The guide's Python example on python3 (original build).
mkdir -p "$work/python3/app"
cp examples/python-hello/server.py examples/python-hello/requirements.txt "$work/python3/app/"
cat >"$work/python3/app/apprunner.yaml" <<'YAML'
version: 1.0
runtime: python3
build:
  commands:
    build:
      - pip3 install -r requirements.txt
run:
  command: python3 server.py
  network:
    port: 8080
    env: APP_PORT
YAML
setup python3 server.py requirements.txt \
  "PIP_CERT=/tmp/ca.crt pip3 install --no-cache-dir -r requirements.txt" "" \
  apprunner-test/python:3.11 "python3 server.py"

# 2. examples/python-hello on python311 (revised build).
mkdir -p "$work/python311/app"
cp -r examples/python-hello/. "$work/python311/app/"
setup python311 server.py requirements.txt \
  "PIP_CERT=/tmp/ca.crt pip3 install --no-cache-dir -r requirements.txt" "python3 -m compileall -q ." \
  apprunner-test/python:3.11 "python3 server.py"

# 3. Express with package-lock.json on nodejs22 (revised build).
node_image=$(sed -n 's/.*image = "\(apprunner-test\/node:22[^"]*\)".*/\1/p' "$fixture_catalog" | head -n 1)
mkdir -p "$work/nodejs22/app"
cp -r tests/fixtures/apps/express-npm/. "$work/nodejs22/app/"
cat >"$work/nodejs22/app/apprunner.yaml" <<'YAML'
version: 1.0
runtime: nodejs22
build:
  commands:
    build:
      - npm ci
run:
  command: node index.js
  network:
    port: 8080
YAML
setup nodejs22 index.js "package.json package-lock.json" \
  "npm_config_cafile=/tmp/ca.crt npm ci && npm cache clean --force" "" \
  "$node_image" "node index.js"

# The dependency edits: Python adds six; Express adds ms, with package.json and package-lock.json as
# `npm install --package-lock-only ms@2.1.3` writes them (made once in the Node.js image, then cached).
variant=$cache/express-npm-ms
if [ ! -s "$variant/package-lock.json" ] || ! cmp -s tests/fixtures/apps/express-npm/package-lock.json "$variant/base.json"; then
  rm -rf "$variant"
  mkdir -p "$variant"
  cp tests/fixtures/apps/express-npm/package.json tests/fixtures/apps/express-npm/package-lock.json "$variant/"
  run "lockfile variant" docker run --rm -v "$ca:/ca.crt:ro" -v "$variant:/w" -w /w -e npm_config_cafile=/ca.crt \
    "$node_image" npm install --package-lock-only --ignore-scripts --no-audit --no-fund ms@2.1.3
  cp tests/fixtures/apps/express-npm/package-lock.json "$variant/base.json"
fi
edit_source() { # edit_source APP N: the entry file plus one new line
  local app=$1 file=$work/$1/app/${entry[$1]} mark='#'
  [ "$app" = nodejs22 ] && mark='//'
  cp "$work/$app/base/${entry[$app]}" "$file"
  echo "$mark bench edit $nonce-$app-$2" >>"$file"
}
edit_deps() { # edit_deps APP N: one package added (and a mark that makes the manifest new to docker's cache)
  local app=$1 dir=$work/$1/app
  if [ "$app" = nodejs22 ]; then
    cp "$variant/package.json" "$variant/package-lock.json" "$dir/"
    sed -i "s/\"private\": true,/\"private\": true,\n  \"description\": \"bench edit $nonce-$2\",/" "$dir/package.json"
  else
    cp "$work/$app/base/requirements.txt" "$dir/requirements.txt"
    printf 'six==1.16.0\n# bench edit %s-%s\n' "$nonce-$app" "$2" >>"$dir/requirements.txt"
  fi
}

read -r -a apps <<<"${APPS:-python3 python311 nodejs22}"
cases=(cold "no change" "source edit" "dependency edit")
echo "bench: $runs runs of each case; load average at start: $(cut -d' ' -f1-3 /proc/loadavg); log: $log" >&2
for app in "${apps[@]}"; do
  echo "bench: $app" >&2
  for i in $(seq 1 "$runs"); do
    timed "$app|cold|ours" ours "$app" --no-cache
    timed "$app|cold|docker" theirs "$app" --no-cache
    timed "$app|cold|buildkit" buildkit "$app" --no-cache
  done
  ours "$app" # settle all on the current state (docker: the cache after --no-cache builds)
  theirs "$app"
  buildkit "$app"
  for i in $(seq 1 "$runs"); do
    timed "$app|no change|ours" ours "$app"
    timed "$app|no change|docker" theirs "$app"
    timed "$app|no change|buildkit" buildkit "$app"
  done
  for i in $(seq 1 "$runs"); do
    edit_source "$app" "$i"
    timed "$app|source edit|ours" ours "$app"
    timed "$app|source edit|docker" theirs "$app"
    timed "$app|source edit|buildkit" buildkit "$app"
  done
  restore "$app"
  ours "$app"
  theirs "$app"
  buildkit "$app"
  for i in $(seq 1 "$runs"); do
    edit_deps "$app" "$i"
    timed "$app|dependency edit|ours" ours "$app"
    timed "$app|dependency edit|docker" theirs "$app"
    timed "$app|dependency edit|buildkit" buildkit "$app"
    restore "$app" # back to the state before the edit, so each timed build adds the package anew
    ours "$app"
    theirs "$app"
    buildkit "$app"
  done
done

# Image sizes, in the apps' unedited state (as the engine counts them: base image included).
declare -A size
mb() { echo "scale=0; $(docker image inspect -f '{{.Size}}' "$1") / 1000000" | bc; }
for app in "${apps[@]}"; do
  size[$app]="$(mb "bench-$app") MB vs $(mb "bench-$app-docker") MB (legacy) and $(mb "bench-$app-bk") MB (BuildKit)"
done
for app in "${apps[@]}"; do docker rmi -f "bench-$app" "bench-$app-docker" "bench-$app-bk" >/dev/null 2>&1 || true; done

if [ "${TREE:-1}" = 1 ]; then
# The large tree: 500 MB in 100,000 files (plus an apprunner.yaml), generated once and cached.
tree=$cache/tree-500mb-100k
if [ ! -e "$tree/.complete" ]; then
  echo "bench: generating $tree (once)" >&2
  rm -rf "$tree"
  mkdir -p "$tree"
  python3 scripts/bench/gen-tree.py "$tree" 100000 500000000
  touch "$tree/.complete"
fi
cat >"$tree/apprunner.yaml" <<'YAML'
version: 1.0
runtime: python311
build:
  commands:
    build:
      - echo built
run:
  command: python3 -m http.server 8080
  network:
    port: 8080
YAML
tree_files=$(find "$tree/src" -type f | wc -l)
tree_mb=$(find "$tree/src" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s / 1e6}')
tags+=(bench-tree)
rss_of() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
tree_build() { # tree_build KEY [--no-cache]: wall time into t[KEY], peak RSS (kB) into t[KEY rss]
  local key=$1 start end
  shift
  start=$(now)
  run "tree" /usr/bin/time -v -o "$work/time.txt" env APPRUNNER_BUILD_CATALOG="$catalog" "$bin" build "$tree" \
    -t bench-tree --ca-bundle "$ca" "$@"
  end=$(now)
  t[$key]+="$(echo "$end - $start" | bc)"$'\n'
  t[$key rss]+="$(rss_of "$work/time.txt")"$'\n'
  docker image inspect -f '{{.Id}}' bench-tree >>"$ids"
}
echo "bench: tree ($tree_files files, $tree_mb MB)" >&2
for i in $(seq 1 "$runs"); do
  tree_build "tree|cold" --no-cache
  tree_build "tree|no change"
done
docker rmi -f bench-tree >/dev/null 2>&1 || true
fi

# The report.
med() { printf '%s' "${t[$1]}" | median; }
runs_of() { printf '%s' "${t[$1]}" | awk '{printf "%s%.2f", (NR > 1 ? " " : ""), $1}'; }
ratio() { echo "scale=2; $1 / $2" | bc | sed 's/^\./0./'; }
echo
echo "apprunner-build vs docker build, with the legacy builder and with BuildKit (the engine's, through docker-buildx"
echo "$(DOCKER_CONFIG=$buildx_config docker buildx version | awk '{print $2}')), Docker $(docker version --format '{{.Server.Version}}'), medians of $runs,"
echo "wall seconds. Figures are noisy: 2 cores shared with other builds (load average now $(cut -d' ' -f1-3 /proc/loadavg))."
echo "python3 is a stand-in: the fixture image apprunner-test/python:3.11 labelled 3.8.20 in a catalog overlay."
echo "The Dockerfile: FROM the same image, WORKDIR /app, COPY the CA bundle to /tmp, COPY the manifests, RUN the"
echo "install (pip --no-cache-dir; npm ci && npm cache clean --force), COPY . ., RUN any other build command."
echo "apprunner-build keeps package caches in a volume (not with --no-cache); docker has none. Each run's times: $log."
echo
printf '%-10s %-16s %9s %9s %9s %7s %7s\n' app case ours legacy buildkit /legacy /bk
for app in "${apps[@]}"; do
  for c in "${cases[@]}"; do
    o=$(med "$app|$c|ours")
    d=$(med "$app|$c|docker")
    b=$(med "$app|$c|buildkit")
    printf '%-10s %-16s %8.2fs %8.2fs %8.2fs %6sx %6sx\n' "$app" "$c" "$o" "$d" "$b" "$(ratio "$o" "$d")" \
      "$(ratio "$o" "$b")"
    echo "runs: $app, $c: ours $(runs_of "$app|$c|ours"); legacy $(runs_of "$app|$c|docker");" \
      "buildkit $(runs_of "$app|$c|buildkit")" >>"$log"
  done
done
echo
echo "image sizes (ours vs docker build):"
for app in "${apps[@]}"; do printf '  %-10s %s\n' "$app" "${size[$app]}"; done
echo
[ "${TREE:-1}" = 1 ] || exit 0
max() { sort -n | tail -n 1; }
echo "generated tree: $tree_files files, $tree_mb MB (python311, build \`echo built\`), medians of $runs:"
printf '  build --no-cache: %.2f s wall (runs: %s), peak RSS %s MB (max over the runs)\n' "$(med "tree|cold")" \
  "$(runs_of "tree|cold")" \
  "$(echo "scale=1; $(printf '%s' "${t["tree|cold rss"]}" | max) / 1000" | bc)"
printf '  up to date (second build, no change): %.2f s wall (runs: %s), peak RSS %s MB\n' "$(med "tree|no change")" \
  "$(runs_of "tree|no change")" \
  "$(echo "scale=1; $(printf '%s' "${t["tree|no change rss"]}" | max) / 1000" | bc)"
