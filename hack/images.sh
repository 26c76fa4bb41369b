#!/usr/bin/env bash
# Builds ebb's image from the Dockerfile at the repository root as $IMAGE (default ebb:dev) with
# the first container builder that works here: docker with a daemon that answers, podman, or
# buildah. Where there is none it says so and builds nothing (exit 0), so that `make images`
# never stands in the way of the other targets on a machine without a builder.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-ebb:dev}
version=${VERSION:-dev}
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
	builder=(docker build)
	export DOCKER_BUILDKIT=1
elif command -v podman >/dev/null; then
	builder=(podman build)
elif command -v buildah >/dev/null; then
	builder=(buildah build)
else
	why="no docker, podman or buildah on PATH"
	command -v docker >/dev/null && why="docker is installed but no daemon answers (docker info fails); no podman or buildah"
	echo "images: NOT BUILT: $why. Build $image where a container builder runs: docker build -t $image ." >&2
	exit 0
fi
echo "images: building $image (version $version) with ${builder[0]}" >&2
"${builder[@]}" --build-arg VERSION="$version" -t "$image" -f Dockerfile .
