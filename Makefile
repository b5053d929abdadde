# Sigil — build, test and benchmark targets.
# `make test` is the whole suite and installs what it needs (clang, lld,
# wasi-libc, wabt) through scripts/install-deps.sh when missing.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X github.com/sigilhq/sigil/internal/cli.Version=$(VERSION) -X github.com/sigilhq/sigil/internal/cli.Commit=$(COMMIT)
TESTFLAGS ?= -count=1 -timeout 15m

.PHONY: all build deps test check unit e2e examples bench fuzz clean k8s

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/sigil ./cmd/sigil

deps:
	@bash scripts/install-deps.sh

# The whole suite: formatting, vet, unit tests, e2e tests.
test: deps check
	$(GO) test $(TESTFLAGS) ./...
	$(MAKE) k8s

# The Helm chart and deploy/k8s: helm lint, helm template and strict
# decoding into k8s.io/api types. A nested module (test/k8s/go.mod) keeps
# Helm out of the main module; its cold compile is ~4 min on 2 cores.
k8s:
	cd test/k8s && $(GO) vet ./... && $(GO) test $(TESTFLAGS) ./...

check:
	@fmt_out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	  if [ -n "$$fmt_out" ]; then echo "gofmt needed:"; echo "$$fmt_out"; exit 1; fi
	$(GO) vet ./...

unit: deps
	$(GO) test $(TESTFLAGS) $$($(GO) list ./... | grep -v /test/e2e)

e2e: deps
	$(GO) test $(TESTFLAGS) -v ./test/e2e/

# Builds every example into bin/wasm/.
examples: deps build
	@mkdir -p bin/wasm
	$(GO) run ./internal/build/cmd/buildexamples bin/wasm

# Benchmarks are never part of `make test`: the load harness (writes
# docs/performance.md) and the per-invocation Go benchmarks.
BENCHFLAGS ?=
bench: deps
	$(GO) run ./test/bench $(BENCHFLAGS)
	$(GO) test -run '^$$' -bench . -benchmem ./internal/runtime/ ./internal/abi/

# Short fuzzing pass over every parser.
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseCGI -fuzztime $(FUZZTIME) ./internal/abi/
	$(GO) test -run '^$$' -fuzz FuzzNormalizeRef -fuzztime $(FUZZTIME) ./internal/artifact/
	$(GO) test -run '^$$' -fuzz FuzzParseMemory -fuzztime $(FUZZTIME) ./internal/api/

clean:
	rm -rf bin
