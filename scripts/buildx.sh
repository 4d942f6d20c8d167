#!/usr/bin/env bash
# BuildKit's CLI for the benchmarks: Debian trixie's docker-buildx, downloaded once (the package's
# SHA256 checked against trixie's index) and kept under the fixture cache as a CLI plugin in a
# private docker config directory, never in ~/.docker/cli-plugins, where it would turn every plain
# `docker build` into buildx. Prints that directory: `DOCKER_CONFIG=DIR docker buildx build --load`
# then builds with the engine's own BuildKit.
set -euo pipefail
cache=${FIXTURE_CACHE:-/var/cache/apprunner-build-fixtures}
dir=$cache/buildx-config
plugin=$dir/cli-plugins/docker-buildx
if [ ! -x "$plugin" ]; then
  mirror=http://deb.debian.org/debian
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  curl -fsS "$mirror/dists/trixie/main/binary-amd64/Packages.xz" -o "$work/Packages.xz"
  xz -d "$work/Packages.xz"
  read -r file sum < <(awk '/^Package: docker-buildx$/ {p = 1} p && /^Filename:/ {f = $2}
    p && /^SHA256:/ {s = $2} p && /^$/ {print f, s; exit}' "$work/Packages")
  [ -n "$file" ] || { echo "buildx: trixie has no docker-buildx package" >&2; exit 1; }
  curl -fsS "$mirror/$file" -o "$work/buildx.deb"
  echo "$sum  $work/buildx.deb" | sha256sum -c --quiet
  dpkg-deb -x "$work/buildx.deb" "$work/root"
  mkdir -p "$dir/cli-plugins"
  install -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-buildx" "$plugin.partial"
  mv "$plugin.partial" "$plugin"
fi
echo "$dir"
