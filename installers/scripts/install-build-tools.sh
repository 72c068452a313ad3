#!/bin/sh
# Installs the Debian packages the installers build and tests need (dpkg-deb, rpmbuild, lintian,
# wixl + msitools, mingw-w64 for the Windows service host, aarch64 binutils to strip the arm64
# executable). Fast no-op when everything is present; safe to run in CI before `npm test`.
# Needs root and apt-get for the install step; otherwise it only reports what is missing.
set -eu
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need dpkg-deb dpkg
need rpmbuild rpm
need lintian lintian
need wixl wixl
need msiinfo msitools
need msibuild msitools
need x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
need aarch64-linux-gnu-strip binutils-aarch64-linux-gnu
[ -z "$missing" ] && exit 0
packages="$(printf '%s\n' $missing | sort -u | tr '\n' ' ')"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-build-tools: missing Debian packages: $packages (needs root and apt-get)" >&2
  exit 0
fi
echo "install-build-tools: installing $packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $packages >/dev/null
