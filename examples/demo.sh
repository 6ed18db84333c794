#!/usr/bin/env bash
# The README demo: the whole job end to end on this machine, in a temp directory.
#
#   1. build `tuf`, `cargo-tuf` and `demo-serve` (this repository's binaries)
#   2. generate keys with `tuf key generate` (offline keys encrypted, online key not)
#   3. stage and sign root v1 and targets v1 with `tuf init`, `tuf sign`; commit root v1
#      with `tuf root commit`
#   4. package the crates of examples/demo-crates with `cargo package` and lay them out as
#      a sparse registry (config.json, index files, .crate files), served on 127.0.0.1
#   5. commit targets v1 and sign the index with the online key (`tuf publish`: bins,
#      snapshot, timestamp), then check it as a client would (`tuf verify`)
#   6. as a cargo user with a fresh CARGO_HOME: pin the registry with `cargo tuf init`,
#      build examples/demo-app through `cargo tuf run -- build`, check the lockfile with
#      `cargo tuf verify`
#   7. tamper with a .crate on the server: `cargo tuf run -- build` must fail, with the
#      proxy's reason
#
# Exits 0 only if every step behaved as expected. Nothing outside the temp directory is
# written except this repository's build output; the demo's cargo never contacts crates.io
# (the consumer's crates.io source is replaced by the verifying proxy, and packaging runs
# --offline).
#
# Environment:
#   TUF_DEMO_BIN_DIR=DIR   use tuf, cargo-tuf and demo-serve from DIR instead of building
#   TUF_DEMO_KEEP=1        keep the temp directory (its path is printed)
#   CARGO_TARGET_DIR       where to build this repository (default: ./target)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXAMPLES="$REPO_ROOT/examples"
START=$SECONDS

if [ -t 1 ]; then
    BOLD=$'\e[1m'; GREEN=$'\e[32m'; RED=$'\e[31m'; DIM=$'\e[2m'; RESET=$'\e[0m'
else
    BOLD=''; GREEN=''; RED=''; DIM=''; RESET=''
fi
STEP=0
step() { STEP=$((STEP + 1)); printf '\n%s==> [%d] %s%s\n' "$BOLD" "$STEP" "$*" "$RESET"; }
ok() { printf '%s    ok: %s%s\n' "$GREEN" "$*" "$RESET"; }
fail() { printf '\n%sDEMO FAILED at step %d: %s%s\n' "$RED" "$STEP" "$*" "$RESET" >&2; exit 1; }
# Print a command, then run it with its output indented.
show() {
    printf '%s    $ %s%s\n' "$DIM" "$*" "$RESET"
    "$@" 2>&1 | sed 's/^/      /'
    return "${PIPESTATUS[0]}"
}
need() { command -v "$1" >/dev/null 2>&1 || fail "this demo needs \`$1\` on PATH"; }
# Read cargo's output: count `Compiling` lines on one line (redrawn on a terminal),
# print the other lines indented.
compile_progress() {
    local count=0 line
    while IFS= read -r line; do
        case "$line" in
            *Compiling\ *)
                count=$((count + 1))
                if [ -t 1 ]; then printf '\r\e[K      compiling %d: %s' "$count" "${line##*Compiling }"; fi ;;
            *)
                if [ -t 1 ] && [ "$count" -gt 0 ]; then printf '\r\e[K'; fi
                printf '      %s\n' "$line" ;;
        esac
    done
    if [ -t 1 ]; then printf '\r\e[K'; fi
    printf '      (%d crates compiled)\n' "$count"
}

need cargo
need sed
# sha256 FILE: the hex SHA-256 of FILE (GNU coreutils or macOS).
if command -v sha256sum >/dev/null 2>&1; then
    sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
    sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
    fail "this demo needs \`sha256sum\` or \`shasum\` on PATH"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tuf-demo.XXXXXX")"
SERVER_PID=''
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ "${TUF_DEMO_KEEP:-0}" = 1 ]; then
        echo "(kept $WORK)"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# --------------------------------------------------------------------------------------
