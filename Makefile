# Everything a fresh clone needs: `make run` opens the UI on the baseline market at
# http://127.0.0.1:8765, `make test` passes the suite.
# Both build .venv/ in the repo first (make install), so nothing has to be installed by hand.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-sweep lint format bench bench-sweep ui-bench clean

install: $(STAMP)

$(STAMP): pyproject.toml tests/reference/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools prints a box about editable installs in general; nothing in it applies here
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e ".[ui,sweep,calibrate,dev]" -e tests/reference
	$(BIN)/python -m sim.warmup
	@touch $(STAMP)
	@echo "installed: $(BIN)/cxsim"

run: install
	$(BIN)/cxsim ui baseline

ui-bench: install
	$(BIN)/python -m sim.ui.bench 1000 10000
	$(BIN)/python experiments/benchmarks/ui_play_speed.py --customers 1000 10000

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test-sweep: install
	$(BIN)/python -m pytest tests/test_sweep_spec.py tests/test_sweep_analysis.py tests/test_sweep_run.py tests/test_sweep_cli.py tests/test_sweep_faults.py tests/test_batch_run.py -q

bench-sweep: install
	$(BIN)/python experiments/benchmarks/sweep_throughput.py

bench: install
	$(BIN)/python experiments/benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
