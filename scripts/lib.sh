# Shared by run.sh and test.sh: install only what is missing, so a second run costs seconds.
# Every step a fresh machine needs lives here; nothing is downloaded outside the package registries
# (crates.io, npm, Debian), and no tool is allowed to fetch a browser or a prebuilt binary.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14"
# Binaryen's wasm-opt from npm runs on node; with it on PATH Trunk optimises instead of downloading one.
export PATH="$HOME/.cargo/bin:$ROOT/scripts/tools/node_modules/.bin:$PATH"
# Never let Playwright or anything else download a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

say() { printf '\n==> %s\n' "$*" >&2; }

# Runs a step and prints how long it took, so slow steps are visible in CI logs.
timed() {
  local name="$1"; shift
  local start=$SECONDS
  say "$name"
  "$@"
  local rc=$?
  printf '==> %s: %ss (exit %s)\n' "$name" "$((SECONDS - start))" "$rc" >&2
  return "$rc"
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
  fi
  # The release app is built with its own standard library (trunk_release below); without
  # rust-src it is built as before, only bigger.
  if ! has_rust_src; then
    rustup component add rust-src || say "rust-src unavailable: the release app will be built without its own std (bigger)"
  fi
}

has_rust_src() { rustup component list --installed 2>/dev/null | grep -q '^rust-src'; }

# `make test`'s lint suite: rustfmt and clippy (rustup's minimal profile has neither).
ensure_lint_tools() {
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add rustfmt clippy
  fi
}

ensure_trunk() {
  if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
    say "installing trunk $TRUNK_VERSION (about 6 minutes on 2 cores, once)"
    # Trunk's own release profile is fat LTO in one codegen unit: a long single-threaded link for a
    # tool whose speed nobody waits on (it mostly waits for cargo). Plain release settings instead.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install trunk --version "$TRUNK_VERSION" --locked
  fi
}

# The CLI must equal the wasm-bindgen that Cargo.lock pins, or Trunk and the test runner fail.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_wasm_bindgen() {
  local want
  want="$(wasm_bindgen_version)"
  if [ -z "$want" ]; then
    echo "Cargo.lock has no wasm-bindgen entry; run cargo generate-lockfile" >&2
    return 1
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $want" ]; then
    say "installing wasm-bindgen-cli $want (the version Cargo.lock pins)"
    # Not --locked: the CLI's own lock file names transitive versions the registry snapshot lacks.
    cargo install wasm-bindgen-cli --version "$want"
  fi
}

ensure_node() {
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    apt_install nodejs npm
  fi
}

# npm ci when the lock file is committed (reproducible), only if node_modules is older than it.
npm_deps() {
  local dir="$1"
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_wasm_opt() {
  ensure_node
  npm_deps "$ROOT/scripts/tools"
}

APT_UPDATED=
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "missing system packages: $*; run: sudo apt-get install -y $*" >&2
    return 1
  fi
  if [ -z "$APT_UPDATED" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

ensure_browser() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v unshare >/dev/null || missing+=(util-linux)
  # Emoji (the raised hand) drawn as they are for people, not as empty boxes, in the screenshots.
  [ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} from the system packages"
    apt_install "${missing[@]}"
  fi
}

# The cluster tests (server/tests/cluster.rs, end2end/tests/cluster.spec.ts) start their own
# redis-server and HAProxy; neither runs as a service.
ensure_cluster_tools() {
  if ! command -v redis-server >/dev/null; then
    say "installing redis-server from the system packages"
    apt_install redis-server
  fi
  if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
    say "installing haproxy from the system packages"
    apt_install haproxy
  fi
}

# The TURN spec (end2end/tests/turn.spec.ts) starts its own coturn; none runs as a service.
ensure_turn_server() {
  if ! command -v turnserver >/dev/null; then
    say "installing coturn from the system packages"
    apt_install coturn
  fi
}

ensure_e2e_deps() {
  ensure_node
  npm_deps "$ROOT/end2end"
}

# The real matchbox_server, for the e2e spec that proves the app works with any matchbox-protocol server.
# Kept in .tools/ (ignored by git), so it never shadows anything on the developer's PATH.
MATCHBOX_SERVER_VERSION="0.15.0"
ensure_matchbox_server() {
  local root="$ROOT/.tools/matchbox"
  if [ ! -x "$root/bin/matchbox_server" ] ||
    ! grep -qs "matchbox_server $MATCHBOX_SERVER_VERSION " "$root/.crates.toml"; then
    say "installing matchbox_server $MATCHBOX_SERVER_VERSION into .tools/matchbox (a few minutes, once)"
    cargo install matchbox_server --version "$MATCHBOX_SERVER_VERSION" --locked --root "$root"
  fi
}

setup_run() {
  ensure_wasm_target
  ensure_trunk
  ensure_wasm_bindgen
  ensure_wasm_opt
}

setup_test() {
  setup_run
  ensure_lint_tools
  ensure_browser
  ensure_cluster_tools
  ensure_turn_server
  ensure_e2e_deps
  ensure_matchbox_server
}

# `trunk build --release` with the standard library built for the app itself, for size (README
# "Download size"): panics abort on the spot (no message formatting, no unwinding tables), no
# source locations, std's size-optimised paths. These are unstable compiler options, which
# RUSTC_BOOTSTRAP lets the stable toolchain (the only one a machine here has) take, for this build
# only: everything else, tests and lint included, builds as usual. RUSTFLAGS replaces
# .cargo/config.toml's rustflags, so it repeats them first.
trunk_release() {
  local config_flags="--cfg erase_components -C link-arg=-zstack-size=917504"
  if ! has_rust_src; then
    (cd "$ROOT" && trunk build --release "$@")
    return
  fi
  (cd "$ROOT" && RUSTC_BOOTSTRAP=1 \
    CARGO_UNSTABLE_BUILD_STD=std,panic_abort CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size \
    RUSTFLAGS="$config_flags -Zlocation-detail=none -Zunstable-options -Cpanic=immediate-abort" \
    trunk build --release "$@")
}

build_release() {
  # The app first: the server embeds dist/ (server/build.rs).
  trunk_release && (cd "$ROOT" && cargo build --release -p meshcall-server)
}

# Cargo's target directory (CARGO_TARGET_DIR or .cargo/config may move it).
target_dir() {
  (cd "$ROOT" && cargo metadata --format-version 1 --no-deps --offline 2>/dev/null) |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'
}

# The Playwright suite inside a private network namespace, against the release server and dist/.
# Extra arguments go to `playwright test` (e.g. --grep "camera off").
run_e2e() {
  local bin
  bin="$(target_dir)/release/meshcall-server"
  (cd "$ROOT/end2end" &&
    MESHCALL_SERVER_BIN="$bin" MESHCALL_DIST="$ROOT/dist" ../scripts/netns.sh npx playwright test "$@")
}
