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
	@set -e; need=; for p in python3-placement python3-psycopg2 uwsgi-core uwsgi-plugin-python3 pgbouncer; do \
		dpkg -s $$p >/dev/null 2>&1 || need="$$need $$p"; done; \
	if [ -n "$$need" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make e2e needs:$$need (apt-get install as root)"; exit 1; fi; \
		apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; fi; \
	url=$(TEST_DB); export TEST_DATABASE_URL="$$url"; \
	PLACEMENT_E2E=1 $(GO) test -count=1 -v ./internal/e2e/

.PHONY: cli-e2e
cli-e2e: ## the real openstack CLI (osc-placement) and openstacksdk against this service (installs them)
	@set -e; need=; for p in python3-openstackclient python3-osc-placement python3-openstacksdk; do \
		dpkg -s $$p >/dev/null 2>&1 || need="$$need $$p"; done; \
	if [ -n "$$need" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make cli-e2e needs:$$need (apt-get install as root)"; exit 1; fi; \
		apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; fi; \
	url=$(TEST_DB); export TEST_DATABASE_URL="$$url"; \
	PLACEMENT_CLI=1 $(GO) test -count=1 -v -run 'TestRealCLI|TestRealSDK' ./internal/e2e/

.PHONY: mysql-e2e
mysql-e2e: ## db import/export against a private MariaDB populated by the Python service (installs mariadb-server)
	@set -e; need=; for p in mariadb-server python3-pymysql python3-placement uwsgi-core uwsgi-plugin-python3; do \
		dpkg -s $$p >/dev/null 2>&1 || need="$$need $$p"; done; \
	if [ -n "$$need" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make mysql-e2e needs:$$need (apt-get install as root)"; exit 1; fi; \
		apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; fi; \
	url=$(TEST_DB); export TEST_DATABASE_URL="$$url"; \
	PLACEMENT_MYSQL=1 $(GO) test -count=1 -v -run 'TestMySQL' ./internal/e2e/

FUZZ_TARGETS = internal/engine:FuzzParseAndGenerate internal/engine:FuzzExplain internal/handler/allocation:FuzzDecodeAllocations \
	internal/handler/provider:FuzzListQuery internal/microversion:FuzzFromHeader internal/schema:FuzzDecodeJSON

.PHONY: fuzz
# FUZZTIME is an execution count by default: with a duration, go test's fuzz
# coordinator can report its own deadline as a failure ("context deadline
# exceeded") when the timer fires between cancelling its context and the
# child context it compares against; a count stops without a deadline.
fuzz: ## run every fuzz target (seeded from the gabbits) for FUZZTIME each (default 50000x executions)
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($(or $(FUZZTIME),50000x))"; \
		$(GO) test ./$${t%%:*} -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(or $(FUZZTIME),50000x); done

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
build: ## static, reproducible binaries in ./bin, stamped with their version (RELEASE=x.y.z for a release)
	CGO_ENABLED=0 $(GO) build -buildvcs=true -trimpath \
		-ldflags '-s -w -buildid= $(if $(RELEASE),-X github.com/openstack-placement-go/placement/internal/version.Release=$(RELEASE))' \
		-o bin/ ./cmd/placement-api ./cmd/placement-manage ./cmd/placement-status

.PHONY: deb
deb: build ## Debian package bin/placement-go_<version>_<arch>.deb (binaries, systemd unit, sample conffiles)
	@set -e; v=$$(bin/placement-api --version); arch=$$(dpkg --print-architecture); \
	stage=bin/deb/placement-go; rm -rf bin/deb; \
	install -d $$stage/DEBIAN $$stage/usr/bin $$stage/lib/systemd/system $$stage/usr/lib/sysusers.d \
		$$stage/usr/lib/tmpfiles.d $$stage/etc/placement $$stage/usr/share/doc/placement-go; \
	install -m 755 bin/placement-api bin/placement-manage bin/placement-status $$stage/usr/bin/; \
	install -m 644 cmd/placement-api/dist/placement-api.service cmd/placement-api/dist/placement-api.socket $$stage/lib/systemd/system/; \
	install -m 644 cmd/placement-api/dist/placement.sysusers $$stage/usr/lib/sysusers.d/placement.conf; \
	install -m 644 cmd/placement-api/dist/placement.tmpfiles $$stage/usr/lib/tmpfiles.d/placement.conf; \
	install -m 640 api-ref/samples/placement.conf api-ref/samples/policy.yaml $$stage/etc/placement/; \
	install -m 644 README.md $$stage/usr/share/doc/placement-go/; \
	install -m 755 cmd/placement-api/dist/postinst $$stage/DEBIAN/postinst; \
	printf '/etc/placement/placement.conf\n/etc/placement/policy.yaml\n' > $$stage/DEBIAN/conffiles; \
	printf 'Package: placement-go\nVersion: %s\nArchitecture: %s\nMaintainer: Placement in Go <placement-go@localhost>\nSection: net\nPriority: optional\nDepends: adduser\nRecommends: postgresql\nConflicts: python3-placement\nReplaces: python3-placement\nDescription: OpenStack Placement API service in Go\n placement-api, placement-manage and placement-status, a drop-in for the\n Python Placement service on PostgreSQL, with a systemd unit.\n' "$$v" "$$arch" > $$stage/DEBIAN/control; \
	find $$stage -exec touch -h -d @$$(git log -1 --format=%ct) {} +; \
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct) dpkg-deb --root-owner-group -Zxz --build $$stage bin/placement-go_$${v}_$${arch}.deb

.PHONY: deb-test
deb-test: deb ## install the package with dpkg -i (root; removes python3-placement) and serve with the installed binaries
	@bash .ci/deb-test

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

.PHONY: bench-wide bench-mixed bench-scale
bench-wide: ## wide trees (3,000–262,144 candidates), candidate sets compared with the reference
	@$(MAKE) --no-print-directory bench ARGS='--scenario wide $(ARGS)'
bench-mixed: ## claims against concurrent readers at 50,000 providers, 1 and 3 processes (ours only)
	@$(MAKE) --no-print-directory bench REFERENCE=0 ARGS='--scenario mixed $(ARGS)'
bench-scale: ## 100,000 providers and 1,000,000 allocations via a bench-only SQL loader (ours only)
	@$(MAKE) --no-print-directory bench REFERENCE=0 ARGS='--scenario scale $(ARGS)'

.PHONY: soak
soak: ## 3 API processes, mixed load, faults, invariant checks (owned PostgreSQL on port 25450): make soak [SOAK_ARGS='--duration 60s']
	$(GO) build -o bin/ ./cmd/placement-api ./cmd/placement-soak
	bin/placement-soak --server-bin bin/placement-api $(SOAK_ARGS)

.PHONY: failover
failover: ## PostgreSQL failover under load: primary + synchronous standby, promote, stop the old primary
	PLACEMENT_FAILOVER=1 $(GO) test -count=1 -run TestFailover -v ./cmd/placement-soak

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
.PHONY: docs
docs: ## regenerate the option reference in docs/configuration.md from internal/config
	go test ./internal/config -run TestConfigurationPage -update-docs

tidy: ## go mod tidy
	$(GO) mod tidy

.PHONY: relnote
relnote: ## new release note: make relnote SLUG=my-change
	@f=releasenotes/notes/$(SLUG)-$$(head -c8 /dev/urandom | od -An -tx1 | tr -d ' \n').yaml; \
	printf -- '---\nfeatures:\n  - |\n    Describe the change.\n' > $$f; echo $$f
