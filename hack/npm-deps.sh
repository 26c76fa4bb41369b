#!/usr/bin/env bash
# Installs the npm packages the tests need (servers they start, e.g. azurite@3.35.0) into
# $EBB_CACHE/npm, skipping those already there at the pinned version. Tests find the binaries
# in $EBB_CACHE/npm/node_modules/.bin.
set -euo pipefail
dir="${EBB_CACHE:-$HOME/.cache/ebb}/npm"
missing=()
for spec in "$@"; do
	name=${spec%@*} version=${spec##*@}
	have=$(node -p "require(process.argv[1]).version" "$dir/node_modules/$name/package.json" 2>/dev/null || true)
	[ "$have" = "$version" ] || missing+=("$spec")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[npm-deps] installing: ${missing[*]}" >&2
mkdir -p "$dir"
npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "${missing[@]}" >/dev/null
