# The README's commands. Each target sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SHARED ?= ../shared

.PHONY: demo test build build-release lint bench bench-counts rust-test py-test conformance clean wheel test-wheel \
	test-aarch64

$(VENV)/.dev: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(VENV)/.bench: $(VENV)/.dev requirements-bench.txt
	$(PY) -m pip install -q -r requirements-bench.txt
	touch $@

build: $(VENV)/.dev
	$(VENV)/bin/maturin develop -q

build-release: $(VENV)/.dev
	$(VENV)/bin/maturin develop -q --release

# The abi3 wheels and the sdist, in dist/: cp310-abi3 (CPython 3.10 and later; pip prefers it
# there) and cp39-abi3 (every CPython from 3.9; the stable ABI of 3.9 costs ~40 ns more per call).
wheel: $(VENV)/.dev
	rm -rf dist
	$(VENV)/bin/maturin build -q --release --sdist --out dist
	$(VENV)/bin/maturin build -q --release --no-default-features --features abi3-py39 --out dist

# The suite against the cp39-abi3 wheel (the one the development build does not cover) installed
# in a fresh virtual environment, not the development build.
test-wheel: wheel
	rm -rf .venv-wheel
	$(PYTHON) -m venv .venv-wheel
	.venv-wheel/bin/python -m pip install -q --upgrade pip
	.venv-wheel/bin/python -m pip install -q -r requirements-dev.txt dist/rulebus-*-cp39-abi3-*.whl
	.venv-wheel/bin/python -c "import rulebus; assert 'site-packages' in rulebus.__file__, rulebus.__file__"
	.venv-wheel/bin/python -m pytest -q -p no:cacheprovider tests

demo: build-release
	$(PY) -m rulebus.demo

rust-test:
	cargo test -q -p rulebus-core -p rulebus-messaging

# The Rust core's tests on aarch64, so that its NEON code runs on an x86-64 machine: cross-compiled
# and run under qemu-user (emulated, so correctness only: its timings mean nothing). Needs
# `rustup target add aarch64-unknown-linux-gnu` and Debian's qemu-user and gcc-aarch64-linux-gnu;
# without them it says what is missing and succeeds. Not part of `make test` (nor of CI).
AARCH64 := aarch64-unknown-linux-gnu
AARCH64_LINKER ?= aarch64-linux-gnu-gcc
AARCH64_SYSROOT ?= /usr/aarch64-linux-gnu
test-aarch64:
	@if ! ls "$$(rustc --print target-libdir --target $(AARCH64) 2>/dev/null)"/libstd-* >/dev/null 2>&1; then \
		echo "test-aarch64: skipped: the Rust target is missing (rustup target add $(AARCH64))"; \
	elif ! command -v qemu-aarch64 >/dev/null || ! command -v $(AARCH64_LINKER) >/dev/null \
		|| [ ! -d $(AARCH64_SYSROOT) ]; then \
		echo "test-aarch64: skipped: qemu-aarch64 or $(AARCH64_LINKER) is missing" \
			"(apt-get install qemu-user gcc-aarch64-linux-gnu)"; \
	else \
		CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$(AARCH64_LINKER) \
		CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $(AARCH64_SYSROOT)" \
		cargo test -q -p rulebus-core --target $(AARCH64); \
	fi

py-test: build-release
	$(PY) -m pytest -q tests

test: rust-test py-test lint

lint: $(VENV)/.dev
	cargo fmt --all --check
	cargo clippy -q --workspace --all-targets -- -D warnings
	$(VENV)/bin/ruff check python tests benches
	$(PY) -m mypy.stubtest rulebus --mypy-config-file pyproject.toml
	$(PY) -m mypy --strict python/rulebus

conformance: build-release
	$(PY) $(SHARED)/conformance/check.py

bench: build-release $(VENV)/.bench
	$(PY) -m pytest benches --benchmark-only --benchmark-columns=min,median,ops -q

# After changing the shipped workload's generator or rule sets (python/rulebus/bench/workload/):
# its counts recounted by the package's pure-Python reference matcher (a few minutes; the package
# must be importable: make build first).
bench-counts: $(VENV)/.dev
	$(PY) -m rulebus.bench.workload.expected

clean:
	rm -rf $(VENV) .venv-wheel target dist
