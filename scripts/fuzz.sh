#!/usr/bin/env bash
# A short pass of every fuzz target in fuzz/ (15 s each by default: 100 s in all once the targets
# are built; the first build takes about 5 minutes). Not part of CI's test command: fuzzing needs
# the nightly toolchain and cargo-fuzz, and finds nothing in a fixed time.
#
#   scripts/fuzz.sh                  every target, 15 s each
#   scripts/fuzz.sh 600 config       one target, 10 minutes
#
# Each corpus (fuzz/corpus/TARGET, not committed) starts from the seeds in fuzz/seeds/TARGET and
# from the test fixtures; a crash, timeout or out-of-memory input is saved in
# fuzz/artifacts/TARGET, the other targets still run, and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(config manifests dockerignore versions plan_file layer_store)
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is missing; installing it (cargo install cargo-fuzz --locked)" >&2
  cargo install cargo-fuzz --locked
fi

# The manifests target reads its first byte as the kind of file (the order of KINDS in
# fuzz/fuzz_targets/manifests.rs), the rest as the file.
manifest_kind() {
  case "$1" in
    package.json) echo 0 ;;
    pyproject.toml) echo 1 ;;
    Pipfile) echo 2 ;;
    requirements.txt) echo 3 ;;
    .nvmrc) echo 4 ;;
    .node-version) echo 5 ;;
    .python-version) echo 6 ;;
    runtime.txt) echo 7 ;;
    uv.lock) echo 8 ;;
    poetry.lock) echo 9 ;;
    Pipfile.lock) echo 10 ;;
    Procfile) echo 11 ;;
    package-lock.json) echo 12 ;;
    tsconfig.json) echo 13 ;;
    *) return 1 ;;
  esac
}

seed() {
  local target="$1" corpus="fuzz/corpus/$1"
  mkdir -p "$corpus"
  if [ -d "fuzz/seeds/$target" ]; then
    for f in "fuzz/seeds/$target"/*; do
      [ -e "$corpus/$(basename "$f")" ] || cp "$f" "$corpus/"
    done
  fi
  case "$target" in
    config)
      find tests/fixtures examples -name '*.yaml' ! -name 'pnpm-lock.yaml' -size -64k \
        | while read -r f; do
          out="$corpus/$(echo "$f" | tr / _)"
          [ -e "$out" ] || cp "$f" "$out"
        done
      ;;
    manifests)
      find tests/fixtures examples -type f -size -256k | while read -r f; do
        kind="$(manifest_kind "$(basename "$f")")" || continue
        out="$corpus/$(echo "$f" | tr / _)"
        [ -e "$out" ] || { printf "\\x$(printf %02x "$kind")"; cat "$f"; } > "$out"
      done
      ;;
  esac
}

# Built once (as `cargo fuzz run` builds: optimised, with debug assertions and AddressSanitizer),
# then each binary is run directly: a cargo invocation per target would cost seconds each.
nice -n 19 cargo +nightly fuzz build
bin="fuzz/target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"

failed=0
for target in "${targets[@]}"; do
  seed "$target"
  mkdir -p "fuzz/artifacts/$target"
  echo "fuzz.sh: $target for ${seconds}s" >&2
  # -timeout: one input that takes a second is a hang; -rss_limit_mb: one that takes a GiB a leak.
  if ! nice -n 19 "$bin/$target" -artifact_prefix="fuzz/artifacts/$target/" \
      -max_total_time="$seconds" -timeout=1 -rss_limit_mb=1024 -print_final_stats=1 \
      "fuzz/corpus/$target"; then
    echo "fuzz.sh: $target failed; the input is in fuzz/artifacts/$target" >&2
    failed=1
  fi
done
exit "$failed"
