#!/bin/sh
# install-deps.sh installs the toolchains Sigil needs to build its C and WAT
# guests (examples/, test/guests/): clang + lld + wasi-libc for
# wasm32-wasi, the wasm32 compiler-rt builtins, and wabt (wat2wasm).
# Go guests need nothing beyond the Go toolchain (GOOS=wasip1).
#
# Idempotent: exits 0 silently when everything is already present.
set -eu

PACKAGES="clang lld wasi-libc libclang-rt-14-dev-wasm32 wabt"

have_all() {
	command -v clang >/dev/null 2>&1 &&
		command -v wasm-ld >/dev/null 2>&1 &&
		command -v wat2wasm >/dev/null 2>&1 &&
		[ -f /usr/include/wasm32-wasi/stdio.h ]
}

if have_all; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "install-deps.sh: need root or sudo to install: $PACKAGES" >&2
	echo "install-deps.sh: run as root, or install them with your package manager" >&2
	exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps.sh: apt-get not found; install these (Debian names) by hand: $PACKAGES" >&2
	exit 1
fi

$SUDO apt-get update -qq
# shellcheck disable=SC2086 # word splitting of PACKAGES is intended
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES

if ! have_all; then
	echo "install-deps.sh: packages installed but clang, wasm-ld, wat2wasm or /usr/include/wasm32-wasi/stdio.h is still missing" >&2
	exit 1
fi
