#!/usr/bin/env bash
# Installs extip-lint into BIN_DIR from the GitHub release matching the ref it is given, checking
# the archive's sha256; builds it from source (cargo install --locked) only when there is no
# release to use. The GitHub Action (action.yml) runs it with its own ref.
# Usage: scripts/install-release.sh BIN_DIR
# Environment:
#   EXTIP_LINT_REF             the ref to install (the action passes github.action_ref): a release
#                              tag such as v0.2.0 downloads release v0.2.0; a branch or a commit
#                              builds from source. Default: the last part of $GITHUB_ACTION_PATH.
#   EXTIP_LINT_RELEASE_URL     where releases are (default
#                              https://github.com/extip-lint/extip-lint/releases/download); any URL
#                              curl reads, file:// included.
#   EXTIP_LINT_SOURCE          the checkout to build from (default: the folder above this script).
#   EXTIP_LINT_SOURCE_INSTALL  a shell command run instead of the cargo build, given the checkout
#                              as $1 and BIN_DIR as $2 (the tests use it to see the fallback chosen).
#   RUNNER_OS, RUNNER_ARCH     the platform (default: from uname).
# A checksum that does not match is refused (exit 1) and never falls back: it means a corrupted
# or altered download.
set -euo pipefail

fail() { echo "install-release: $*" >&2; exit 1; }
say() { echo "install-release: $*" >&2; }

[ $# -eq 1 ] && [ -n "$1" ] || fail "usage: install-release.sh BIN_DIR"
bin_dir=$1
source_dir=${EXTIP_LINT_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
release_url=${EXTIP_LINT_RELEASE_URL:-https://github.com/extip-lint/extip-lint/releases/download}
ref=${EXTIP_LINT_REF:-}
if [ -z "$ref" ] && [ -n "${GITHUB_ACTION_PATH:-}" ]; then
    # The runner checks an action out into .../_actions/OWNER/NAME/REF.
    ref=$(basename "$GITHUB_ACTION_PATH")
fi
ref=${ref#refs/tags/}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The platform as a Rust target triple, the one the release workflow builds for it.
target() {
    local os arch
    os=${RUNNER_OS:-$(uname -s)}
    arch=${RUNNER_ARCH:-$(uname -m)}
    case "$arch" in
        X64|x86_64|amd64) arch=x86_64 ;;
        ARM64|aarch64|arm64) arch=aarch64 ;;
        *) return 1 ;;
    esac
    case "$os" in
        Linux) echo "$arch-unknown-linux-musl" ;;
        macOS|Darwin) echo "$arch-apple-darwin" ;;
        Windows|MINGW*|MSYS*|CYGWIN*) [ "$arch" = x86_64 ] && echo "x86_64-pc-windows-msvc" ;;
        *) return 1 ;;
    esac
}

sha256() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null; then
        shasum -a 256 "$1" | cut -d' ' -f1
    else
        fail "neither sha256sum nor shasum is installed, so the download cannot be checked"
    fi
}

# Downloads $1 to $2: 0 when done, 2 when the file is not there (HTTP 404, a missing file).
download() {
    local rc=0
    curl --fail --silent --show-error --location --retry 3 --output "$2" "$1" 2>"$tmp/curl.err" || rc=$?
    case "$rc" in
        0) return 0 ;;
        # 22: HTTP error (404 for a release without this file); 37: file:// could not be read.
        22|37) return 2 ;;
        *) fail "cannot download $1: $(cat "$tmp/curl.err")" ;;
    esac
}

from_source() {
    say "$1; building extip-lint from source in $source_dir with cargo install --locked (this takes minutes)"
    mkdir -p "$bin_dir"
    if [ -n "${EXTIP_LINT_SOURCE_INSTALL:-}" ]; then
        sh -c "$EXTIP_LINT_SOURCE_INSTALL" extip-lint-source-install "$source_dir" "$bin_dir" \
            || fail "the source install failed"
    else
        command -v cargo >/dev/null || fail "cargo is needed to build extip-lint from source"
        cargo install --locked --path "$source_dir" --root "$tmp/root" || fail "cargo install failed"
        cp "$tmp/root/bin/$exe" "$bin_dir/$exe"
    fi
    "$bin_dir/$exe" --version || fail "the installed $bin_dir/$exe does not run"
    exit 0
}

exe=extip-lint
case "${RUNNER_OS:-$(uname -s)}" in Windows|MINGW*|MSYS*|CYGWIN*) exe=extip-lint.exe ;; esac

# Only a full release tag (vMAJOR.MINOR.PATCH, maybe with a pre-release) names a release.
if ! [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
    from_source "\`${ref:-no ref}\` is not a release tag"
fi
version=${ref#v}
triple=$(target) || from_source "no release binary is built for $(uname -s) $(uname -m)"
case "$triple" in *windows*) archive="extip-lint-$triple.zip" ;; *) archive="extip-lint-$triple.tar.gz" ;; esac
url="$release_url/$ref/$archive"

rc=0
download "$url" "$tmp/$archive" || rc=$?
[ "$rc" -eq 0 ] || from_source "release $ref has no $archive"
rc=0
download "$url.sha256" "$tmp/$archive.sha256" || rc=$?
[ "$rc" -eq 0 ] || fail "release $ref has $archive but no $archive.sha256; refusing to install an unchecked binary"

expected=$(cut -d' ' -f1 <"$tmp/$archive.sha256" | tr -d '\r\n' | tr 'A-F' 'a-f')
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || fail "$archive.sha256 holds no sha256 checksum; refusing to install"
actual=$(sha256 "$tmp/$archive")
if [ "$actual" != "$expected" ]; then
    fail "CHECKSUM MISMATCH for $url: expected $expected (from $archive.sha256), got $actual; refusing to install (the download is corrupted or was altered)"
fi

mkdir -p "$tmp/unpack"
case "$archive" in
    *.zip)
        if command -v unzip >/dev/null; then
            unzip -q "$tmp/$archive" -d "$tmp/unpack"
        else
            powershell -NoProfile -Command "Expand-Archive -LiteralPath '$tmp/$archive' -DestinationPath '$tmp/unpack'"
        fi ;;
    *) tar -xzf "$tmp/$archive" -C "$tmp/unpack" ;;
esac
[ -f "$tmp/unpack/$exe" ] || fail "$archive holds no $exe"
chmod +x "$tmp/unpack/$exe"
installed=$("$tmp/unpack/$exe" --version) || fail "the $exe in $archive does not run on this machine"
case "$installed" in
    *" $version") ;;
    *) fail "$archive of release $ref holds \`$installed\`, not version $version; refusing to install" ;;
esac
mkdir -p "$bin_dir"
mv -f "$tmp/unpack/$exe" "$bin_dir/$exe"
say "installed $archive of release $ref (sha256 $actual) into $bin_dir"
echo "$installed"
