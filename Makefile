# ebb — make help lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

BIN       := $(CURDIR)/bin
EBB_CACHE ?= $(HOME)/.cache/ebb
export EBB_CACHE
export GOFLAGS := -buildvcs=false

# Debian packages of the real servers the tests start on loopback.
APT_PACKAGES := rabbitmq-server mariadb-server postgresql prometheus redis-server

TOOLS := $(BIN)/gotestsum $(BIN)/staticcheck $(BIN)/controller-gen
GO_TEST_FLAGS ?= -count=1 -timeout=30m

##@ Build
.PHONY: build
build: ## every binary into bin/
	go build -o $(BIN)/ ebb.dev/cmd/ebb ebb.dev/test/cmd/ebb-cluster ebb.dev/test/cmd/ebb-demo ebb.dev/test/cmd/ebb-bench

.PHONY: run
run: kube-binaries build ## ebb live on a local control plane: a queue, a burst of work, 0→N→0 (Ctrl-C stops)
	$(BIN)/ebb-demo -ebb $(BIN)/ebb -repo $(CURDIR)

$(TOOLS): hack/tools/go.mod hack/tools/go.sum
	cd hack/tools && GOWORK=off go build -o $(BIN)/ tool

.PHONY: tools
tools: $(TOOLS) ## developer tools pinned in hack/tools/go.mod, into bin/

##@ Test
.PHONY: kube-binaries
kube-binaries: ## pinned etcd, kube-apiserver and kube-controller-manager (built once, cached)
	hack/kube-binaries.sh >/dev/null

.PHONY: deps
deps: kube-binaries ## and the Debian packages and npm tools the tests need
	hack/apt-deps.sh $(APT_PACKAGES)
	hack/npm-deps.sh azurite@3.35.0

.PHONY: test
test: verify deps tools ## every test of every module (after checking generated files are current)
	$(BIN)/gotestsum --format testname --jsonfile $(BIN)/test.json -- $(GO_TEST_FLAGS) work

# BENCH_FLAGS go to ebb-bench, e.g. make bench BENCH_FLAGS='-quick -scenarios reaction'.
BENCH_FLAGS ?=

.PHONY: bench
bench: kube-binaries deps build ## benchmarks (Go micro benchmarks, reaction latency, …) into bench-results/<date>/report.md
	$(BIN)/ebb-bench -ebb $(BIN)/ebb -repo $(CURDIR) -out $(CURDIR)/bench-results $(BENCH_FLAGS)

.PHONY: lint
lint: tools ## gofmt, go vet and staticcheck over every module
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	go vet work
	$(BIN)/staticcheck work

##@ Deploy
IMAGE   ?= ebb:dev
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: images
images: ## the ebb image (IMAGE, default ebb:dev) from the Dockerfile, where docker, podman or buildah can build it
	IMAGE=$(IMAGE) VERSION=$(VERSION) hack/images.sh

.PHONY: bus-credentials
bus-credentials: ## a random password for every bus user the kustomize overlays name (existing files kept)
	hack/bus-credentials.sh

##@ Generate
# controller-gen runs inside the module that owns the markers. CRDs carry no descriptions
# (maxDescLen=0): the ScaledJob CRD embeds a whole JobSpec and would pass the 256 KiB limit of
# kubectl's last-applied annotation otherwise.
CONTROLLER_GEN := $(BIN)/controller-gen
GENERATED_PATHS := deploy/kustomize/base/crd/bases deploy/kustomize/base/webhook/manifests.yaml \
	deploy/kustomize/base/rbac/actuator/role.yaml \
	schemas/keda/v1alpha1/zz_generated.deepcopy.go schemas/msg/jsonschema docs/scalers.md

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## CRDs and the webhook configuration from kubebuilder markers
	cd schemas && $(CONTROLLER_GEN) crd:maxDescLen=0 paths=./keda/... \
	  output:crd:artifacts:config=../deploy/kustomize/base/crd/bases
	cd services/actuator && $(CONTROLLER_GEN) webhook paths=./webhook/... \
	  output:webhook:artifacts:config=../../deploy/kustomize/base/webhook
	cd services/actuator && $(CONTROLLER_GEN) rbac:roleName=ebb-actuator paths=./... \
	  output:rbac:artifacts:config=../../deploy/kustomize/base/rbac/actuator

.PHONY: generate
generate: $(CONTROLLER_GEN) ## deepcopy functions of the API types, the messages' JSON Schemas, docs/scalers.md
	cd schemas && $(CONTROLLER_GEN) object paths=./keda/...
	cd schemas && go generate ./msg ./trigger

.PHONY: verify
verify: manifests generate ## regenerate, then fail if generated files differ from the commit
	@changed=$$(git status --porcelain -- $(GENERATED_PATHS)); \
	  if [ -n "$$changed" ]; then echo "generated files are stale; run make manifests generate and commit:"; echo "$$changed"; exit 1; fi

##@ Help
.PHONY: help
help: ## this list
	@awk 'BEGIN {FS = ":.*##"} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-z-]+:.*##/ {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
