#!/usr/bin/env bash
# Tidies every module of the workspace. Each go.mod replaces every ebb.dev module with its
# folder, so `go mod tidy` (which ignores go.work) resolves them even through test imports:
# services' tests use ebb.dev/test's servers, and ebb.dev/test imports the services.
set -euo pipefail
cd "$(dirname "$0")/.."
modules=$(go work edit -json | sed -n 's/.*"DiskPath": "\.\/\(.*\)".*/\1/p')
for m in $modules; do
	(
		cd "$m"
		up=$(echo "$m" | sed 's#[^/]*#..#g')
		for other in $modules; do
			[ "$other" = "$m" ] && continue
			go mod edit -replace "ebb.dev/$other=$up/$other"
		done
		GOWORK=off GOFLAGS=-mod=mod go mod tidy
	)
	echo "tidied $m" >&2
done
