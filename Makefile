# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# Every local tool runs the local deployment (the settings default to cloud, failing closed).
export EREG_DEPLOYMENT := local
SUDO   := $(shell test "$$(id -u)" = 0 || echo sudo)
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# checkov must not reach the network: no policy download from its vendor's platform (--skip-download,
# BC_SKIP_MAPPING), no version check, and a proxy on a closed loopback port catches anything else.
CHECKOV_ENV   := BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE LOG_LEVEL=WARNING \
                 HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=

WEB_STAMP := web/node_modules/.installed

.PHONY: run test install lint typecheck infra-check bench-login bench-search bench-booking bench-sms bench-schedule bench-certificates bench-report-scan clean redis-server chromium

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

## Debian's redis-server (shared rate limits; started and stopped with the emulators).
redis-server:
	@command -v redis-server >/dev/null || { \
	  echo "Installing redis-server (apt-get)..."; \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y redis-server; } || { \
	    echo "error: could not install redis-server with apt-get. Install Redis 7 (Debian/Ubuntu: \
	apt-get install redis-server) so that redis-server is on PATH, then run make again."; exit 1; }; }

## Debian's Chromium, which the browser tests drive with Playwright (no browser download).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "Installing chromium (apt-get)..."; \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; } || { \
	    echo "error: could not install chromium with apt-get. Install Debian's chromium package so that \
	/usr/bin/chromium exists (or set EREG_CHROMIUM to a Chromium binary), then run make again."; exit 1; }; }

## The web apps' npm packages (chart.js served to the apps, axe-core for the accessibility tests), from the lock file.
$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm (Node.js 18+) is needed for the web apps' packages"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $(WEB_STAMP)

install: $(STAMP) redis-server $(WEB_STAMP) chromium

$(CHECKOV_STAMP): infra/requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r infra/requirements-checkov.txt
	@touch $(CHECKOV_STAMP)

## The whole local system with demo data; Ctrl-C stops everything it started.
run: $(STAMP) redis-server $(WEB_STAMP)
	$(PY) -m emulators run

## Lint, types, then every test (unit, integration on the emulators, end-to-end over HTTP).
test: $(STAMP) redis-server $(WEB_STAMP) chromium
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .
	$(MAKE) --no-print-directory infra-check
	$(PY) -m pytest

## Offline checks of infra/: terraform fmt and checkov (zero failed checks; skips only in code, with a reason).
infra-check: $(CHECKOV_STAMP)
	@command -v terraform >/dev/null || { echo "terraform is needed to check infra/ (terraform fmt)"; exit 1; }
	TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive infra
	$(CHECKOV_ENV) $(CHECKOV_VENV)/bin/checkov --directory infra --framework terraform --skip-download \
		--compact --quiet

lint: $(STAMP)
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy .

## Benchmarks (print their figures). POINTS=6000 for the national scale.
POINTS ?= 300
bench-login: $(STAMP) redis-server
	$(PY) -m bench.login
bench-search: $(STAMP) redis-server
	$(PY) -m bench.search --points $(POINTS)
bench-sms: $(STAMP) redis-server
	$(PY) -m bench.sms
bench-certificates: $(STAMP)
	$(PY) -m bench.certificates
bench-booking: $(STAMP) redis-server
	$(PY) -m bench.booking --points $(POINTS)
bench-schedule: $(STAMP)
	flock /tmp/ereg-load.lock $(PY) -m bench.schedule
bench-report-scan: $(STAMP)
	$(PY) -m bench.report_scan

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) web/node_modules .local .pytest_cache .mypy_cache .ruff_cache
