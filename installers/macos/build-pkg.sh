#!/bin/sh
# Builds, signs and notarizes the macOS installer packages ON A MAC from the payload assembled by
# `npm run package` (installers/out/macos). One package per architecture.
#
#   ./build-pkg.sh                      ad-hoc signed executables, unsigned packages (testing)
#   APP_IDENTITY="Developer ID Application: Org (TEAMID)" \
#   INSTALLER_IDENTITY="Developer ID Installer: Org (TEAMID)" \
#   NOTARY_PROFILE=mcpwatch-notary ./build-pkg.sh   release: signed, notarized, stapled
#
# NOTARY_PROFILE is a keychain profile made once with:
#   xcrun notarytool store-credentials mcpwatch-notary --apple-id ID --team-id TEAMID --password APP_SPECIFIC_PASSWORD
set -eu
cd "$(dirname "$0")"
VERSION="$(cat VERSION)"
APP_IDENTITY="${APP_IDENTITY:--}"
for ARCH in arm64 x64; do
  ROOT="payload-$ARCH"
  BIN="$ROOT/usr/local/mcpwatch/bin/mcpwatch-agent"
  [ -f "$BIN" ] || { echo "skip $ARCH: $BIN missing"; continue; }
  # postject left Node's original signature invalid: replace it (ad hoc or Developer ID, hardened
  # runtime with the JIT entitlements V8 needs). --force overwrites the stale signature.
  if [ "$APP_IDENTITY" = "-" ]; then
    codesign --force --sign - --identifier com.mcpwatch.agent "$BIN"
  else
    codesign --force --sign "$APP_IDENTITY" --identifier com.mcpwatch.agent --options runtime \
      --entitlements entitlements.plist --timestamp "$BIN"
  fi
  codesign --verify --strict --verbose=2 "$BIN"
  "$BIN" --version
  pkgbuild --root "$ROOT" --scripts scripts --identifier com.mcpwatch.agent.pkg --version "$VERSION" \
    --install-location / --ownership recommended "component-$ARCH.pkg"
  OUT="mcpwatch-agent-$VERSION-darwin-$ARCH.pkg"
  if [ -n "${INSTALLER_IDENTITY:-}" ]; then
    productbuild --distribution "distribution-$ARCH.xml" --package-path . --sign "$INSTALLER_IDENTITY" --timestamp "$OUT"
  else
    productbuild --distribution "distribution-$ARCH.xml" --package-path . "$OUT"
  fi
  rm -f "component-$ARCH.pkg"
  if [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$OUT" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$OUT"
    spctl --assess --type install --verbose "$OUT"
  fi
  echo "built $OUT"
done
