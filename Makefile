# pumpqi — one-command setup, demo and tests on a fresh machine.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
export UV_COMPILE_BYTECODE := 1
LINT_PATHS := $(wildcard analytics dashboards tests benchmarks)

.PHONY: setup demo test lint typecheck pytest browser-deps bench lock clean

# uv into ~/.local/bin; a Debian/Ubuntu system Python refuses --user installs (PEP 668) unless told
$(UV):
	python3 -m pip install --quiet --user "uv==$(UV_VERSION)" \
	  || python3 -m pip install --quiet --user --break-system-packages "uv==$(UV_VERSION)"

setup: $(UV)  ## create .venv with the exact locked dependencies
	$(UV) sync --frozen

browser-deps:  ## Debian's Chromium for the real-browser test (never a browser download)
	bash scripts/install-chromium.sh

demo: setup  ## synthetic data -> database -> dashboard on http://127.0.0.1:8501
	$(UV) run pumpqi demo

lint: setup
	$(UV) run ruff check $(LINT_PATHS)
	$(UV) run ruff format --check $(LINT_PATHS)

typecheck: setup
	$(UV) run mypy

pytest: setup browser-deps
	$(UV) run pytest

test: lint typecheck pytest  ## everything CI runs

bench: setup
	$(UV) run python benchmarks/run.py

lock: $(UV)  ## after changing pyproject.toml: pin the new versions in uv.lock
	$(UV) lock

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache test-output
