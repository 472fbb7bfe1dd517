#!/usr/bin/env bash
# Copies the operator console's third-party front-end code from npm into assets/console/vendor/.
#
# The packages and their exact versions are pinned in scripts/console-vendor/package-lock.json
# (integrity hashes included); `npm ci` installs exactly those. The copied files are committed:
# building or running the service (`cargo run -- demo`) needs no Node and no network. Run this
# only to upgrade (edit package.json, `npm install --package-lock-only`, run it, commit).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
pkg="$here/console-vendor"
out="$root/assets/console/vendor"

(cd "$pkg" && npm ci --ignore-scripts --no-audit --no-fund)
mkdir -p "$out"
uplot="$pkg/node_modules/uplot"
cp "$uplot/dist/uPlot.iife.min.js" "$out/uPlot.iife.min.js"
cp "$uplot/dist/uPlot.min.css" "$out/uPlot.min.css"
cp "$uplot/LICENSE" "$out/uPlot.LICENSE"
version="$(node -p "require('$uplot/package.json').version")"
echo "uPlot $version (MIT, https://github.com/leeoniya/uPlot)" > "$out/VERSIONS"
rm -rf "$pkg/node_modules"
echo "vendored into $out:"
ls -l "$out"
