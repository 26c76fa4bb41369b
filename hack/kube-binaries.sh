#!/usr/bin/env bash
# Builds the pinned control-plane binaries (etcd, kube-apiserver, kube-controller-manager) from the Go
# module proxy, once, into a cache outside the work tree. A warm run only checks that they exist.
#
#   EBB_CACHE   cache root (default ~/.cache/ebb); binaries land in $EBB_CACHE/bin/<name>-<version>/
set -euo pipefail

ETCD_VERSION=v3.6.16
KUBE_VERSION=v1.37.2
STAGING_VERSION=v0.37.2

cache=${EBB_CACHE:-$HOME/.cache/ebb}
etcd_dir=$cache/bin/etcd-$ETCD_VERSION
kube_dir=$cache/bin/kubernetes-$KUBE_VERSION
export GOFLAGS=-buildvcs=false

say() { printf '[kube-binaries] %s\n' "$*" >&2; }

# Prints a dot every 15 s while a long build runs, so CI logs and terminals show progress.
with_progress() {
	local label=$1; shift
	local start=$SECONDS
	say "$label: started (cold builds take minutes on 2 cores)"
	( while sleep 15; do say "$label: still building ($((SECONDS - start)) s)"; done ) &
	local ticker=$!
	local rc=0
	"$@" || rc=$?
	kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null || true
	[ "$rc" -eq 0 ] || { say "$label: failed"; return "$rc"; }
	say "$label: done in $((SECONDS - start)) s"
}

build_etcd() {
	local work=$cache/build/etcd-$ETCD_VERSION
	mkdir -p "$work" "$etcd_dir"
	cd "$work"
	[ -f go.mod ] || go mod init ebb.dev/build/etcd >/dev/null 2>&1
	go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null
	go build -o "$etcd_dir/etcd.tmp" go.etcd.io/etcd/server/v3
	mv "$etcd_dir/etcd.tmp" "$etcd_dir/etcd"
}

build_kube() {
	local work=$cache/build/kubernetes-$KUBE_VERSION
	mkdir -p "$work" "$kube_dir"
	cd "$work"
	go mod download "k8s.io/kubernetes@$KUBE_VERSION"
	local upstream
	upstream=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	{
		echo "module ebb.dev/build/kubernetes"
		echo
		echo "go 1.26.0"
		echo
		echo "require k8s.io/kubernetes $KUBE_VERSION"
		echo
		echo "replace ("
		# Every staging module k8s.io/kubernetes replaces with ./staging/... is published at v0.x.
		sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$STAGING_VERSION"'#p' "$upstream"
		echo ")"
	} >go.mod
	go get k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager >/dev/null
	local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
	ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"
	ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
	for cmd in kube-apiserver kube-controller-manager; do
		go build -ldflags "$ldflags" -o "$kube_dir/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
		mv "$kube_dir/$cmd.tmp" "$kube_dir/$cmd"
	done
}

if [ -x "$etcd_dir/etcd" ]; then say "etcd $ETCD_VERSION: cached"; else with_progress "etcd $ETCD_VERSION" build_etcd; fi
if [ -x "$kube_dir/kube-apiserver" ] && [ -x "$kube_dir/kube-controller-manager" ]; then
	say "kubernetes $KUBE_VERSION: cached"
else
	with_progress "kubernetes $KUBE_VERSION" build_kube
fi
echo "$etcd_dir/etcd"
echo "$kube_dir/kube-apiserver"
echo "$kube_dir/kube-controller-manager"
