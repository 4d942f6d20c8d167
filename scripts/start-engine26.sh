#!/usr/bin/env bash
# A second Docker engine for the tests: Debian trixie's docker.io (Docker 26), beside the machine's own
# engine, with its own socket, data root and bridge, started from a cached trixie root in a private mount
# namespace (trixie's docker.io has the same package name as bookworm's, so it cannot be installed beside it).
#   scripts/start-engine26.sh [classic|containerd]
# classic (the default) keeps images in overlay2; containerd switches on the containerd image store
# (daemon.json {"features": {"containerd-snapshotter": true}}), the default of new Docker installs.
# When the engine already answers, only loads the images it lacks. Loads the fixture runtime images (scripts/fixture-images.sh)
# that it lacks from the main engine. The last line printed is the engine's DOCKER_HOST:
#   DOCKER_HOST=$(scripts/start-engine26.sh containerd | tail -n 1)
# ENGINE26_IMAGES="IMAGE ..." loads these instead of the catalog's (empty: none); ENGINE26_SHARE="DIR ..."
# shares more host folders with it (bind mounts of containers name host paths); ENGINE26_LOG: its log
# (/tmp/apprunner-build-engine26-MODE.log); DEBIAN_MIRROR: the debootstrap mirror.
# Its containers have no NAT (--iptables=false): build with --network host to reach package registries.
# scripts/stop-engine26.sh [MODE] stops it. Never give this dockerd --bridge=none: in the host's network
# namespace that deletes the main engine's docker0.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-classic}
case $mode in
  classic) bridge=ar26-classic subnet=10.226.0.1/24 features='{}' ;;
  containerd) bridge=ar26-ctrd subnet=10.227.0.1/24 features='{"features": {"containerd-snapshotter": true}}' ;;
  *) echo "usage: $0 [classic|containerd]" >&2; exit 2 ;;
esac
cache=${FIXTURE_CACHE:-/var/cache/apprunner-build-fixtures}
run=/run/apprunner-build-engine26
sock=$run/$mode.sock
host=unix://$sock
# One unpacked root, shared read-only by both modes; everything an engine writes is its own.
top=/var/lib/apprunner-build-engine26
root=$top/root
data=/var/lib/apprunner-build-engine26-$mode
log=${ENGINE26_LOG:-/tmp/apprunner-build-engine26-$mode.log}
tarball=$cache/trixie-docker26.tar
export DEBIAN_FRONTEND=noninteractive

ping() { curl -fsS --max-time 2 --unix-socket "$sock" http://engine26/_ping >/dev/null 2>&1; }
# The fixture runtime images, from the main engine, where this one lacks them.
load_images() {
  if [ -n "${ENGINE26_IMAGES+set}" ]; then
    images=$ENGINE26_IMAGES
  else
    catalog=$cache/test-catalog.toml
    [ -s "$catalog" ] || catalog=$(scripts/fixture-images.sh | tail -n 1)
    images=$(grep -o 'image = "[^"]*"' "$catalog" | cut -d'"' -f2 | sort -u)
  fi
  for image in $images; do
    DOCKER_HOST=$host docker image inspect "$image" >/dev/null 2>&1 && continue
    echo "engine26: loading $image" >&2
    docker save "$image" | DOCKER_HOST=$host docker load >/dev/null
  done
}
if ping; then
  load_images
  echo "$host"
  exit 0
fi
command -v curl >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq curl >/dev/null; }
command -v debootstrap >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq debootstrap >/dev/null; }

