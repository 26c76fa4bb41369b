# ebb — make help lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

BIN       := $(CURDIR)/bin
EBB_CACHE ?= $(HOME)/.cache/ebb
export EBB_CACHE
export GOFLAGS := -buildvcs=false

# Debian packages of the real servers the tests start on loopback.
APT_PACKAGES :=

TOOLS := $(BIN)/gotestsum $(BIN)/staticcheck $(BIN)/controller-gen
GO_TEST_FLAGS ?= -count=1 -timeout=30m

##@ Build
.PHONY: build
build: ## every binary into bin/
	go build -o $(BIN)/ ebb.dev/cmd/ebb ebb.dev/test/cmd/ebb-cluster

$(TOOLS): hack/tools/go.mod hack/tools/go.sum
	cd hack/tools && GOWORK=off go build -o $(BIN)/ tool

.PHONY: tools
tools: $(TOOLS) ## developer tools pinned in hack/tools/go.mod, into bin/

##@ Test
.PHONY: deps
deps: ## Debian packages and pinned Kubernetes binaries the tests need (cached)
	hack/apt-deps.sh $(APT_PACKAGES)
	hack/kube-binaries.sh >/dev/null

.PHONY: test
test: deps tools ## every test of every module: unit, integration and end to end
	$(BIN)/gotestsum --format testname --jsonfile $(BIN)/test.json -- $(GO_TEST_FLAGS) work

.PHONY: lint
lint: tools ## gofmt, go vet and staticcheck over every module
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	go vet work
	$(BIN)/staticcheck work

##@ Help
.PHONY: help
help: ## this list
	@awk 'BEGIN {FS = ":.*##"} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-z-]+:.*##/ {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
