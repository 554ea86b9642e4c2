# The two commands of the README's quick start are `make run` and `make test`.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run build test test-deps check generate fuzz bench bench-viewers bench-ab

## run: start edge on its embedded defaults (./data, local media folder)
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/edge serve

## build: build bin/edge
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/edge ./cmd/edge

## test: install what the tests need, then run every check, the fuzzer and every test
test: test-deps check fuzz
	$(GO) test -race -count=1 -timeout 25m ./...

test-deps:
	bash scripts/test-deps.sh

## check: formatting, vet, staticcheck, and generated templ files equal to their sources
check:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool templ generate >/dev/null 2>&1
	@out="$$(git status --porcelain -- '*_templ.go')"; if [ -n "$$out" ]; then \
	  echo "generated templ files differ from their sources: run 'go tool templ generate' and commit"; echo "$$out"; exit 1; fi

## generate: regenerate templ components
generate:
	$(GO) tool templ generate

## fuzz: a short run of the path fuzzer (longer: FUZZTIME=20000000x).
## A count, not a duration: Go 1.26's fuzz coordinator can fail a run that ends on
## its -fuzztime deadline with "context deadline exceeded" (golang/go#75804).
FUZZTIME ?= 300000x
fuzz:
	$(GO) test ./proxy -run '^$$' -fuzz FuzzParseKey -fuzztime $(FUZZTIME)

## bench: edge against nginx with wrk on hot objects (a secondary line)
bench:
	bash bench/run.sh

## bench-viewers: edge against nginx as 1,000 viewers at real pace on a library larger than the caches
bench-viewers:
	bash bench/viewers.sh

## bench-ab: two builds of edge (A=rev B=rev, . for the working tree) at real pace, run in turn
bench-ab:
	bash bench/ab.sh