# The trixie root, made once and cached as a tar beside the fixtures.
if [ ! -s "$tarball" ]; then
  mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
  mirror=${mirror:-http://deb.debian.org/debian}
  mkdir -p "$cache" "$top"
  dir=$(mktemp -d "$top/debootstrap.XXXXXX")
  echo "engine26: debootstrap trixie with docker.io from $mirror (a few minutes)" >&2
  if ! debootstrap --variant=minbase --include=docker.io,ca-certificates,iptables trixie "$dir" "$mirror" \
    >"$cache/trixie-docker26.debootstrap.log" 2>&1; then
    echo "engine26: debootstrap failed; its log is $cache/trixie-docker26.debootstrap.log" >&2
    tail -n 20 "$cache/trixie-docker26.debootstrap.log" >&2
    rm -rf "$dir"
    exit 1
  fi
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$dir"
fi
# (Unpacked again when the tar is newer, unless the other mode's engine runs from it.)
other=$([ "$mode" = classic ] && echo containerd || echo classic)
if [ ! -e "$root/.engine26-unpacked" ] || { [ "$tarball" -nt "$root/.engine26-unpacked" ] &&
  ! curl -fsS --max-time 2 --unix-socket "$run/$other.sock" http://engine26/_ping >/dev/null 2>&1; }; then
  rm -rf "$root"
  mkdir -p "$root"
  tar -C "$root" -xf "$tarball"
  mkdir -p "$root/.oldroot" "$root/var/lib/docker" "$root/run" "$root/tmp" "$root$run"
  touch "$root/.engine26-unpacked"
fi

mkdir -p "$run" "$data"
alive() { [ -s "$run/$mode.pid" ] && [ "$(ps -o stat= -p "$(cat "$run/$mode.pid")" 2>/dev/null | cut -c1)" != "" ] &&
  [ "$(ps -o stat= -p "$(cat "$run/$mode.pid")" | cut -c1)" != Z ]; }
for _ in $(seq 1 10); do # still starting, or going away
  alive || break
  if ping; then load_images; echo "$host"; exit 0; fi
  sleep 1
done
if alive; then
  echo "engine26: dockerd $(cat "$run/$mode.pid") is running but $sock does not answer; run scripts/stop-engine26.sh $mode" >&2
  exit 1
fi
# A daemon that was killed leaves its socket and pid file behind, and its containerd and shims running
# in its mount namespace (holding the data root): the stop script ends them.
if [ -e "$run/$mode.pid" ] || [ -e "$run/$mode.unshare-pid" ]; then
  scripts/stop-engine26.sh "$mode" 2>/dev/null
fi

# A bridge of its own (never --bridge=none: see above).
if ! ip link show "$bridge" >/dev/null 2>&1; then
  ip link add "$bridge" type bridge
  ip addr add "$subnet" dev "$bridge"
  touch "$run/$mode.bridge" # made here: stop-engine26.sh deletes it
fi
ip link set "$bridge" up
echo "$features" >"$run/$mode.json"

rm -f "$sock" "$run/$mode.pid"

# dockerd in a private mount namespace, pivot_root'ed into the trixie root (a chroot is not enough:
# `docker exec` processes would start in the host's /). Shared with the host: this socket's folder,
# /tmp (bind mounts of temporary folders, as tests make), the CA bundle, resolv.conf and hosts.
# Extra host folders to share: ENGINE26_SHARE="DIR ...".
share="/tmp ${ENGINE26_SHARE:-}"
# shellcheck disable=SC2016 # expanded by the inner shell
inner='set -e
R=$1 DATA=$2 RUN=$3 MODE=$4 BRIDGE=$5 SHARE=$6
mount --bind "$R" "$R"
mount -o remount,bind,ro "$R"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/run"
if [ -d "$R/opt" ]; then mount -t tmpfs tmpfs "$R/opt"; fi # containerd wants /opt/containerd
mkdir -p "$R$RUN"
mount --bind "$RUN" "$R$RUN"
mount --bind "$DATA" "$R/var/lib/docker"
for d in $SHARE; do
  if [ -d "$d" ] && [ -d "$R$d" ]; then mount --rbind "$d" "$R$d"; else echo "engine26: not shared: $d" >&2; fi
done
for f in /etc/ssl/certs/ca-certificates.crt /etc/resolv.conf /etc/hosts; do
  if [ -f "$f" ] && [ -e "$R$f" ]; then mount --bind "$f" "$R$f"; fi
done
if [ -d /lib/modules ] && [ -d "$R/lib/modules" ]; then mount --rbind /lib/modules "$R/lib/modules"; fi
cd "$R"
pivot_root . .oldroot
cd /
umount -l /.oldroot
exec /usr/sbin/dockerd --config-file "$RUN/$MODE.json" --data-root /var/lib/docker \
  --exec-root /run/docker --pidfile "$RUN/$MODE.pid" -H "unix://$RUN/$MODE.sock" \
  --bridge="$BRIDGE" --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
  --cgroup-parent="/apprunner-build-engine26-$MODE"'
for d in $share /lib/modules; do
  if [ -d "$d" ]; then mkdir -p "$root$d"; fi
done
# APPRUNNER_BUILD_ENGINE26 marks its processes (containerd and the shims inherit it) for the stop script.
APPRUNNER_BUILD_ENGINE26=$mode setsid nohup unshare -m --propagation private sh -c "$inner" engine26 "$root" "$data" "$run" "$mode" "$bridge" "$share" \
  >"$log" 2>&1 </dev/null &
echo $! >"$run/$mode.unshare-pid"
for _ in $(seq 1 60); do
  ping && break
  if ! kill -0 "$(cat "$run/$mode.unshare-pid")" 2>/dev/null; then break; fi
  sleep 1
done
if ! ping; then
  echo "engine26: dockerd ($mode) did not answer on $sock within 60 s; its log is $log" >&2
  tail -n 30 "$log" >&2
  exit 1
fi

load_images
echo "$host"