step "Build this repository's binaries: tuf, cargo-tuf, demo-serve"
if [ -n "${TUF_DEMO_BIN_DIR:-}" ]; then
    BIN="$TUF_DEMO_BIN_DIR"
    echo "    using prebuilt binaries in $BIN"
else
    # A debug build: on a fresh 2-core machine it is faster overall than --release, and
    # the demo's own work takes a few seconds either way.
    echo "    This build is most of the demo's time: about 10 minutes on a fresh 2-core"
    echo "    machine (some 200 crates), seconds when this repository is already built."
    printf '%s    $ cargo build --locked --manifest-path %s -p tuf-cli -p registry-plugin -p tuf-examples --bins%s\n' \
        "$DIM" "$REPO_ROOT/Cargo.toml" "$RESET"
    # One line of progress instead of ~200 `Compiling` lines, so the story stays readable;
    # anything else cargo says (warnings, errors, `Finished`) is shown as it comes.
    cargo build --locked --manifest-path "$REPO_ROOT/Cargo.toml" \
        -p tuf-cli -p registry-plugin -p tuf-examples --bins 2>&1 | compile_progress \
        || fail "cargo build"
    BIN="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug"
fi
for exe in tuf cargo-tuf demo-serve; do
    [ -x "$BIN/$exe" ] || fail "$BIN/$exe is missing"
done
TUF="$BIN/tuf"
# `cargo tuf ...` finds cargo-tuf on PATH.
export PATH="$BIN:$PATH"
ok "binaries in $BIN"
echo "    work directory: $WORK"

# The repository's build is done: from here on nothing must pick up the caller's cargo
# settings; the demo's cargo uses its own CARGO_HOME and target directories.
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR RUSTFLAGS CARGO_ENCODED_RUSTFLAGS \
    CARGO_REGISTRIES_CRATES_IO_PROTOCOL CARGO_MANIFEST_DIR CARGO_PKG_NAME 2>/dev/null || true
export CARGO_TERM_COLOR=never CARGO_NET_RETRY=0 CARGO_HTTP_TIMEOUT=30

KEYS="$WORK/keys"
REPO="$WORK/repo"      # the operator's TUF repository (policy, staged/, metadata/, state/)
SRV="$WORK/srv"        # what the registry's web server serves
INDEX="$SRV/index"     # the sparse index
mkdir -p "$KEYS" "$SRV/crates" "$INDEX"

# --------------------------------------------------------------------------------------
step "Key holders generate keys (tuf key generate)"
# In real use each holder runs this on their own machine and types a passphrase; the demo
# passes one through the environment (--passphrase-env names the variable).
export TUF_DEMO_PASSPHRASE="demo passphrase, not a secret"
show "$TUF" key generate "$KEYS/root.pem" --passphrase-env TUF_DEMO_PASSPHRASE || fail "root key"
show "$TUF" key generate "$KEYS/targets.pem" --passphrase-env TUF_DEMO_PASSPHRASE || fail "targets key"
# The online key (timestamp, snapshot, bins) lives on the publishing server, unencrypted.
show "$TUF" key generate "$KEYS/online.pem" --unencrypted || fail "online key"
ok "root and targets keys encrypted, online key unencrypted (mode 0600)"

# --------------------------------------------------------------------------------------
step "The operator stages root v1 and targets v1 (tuf init)"
# 16 bins instead of 4096 keep the demo's output small; the layout is the same.
show "$TUF" init "$REPO" \
    --root-key "$KEYS/root.pub.json" \
    --targets-key "$KEYS/targets.pub.json" \
    --online-key "$KEYS/online.pub.json" \
    --bit-length 4 || fail "tuf init"

step "Key holders sign, the operator checks and commits root v1 (tuf sign, tuf status, tuf root commit)"
show "$TUF" sign --repo "$REPO" --role root --key "$KEYS/root.pem" \
    --passphrase-env TUF_DEMO_PASSPHRASE || fail "sign root"
