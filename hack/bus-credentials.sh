#!/usr/bin/env bash
# Writes a random password into every credentials/<user>.password file that a kustomization under
# the given directory (default deploy/kustomize) names and that does not exist yet. Existing files
# are kept, so running it again changes nothing; delete a file and run it to rotate that password
# (the Secret's name changes with its content, so the bus and the service restart with the new one).
# The files are git-ignored: they are the only copy of the bus passwords outside the cluster.
set -euo pipefail
root=${1:-$(dirname "$0")/../deploy/kustomize}
[ -d "$root" ] || { echo "bus-credentials: no directory $root" >&2; exit 1; }
created=0
while IFS= read -r kustomization; do
	dir=$(dirname "$kustomization")
	for rel in $(grep -oE 'credentials/[A-Za-z0-9_-]+\.password' "$kustomization" | sort -u); do
		file="$dir/$rel"
		[ -e "$file" ] && continue
		mkdir -p "$(dirname "$file")"
		# 24 random bytes as 48 hex digits: 192 bits.
		password=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
		(umask 077 && printf '%s' "$password" >"$file")
		echo "bus-credentials: wrote $file"
		created=$((created + 1))
	done
done < <(find "$root" -name kustomization.yaml | sort)
echo "bus-credentials: $created new password file(s) under $root"
