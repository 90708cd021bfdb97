# ivkeys: build, test, demo, bench and install.
#
#   make demo     build and walk through the main job in a throwaway vault
#   make test     unit and end-to-end tests, and the man page lint
#   make bench    the performance targets of SPEC.md, measured
#   make fuzz     libFuzzer on the key, IP/CIDR, date/duration and argument parsers and the scanner
#                 (FUZZ_SECONDS each, default 60)
#   make install  release binary (static Swift runtime), man page and bash, zsh and fish
#                 completions under $(DESTDIR)$(PREFIX)

SWIFT    ?= swift
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR    = $(DESTDIR)$(PREFIX)/bin
MANDIR    = $(DESTDIR)$(PREFIX)/share/man/man1
# Where each shell looks for completions a package installs.
BASHCOMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

# Debian packages each target needs; missing ones are installed with apt-get.
BUILD_DEPS = libsqlite3-dev libssl-dev
TEST_DEPS  = $(BUILD_DEPS) mandoc sqlite3 git bash zsh fish
BENCH_DEPS = $(BUILD_DEPS) time hyperfine

.PHONY: all build release test demo bench fuzz install clean deps-build deps-test deps-bench

all: build

define ensure_debs
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
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
	$(SWIFT) build -c release --static-swift-stdlib

test: deps-test
	@echo "mandoc -Tlint man/ivkeys.1"; out=$$(mandoc -Tlint man/ivkeys.1 2>&1); if [ -n "$$out" ]; then echo "$$out"; exit 1; fi
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: build
	@sh scripts/demo.sh "$$($(SWIFT) build --show-bin-path)/ivkeys"

bench: release deps-bench
	@sh scripts/bench.sh "$$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path)/ivkeys"

FUZZ_SECONDS ?= 60

fuzz: build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh scripts/fuzz.sh

install: release
	install -d $(BINDIR) $(MANDIR) $(BASHCOMPDIR) $(ZSHCOMPDIR) $(FISHCOMPDIR)
	install -m 0755 "$$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path)/ivkeys" $(BINDIR)/ivkeys
	install -m 0644 man/ivkeys.1 $(MANDIR)/ivkeys.1
	@# The completion scripts come from the command table of the binary just built.
	bin="$$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path)/ivkeys"; \
	  "$$bin" completion bash > $(BASHCOMPDIR)/ivkeys && \
	  "$$bin" completion zsh > $(ZSHCOMPDIR)/_ivkeys && \
	  "$$bin" completion fish > $(FISHCOMPDIR)/ivkeys.fish && \
	  chmod 0644 $(BASHCOMPDIR)/ivkeys $(ZSHCOMPDIR)/_ivkeys $(FISHCOMPDIR)/ivkeys.fish

clean:
	rm -rf .build