show "$TUF" sign --repo "$REPO" --role targets --key "$KEYS/targets.pem" \
    --passphrase-env TUF_DEMO_PASSPHRASE || fail "sign targets"
# Exit 0 (all met) or 4 (expiry warnings) would both be fine; a threshold gap (3) is not.
status_rc=0
show "$TUF" status "$REPO" || status_rc=$?
[ "$status_rc" = 3 ] && fail "tuf status: a threshold is not met"
show "$TUF" root commit "$REPO" || fail "tuf root commit"
[ -f "$REPO/metadata/1.root.json" ] || fail "no metadata/1.root.json after tuf root commit"
# The signed staged targets is committed by `tuf publish` below (step "Sign the index").
ok "root v1 published in $REPO/metadata/; targets v1 signed, staged for tuf publish"

# --------------------------------------------------------------------------------------
step "Start the registry's static web server on 127.0.0.1 (demo-serve)"
# The server serves $SRV: index/ (the sparse index), crates/ (.crate files) and
# metadata/ (the TUF metadata, a link to the repository's metadata/ directory).
ln -s "$REPO/metadata" "$SRV/metadata"
"$BIN/demo-serve" "$SRV" --port-file "$WORK/port" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
[ -s "$WORK/port" ] || fail "demo-serve did not start (see $WORK/server.log)"
PORT="$(cat "$WORK/port")"
BASE="http://127.0.0.1:$PORT"
ok "serving $SRV at $BASE/"

# --------------------------------------------------------------------------------------
step "Package the demo crates (cargo package) and lay out the sparse index"
cp -r "$EXAMPLES/demo-crates" "$WORK/demo-crates"
show env CARGO_HOME="$WORK/package-home" cargo package --manifest-path "$WORK/demo-crates/Cargo.toml" \
    --workspace --no-verify --allow-dirty --offline -q || fail "cargo package"

printf '{"dl":"%s/crates/{crate}/{crate}-{version}.crate"}' "$BASE" >"$INDEX/config.json"

# sparse_path NAME: the index path of a crate (1/a, 2/ab, 3/a/abc, de/mo/demo-greet).
sparse_path() {
    local n
    n="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')"
    case ${#n} in
        1) echo "1/$n" ;;
        2) echo "2/$n" ;;
        3) echo "3/${n:0:1}/$n" ;;
        *) echo "${n:0:2}/${n:2:2}/$n" ;;
    esac
}
# publish_crate NAME VERSION DEPS_JSON: put the .crate on the server, append its index line.
publish_crate() {
    local name="$1" vers="$2" deps="$3"
    local crate="$WORK/demo-crates/target/package/$name-$vers.crate"
    [ -f "$crate" ] || fail "cargo package did not make $crate"
    local cksum
    cksum="$(sha256 "$crate")"
    mkdir -p "$SRV/crates/$name"
    cp "$crate" "$SRV/crates/$name/$name-$vers.crate"
    local path
    path="$INDEX/$(sparse_path "$name")"
    mkdir -p "$(dirname "$path")"
    printf '{"name":"%s","vers":"%s","deps":%s,"cksum":"%s","features":{},"yanked":false,"v":2}\n' \
        "$name" "$vers" "$deps" "$cksum" >>"$path"
    echo "    $name $vers  cksum $cksum  -> index/$(sparse_path "$name")"
}
publish_crate demo-greet 0.1.0 '[]'
publish_crate demo-shout 0.1.0 \
    '[{"name":"demo-greet","req":"^0.1.0","features":[],"optional":false,"default_features":true,"target":null,"kind":"normal"}]'
ok "sparse index in $INDEX, .crate files in $SRV/crates"

# --------------------------------------------------------------------------------------
step "Publish: commit targets v1 and sign the index with the online key (tuf publish, tuf verify)"
# `tuf publish` refuses while a staged role lacks signatures, commits the signed targets,
# and signs bins, snapshot and timestamp with the online key only: the offline root and
# targets keys never reach the publishing server.
show "$TUF" publish "$REPO" --index "$INDEX" --online-key "$KEYS/online.pem" \
    --no-copies || fail "tuf publish"
