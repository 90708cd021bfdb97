# ivkeys: build, test, demo, bench and install.
#
#   make demo     build and walk through the main job in a throwaway vault
#   make test     formatting lint, man page lint, unit and end-to-end tests, the detect-secrets
#                 plugin (real detect-secrets from PyPI) and the pre-commit hook's command
#   make format   rewrite the sources in the house format (.swift-format)
#   make bench    the performance targets of SPEC.md, measured
#   make fuzz     libFuzzer on the key, IP/CIDR, date/duration and argument parsers, the scanner and its decoders
#                 (FUZZ_SECONDS each, default 60)
#   make install  release binaries, ivkeys and ivkeys-serve (static Swift runtime, SQLite, libcrypto and libstdc++), man page
#                 and bash, zsh and fish completions under $(DESTDIR)$(PREFIX)

SWIFT    ?= swift
CLANG    ?= clang
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR    = $(DESTDIR)$(PREFIX)/bin
MANDIR    = $(DESTDIR)$(PREFIX)/share/man/man1
# Where each shell looks for completions a package installs.
BASHCOMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

# Debian packages each target needs; missing ones are installed with apt-get (RUNLEVEL=1: the
# packages' own services, nginx's and PostgreSQL's, are not started; the tests start their own).
BUILD_DEPS = libsqlite3-dev libssl-dev libpq-dev
TEST_DEPS  = $(BUILD_DEPS) mandoc sqlite3 git bash zsh fish python3 python3-venv postgresql nginx
BENCH_DEPS = $(BUILD_DEPS) time hyperfine valgrind sqlite3 ripgrep postgresql wrk
# detect-secrets from PyPI, pinned, in a venv: `make test` checks contrib/detect_secrets_ivkeys.py
# with the real tool (scripts/check-ecosystem.sh).
DETECT_SECRETS = detect-secrets==1.5.0
DS_VENV        = $(CURDIR)/.build/detect-secrets-venv

# The release binary: the one `make install` ships and the one `make bench` measures, built with
# these flags only. A `verify` is one process per request, so its start-up counts:
# - libsqlite3, libcrypto and libstdc++ come from their static archives, libgcc too. STATIC_LIBS
#   holds links to the .a files alone and is searched first, so the modulemaps' `link "sqlite3"`,
#   `link "crypto"` and the Swift runtime's -lstdc++ resolve to them. Linked dynamically, the
#   loader bound some 10,000 symbols at every start (libcrypto is BIND_NOW): 85 % of the
#   instructions of `ivkeys --version`. Now only libc and libm remain, about 180 symbols.
# - lld packs the ~35,000 relative relocations of a position-independent executable (DT_RELR,
#   glibc 2.36 or later); gold, the default, cannot.
# The debug build of `make build` and `make test` links the shared libraries as before.
STATIC_LIBS   = $(CURDIR)/.build/static-libs
RELEASE_FLAGS = -c release --static-swift-stdlib \
                -Xswiftc -use-ld=lld -Xswiftc -Xclang-linker -Xswiftc -static-libgcc \
                -Xlinker -L$(STATIC_LIBS) -Xlinker -z -Xlinker pack-relative-relocs
RELEASE_BIN   = "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/ivkeys"
# `ivkeys serve` executes this one, installed beside ivkeys: the HTTP server (SwiftNIO,
# Hummingbird) lives in its own binary so that `ivkeys verify` does not load it.
SERVE_BIN     = "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/ivkeys-serve"

.PHONY: all build release test lint format demo bench fuzz install clean deps-build deps-test deps-bench

all: build

define ensure_debs
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $$SUDO apt-get install -y -q $$missing; \
	fi
endef

deps-build:
	$(call ensure_debs,$(BUILD_DEPS))

deps-test:
	$(call ensure_debs,$(TEST_DEPS))

deps-bench:
	$(call ensure_debs,$(BENCH_DEPS))

build: deps-build
	$(SWIFT) build

release: deps-build
	@mkdir -p $(STATIC_LIBS)
	@for a in libsqlite3.a libcrypto.a libstdc++.a; do \
	  p=$$($(CLANG) -print-file-name=$$a); \
	  if [ ! -f "$$p" ]; then echo "release: $$a not found (from libsqlite3-dev, libssl-dev, libstdc++-dev)" >&2; exit 1; fi; \
	  ln -sf "$$p" $(STATIC_LIBS)/$$a; \
	done
	$(SWIFT) build $(RELEASE_FLAGS)
	@# Refuse a binary that linked a shared library it should hold itself.
	@for bin in $(RELEASE_BIN) $(SERVE_BIN); do \
	  extra=$$(readelf -d "$$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v -e '^libc\.so' -e '^libm\.so' -e '^ld-linux'); \
	  if [ -n "$$extra" ]; then echo "release: $$bin needs shared libraries it should hold: $$extra" >&2; exit 1; fi; \
	done

# The toolchain's swift-format, with the repository's .swift-format.
LINT_PATHS = Package.swift Sources Tests Fuzz

test: deps-test lint $(DS_VENV)/bin/detect-secrets
	@echo "mandoc -Tlint man/ivkeys.1"; out=$$(mandoc -Tlint man/ivkeys.1 2>&1); if [ -n "$$out" ]; then echo "$$out"; exit 1; fi
	$(SWIFT) build --build-tests
	@sh scripts/check-ecosystem.sh "$$($(SWIFT) build --show-bin-path)/ivkeys" $(DS_VENV)/bin/detect-secrets
	$(SWIFT) test --skip-build
	@echo "the end-to-end suite again, on a PostgreSQL vault (a test server in a temporary folder)"
	IVKEYS_TEST_ENGINE=postgresql $(SWIFT) test --skip-build --filter ivkeysTests \
	  --skip 'PostgresVaultTests|PostgresConcurrencyTests'

# python3-venv comes with deps-test, before this runs.
$(DS_VENV)/bin/detect-secrets:
	python3 -m venv $(DS_VENV)
	$(DS_VENV)/bin/pip install -q '$(DETECT_SECRETS)'

lint:
	$(SWIFT) format lint --strict --recursive $(LINT_PATHS)

# Rewrites the sources in the house format; 'make lint' then passes.
format:
	$(SWIFT) format format --in-place --recursive $(LINT_PATHS)

demo: build
	@sh scripts/demo.sh "$$($(SWIFT) build --show-bin-path)/ivkeys"

bench: release deps-bench
	@sh scripts/bench.sh $(RELEASE_BIN)

FUZZ_SECONDS ?= 60

fuzz: build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh scripts/fuzz.sh

install: release
	install -d $(BINDIR) $(MANDIR) $(BASHCOMPDIR) $(ZSHCOMPDIR) $(FISHCOMPDIR)
	install -m 0755 $(RELEASE_BIN) $(BINDIR)/ivkeys
	install -m 0755 $(SERVE_BIN) $(BINDIR)/ivkeys-serve
	install -m 0644 man/ivkeys.1 $(MANDIR)/ivkeys.1
	@# The completion scripts come from the command table of the binary just built.
	bin=$(RELEASE_BIN); \
	  "$$bin" completion bash > $(BASHCOMPDIR)/ivkeys && \
	  "$$bin" completion zsh > $(ZSHCOMPDIR)/_ivkeys && \
	  "$$bin" completion fish > $(FISHCOMPDIR)/ivkeys.fish && \
	  chmod 0644 $(BASHCOMPDIR)/ivkeys $(ZSHCOMPDIR)/_ivkeys $(FISHCOMPDIR)/ivkeys.fish

clean:
	rm -rf .build
