# TalentLoop: `make run` and `make test` are the whole set-up; everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export TALENTLOOP_HOME ?= $(abspath .talentloop)
export DAGSTER_HOME ?= $(TALENTLOOP_HOME)/dagster
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
SIZE ?= 10000

.PHONY: run test test-fast dashboard dagster bench bench-stats lint lock docs browser-deps clean

# uv installs the lock in about a minute where pip takes eight; pip stays as the fallback.
UV_VERSION := 0.13.8

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) 2>/dev/null \
		&& $(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock \
		|| $(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## run: create the environment, generate the demo world if nothing is landed, run the whole pipeline
run: $(STAMP)
	$(BIN)/talentloop run

## test: create the environment and run every test tier but the benchmarks
test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

## browser-deps: Debian's chromium (Playwright's own download cannot work offline) and a CJK font for zh-CN pages
BROWSER_PACKAGES := chromium fonts-noto-cjk
browser-deps:
	@missing=""; for p in $(BROWSER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		SUDO=$$([ "$$(id -u)" = "0" ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

dashboard: $(STAMP)
	$(BIN)/streamlit run dashboards/streamlit_app.py --server.headless true

dagster: $(STAMP)
	$(BIN)/talentloop prepare
	$(BIN)/dagster dev -m orchestration.definitions

bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks.run --size $(SIZE) $(BENCH_ARGS)

## bench-stats: the weight recommendation and the fairness rules judged over many simulated worlds (SEEDS per size)
SEEDS ?= 100
bench-stats: $(STAMP)
	$(BIN)/python -m tests.benchmarks.stats.run --seeds $(SEEDS) $(BENCH_ARGS)
	$(BIN)/python -m tests.benchmarks.stats.fairness_sim --seeds $$(( $(SEEDS) * 4 )) --gate-seeds $$(( $(SEEDS) * 2 ))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && ../$(BIN)/sqlfluff lint models

docs: $(STAMP)
	cd dbt_project && ../$(BIN)/dbt docs generate --profiles-dir .

## lock: re-resolve requirements.lock from pyproject.toml (needs the registry)
lock: $(STAMP)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .talentloop dbt_project/target dbt_project/logs
