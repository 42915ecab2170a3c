# Placement in Go. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
DEVDB := $(GO) run ./cmd/placement-devdb
# TEST_DATABASE_URL, when set, names a PostgreSQL server where the user may
# create databases; otherwise a throwaway cluster under .data/ is used.
TEST_DB = $${TEST_DATABASE_URL:-$$($(DEVDB) start)}

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: run
run: ## serve on 127.0.0.1:8778 (noauth2; local PostgreSQL under .data/ unless configured)
	$(GO) run ./cmd/placement-api --dev $(ARGS)

.PHONY: test
test: ## go vet, unit tests and gabbits with the race detector, on a real PostgreSQL
	@set -e; url=$(TEST_DB); export TEST_DATABASE_URL="$$url"; \
	echo "TEST_DATABASE_URL=$$url"; \
	$(GO) vet ./...; \
	$(GO) test -race -count=1 $(TESTFLAGS) ./...

.PHONY: e2e
e2e: ## end-to-end tests with the real Python service writing to the same database (installs python3-placement)
	@set -e; need=; for p in python3-placement python3-psycopg2 uwsgi-core uwsgi-plugin-python3; do \
		dpkg -s $$p >/dev/null 2>&1 || need="$$need $$p"; done; \
	if [ -n "$$need" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make e2e needs:$$need (apt-get install as root)"; exit 1; fi; \
		apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; fi; \
	url=$(TEST_DB); export TEST_DATABASE_URL="$$url"; \
	PLACEMENT_E2E=1 $(GO) test -count=1 -v ./internal/e2e/

.PHONY: mysql-e2e
mysql-e2e: ## db import/export against a private MariaDB populated by the Python service (installs mariadb-server)
	@set -e; need=; for p in mariadb-server python3-pymysql python3-placement uwsgi-core uwsgi-plugin-python3; do \
		dpkg -s $$p >/dev/null 2>&1 || need="$$need $$p"; done; \
	if [ -n "$$need" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make mysql-e2e needs:$$need (apt-get install as root)"; exit 1; fi; \
		apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; fi; \
	url=$(TEST_DB); export TEST_DATABASE_URL="$$url"; \
	PLACEMENT_MYSQL=1 $(GO) test -count=1 -v -run TestMySQLImportExport ./internal/e2e/

FUZZ_TARGETS = internal/candidate:FuzzParseAndGenerate internal/handler/allocation:FuzzDecodeAllocations \
	internal/handler/provider:FuzzListQuery internal/microversion:FuzzFromHeader internal/schema:FuzzDecodeJSON

.PHONY: fuzz
fuzz: ## run every fuzz target (seeded from the gabbits) for FUZZTIME each (default 10s)
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($(or $(FUZZTIME),10s))"; \
		$(GO) test ./$${t%%:*} -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(or $(FUZZTIME),10s); done

.PHONY: gabbi
gabbi: ## run one gabbit file: make gabbi FILE=gabbits/traits.yaml
	@set -e; url=$(TEST_DB); export TEST_DATABASE_URL="$$url"; \
	$(GO) test -race -count=1 ./gabbits -run "TestGabbits/$(basename $(notdir $(FILE)))$$" -v

.PHONY: lint
lint: ## gofmt and go vet must be clean
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: build
build: ## build the commands into ./bin
	$(GO) build -o bin/ ./cmd/...

REFERENCE_SCRIPT ?= ../shared/reference/serve-upstream.sh

.PHONY: bench
bench: ## benchmark against the Python reference: make bench [N=1000] [SCALE=1000,5000,10000,50000] [REFERENCE=0|1] [ARGS=…]
	@set -e; url=$(TEST_DB); \
	$(GO) build -o bin/ ./cmd/placement-api ./cmd/placement-bench; \
	ref=; \
	if [ "$(REFERENCE)" = 1 ] || { [ "$(REFERENCE)" != 0 ] && [ -x "$(REFERENCE_SCRIPT)" ]; }; then \
		ref="--reference-script $(REFERENCE_SCRIPT)"; fi; \
	bin/placement-bench --server-bin bin/placement-api --db-url "$$url" $$ref \
		--n $(or $(N),1000) --scale "$(SCALE)" $(ARGS)

.PHONY: db-up
db-up: ## start the local PostgreSQL under .data/ and print its URL
	@$(DEVDB) start

.PHONY: db-stop
db-stop: ## stop the local PostgreSQL
	@$(DEVDB) stop

.PHONY: db-reset
db-reset: db-stop ## stop and delete the local PostgreSQL
	rm -rf .data/pg

.PHONY: tidy
tidy: ## go mod tidy
	$(GO) mod tidy

.PHONY: relnote
relnote: ## new release note: make relnote SLUG=my-change
	@f=releasenotes/notes/$(SLUG)-$$(head -c8 /dev/urandom | od -An -tx1 | tr -d ' \n').yaml; \
	printf -- '---\nfeatures:\n  - |\n    Describe the change.\n' > $$f; echo $$f