[ -f "$REPO/metadata/1.targets.json" ] || fail "no metadata/1.targets.json after tuf publish"
[ -f "$REPO/metadata/timestamp.json" ] || fail "no timestamp.json after tuf publish"
echo "    metadata: $(ls "$REPO/metadata" | wc -l) files in $REPO/metadata"
echo "    checking the published repository from the trusted root, as a client would:"
show "$TUF" verify --root "$REPO/metadata/1.root.json" "$REPO/metadata" \
    --index "$INDEX" || fail "tuf verify"
ok "index signed and verified"

# --------------------------------------------------------------------------------------
step "A cargo user pins the registry (cargo tuf init), with a fresh CARGO_HOME"
export CARGO_HOME="$WORK/user-cargo-home"
# The root reaches the user out of band (a release page, a package); here, a copy.
cp "$REPO/metadata/1.root.json" "$WORK/trusted-root.json"
# The demo registry takes crates.io's place for this CARGO_HOME: `cargo tuf run` replaces
# crates.io with the verifying proxy, so the demo app depends on plain `demo-greet = "0.1"`
# and crates.io itself is never contacted. (--port 0: any free loopback port.)
show cargo tuf init \
    --index-url "sparse+$BASE/index/" \
    --metadata-url "$BASE/metadata/" \
    --root "$WORK/trusted-root.json" \
    --port 0 || fail "cargo tuf init"
ok "pinned under $CARGO_HOME/tuf/"

step "Build the demo app through the verifying proxy (cargo tuf run -- build)"
cp -r "$EXAMPLES/demo-app" "$WORK/demo-app"
cd "$WORK/demo-app"
export CARGO_TARGET_DIR="$WORK/demo-app-target"
show cargo tuf run -- build || fail "cargo tuf run -- build of the untampered registry"
show "$CARGO_TARGET_DIR/debug/demo-app" || fail "running the demo app"
"$CARGO_TARGET_DIR/debug/demo-app" | grep -q 'HELLO, VERIFIED CRATES!' || fail "unexpected demo-app output"
ok "built from verified index files and verified .crate files"

step "Check the lockfile and cargo's cache against the signed index (cargo tuf verify)"
show cargo tuf verify || fail "cargo tuf verify"
ok "every package's checksum matches the signed index"

# --------------------------------------------------------------------------------------
step "Attack: the server now serves a tampered demo-shout-0.1.0.crate"
CRATE="$SRV/crates/demo-shout/demo-shout-0.1.0.crate"
before="$(sha256 "$CRATE")"
# Any change will do: a few bytes appended, as a compromised mirror might.
printf 'tampered' >>"$CRATE"
after="$(sha256 "$CRATE")"
echo "    sha256 was $before"
echo "    sha256 now $after (the signed index line still says $before)"
# Forget what cargo downloaded and built, so it downloads again (the pinned TUF state in
# $CARGO_HOME/tuf stays: it is what the user trusts).
rm -rf "$CARGO_HOME/registry" "$CARGO_TARGET_DIR"
OUT="$WORK/tampered-build.log"
rc=0
show cargo tuf run -- build >"$OUT" || rc=$?
cat "$OUT"
[ "$rc" != 0 ] || fail "cargo tuf run -- build succeeded with a tampered .crate"
grep -q 'cargo-tuf refused demo-shout-0.1.0.crate' "$OUT" \
    || fail "the build failed, but without the proxy's refusal of demo-shout-0.1.0.crate"
grep -q 'cksum check failed' "$OUT" || fail "the refusal does not name the cksum check"
find "$CARGO_HOME/registry" -name 'demo-shout-0.1.0*' 2>/dev/null | grep -q . \
    && fail "the tampered crate reached cargo's cache"
ok "cargo failed (exit $rc) with the proxy's reason; nothing tampered reached cargo's cache"

printf '\n%sDemo complete in %ds: keys, ceremony, signed registry, verified build, tampered crate rejected.%s\n' \
    "$GREEN$BOLD" "$((SECONDS - START))" "$RESET"
