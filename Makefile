# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install lint typecheck bench-login bench-search bench-booking bench-sms bench-schedule clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

## The whole local system with demo data; Ctrl-C stops everything it started.
run: $(STAMP)
	$(PY) -m emulators run

## Lint, types, then every test (unit, integration on the emulators, end-to-end over HTTP).
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .
	@command -v terraform >/dev/null || { echo "terraform is needed to check infra/ (terraform fmt)"; exit 1; }
	TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive infra
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy .

## Benchmarks (print their figures). POINTS=6000 for the national scale.
POINTS ?= 300
bench-login: $(STAMP)
	$(PY) -m bench.login
bench-search: $(STAMP)
	$(PY) -m bench.search --points $(POINTS)
bench-sms: $(STAMP)
	$(PY) -m bench.sms
bench-booking: $(STAMP)
	$(PY) -m bench.booking --points $(POINTS)
bench-schedule: $(STAMP)
	flock /tmp/ereg-load.lock $(PY) -m bench.schedule

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache
