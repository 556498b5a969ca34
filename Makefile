# Rufbus — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint lock web bench-routing bench-search bench-basemap bench-meeting-points bench-reports bench-curbside bench-darp bench-realtime bench-saturated bench-simulate bench-online bench-manual-control bench-modes bench-disturbed bench-twin bench-quote-drift bench-fair-use bench-live load load-soak load-curve \
	faults fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs come from the lock files (exact versions, checked against their hashes), then the project itself
# without resolving anything more; they run again only when a lock file or the project definition changes.
# requirements-test.lock holds everything in requirements.lock (same versions) and the `test` extra.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements-test.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed

# Regenerate both lock files from pyproject.toml after changing a dependency there. Versions already locked are
# kept where they still fit; `make lock LOCK_FLAGS=--upgrade` moves everything to the newest allowed release.
LOCK_FLAGS ?=
LOCK := $(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_FLAGS)
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv>=0.5,<1'
	$(LOCK) -o requirements.lock
	$(LOCK) --extra test -o requirements-test.lock

run: $(VENV)/.installed
	$(BIN)/rufbus graph info
	$(BIN)/rufbus serve

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 --dist loadfile

# ruff (rules in pyproject.toml) and mypy (its [tool.mypy] section names the packages it checks).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy

bench-routing: $(VENV)/.installed
	$(BIN)/python bench/routing.py --json bench/out/routing.json

# The riders' place search (issue 19): index build cold and warm, 2,000 typed queries (p50/p99 ms).
bench-search: $(VENV)/.installed
	$(BIN)/python bench/search.py --json

# The basemap's vector tiles (issue 19): read the extract, make every tile of zooms 8-16 over the area.
bench-basemap: $(VENV)/.installed
	$(BIN)/python bench/basemap.py --json

bench-meeting-points: $(VENV)/.installed
	$(BIN)/python bench/meeting_points.py --json

# The county's reports for a month of 20,000 bookings seeded into SQLite (through the app).
bench-reports: $(VENV)/.installed
	$(BIN)/python bench/reports.py

# Curbside points: the graph with long edges cut (40/60/80 m) against the uncut one; riders' walks, query times.
bench-curbside: $(VENV)/.installed
	$(BIN)/python bench/curbside.py --limits 0,80,60,40 --json bench/out/curbside.json

bench-darp: $(VENV)/.installed
	$(BIN)/python bench/darp.py --instances ../shared/benchmarks/darp/cordeau2006-a --time-limit 30 --out bench/out/darp --json bench/out/darp.json

bench-realtime: $(VENV)/.installed
	$(BIN)/python bench/realtime.py --buses 20 --requests 2000 --seed 1 --json bench/out/realtime.json

# The load test's quote stream in process: quote and booking latency as the plan fills up.
bench-saturated: $(VENV)/.installed-test
	$(BIN)/python bench/saturated.py --quotes 12000 --block 2000 --seed 1 --json bench/out/saturated.json

bench-simulate: $(VENV)/.installed
	$(BIN)/python bench/simulate.py --buses 10 --requests 2000 --seed 1 --json bench/out/simulate.json

# Online against hindsight (issue 15): seeds 1-3 (758 requests) and the shared example day x 6, 8, 10 buses.
# Manual control: latency of an operator's move of a booking on a full day's plan.
bench-manual-control: $(VENV)/.installed
	$(BIN)/python bench/manual_control.py --buses 10 --requests 600 --moves 300 --seed 1 --json bench/out/manual_control.json

bench-online: $(VENV)/.installed
	$(BIN)/python bench/online.py --json bench/out/online.json

# Meeting modes (issue 17): seeds 1-3 (758 requests) x 8, 10 buses x door to door, hybrid 300 m, stops only.
bench-modes: $(VENV)/.installed
	$(BIN)/python bench/modes.py --json bench/out/modes.json

# Promises on a disturbed street (issue 16): seeds 1-3, travel-time and dwell noise σ 0, 0.1, 0.2, a midday breakdown.
bench-disturbed: $(VENV)/.installed
	$(BIN)/python bench/disturbed.py --seeds 1,2,3 --buses 10 --noise 0,0.1,0.2 --json bench/out/disturbed.json

bench-twin: $(VENV)/.installed
	$(BIN)/python bench/twin.py --json bench/out/twin.json

# Does a quote take longer as offers pile up in one service? p50/p99 per block of 300 quotes, in process.
bench-quote-drift: $(VENV)/.installed
	$(BIN)/python bench/quote_drift.py --blocks 8 --per-block 300 --json bench/out/quote_drift.json

# Fair use under load (issue 19): 200 users with and without one client asking 50 quotes/s, in ABBA blocks.
bench-fair-use: $(VENV)/.installed-test
	$(BIN)/python bench/fair_use.py --blocks 2 --duration 60 --json bench/out/fair_use.json

# Two workers behind Redis and PostgreSQL (DATABASE_URL, REDIS_URL as .ci/run sets them).
bench-live: $(VENV)/.installed-test
	$(BIN)/python bench/live.py --quotes 300 --lease 5 --json bench/out/live.json

# Load tests (loadtests/): 200 users for 60 s with the audit; the p95 curve; faults under load; schemathesis.
load: $(VENV)/.installed-test
	$(BIN)/python -m loadtests.run --users 200 --spawn-rate 40 --duration 60 --json bench/out/load.json

# 200 users for 10 minutes: the buses fill up for two days and most quotes are refused.
load-soak: $(VENV)/.installed-test
	$(BIN)/python -m loadtests.run --users 200 --spawn-rate 40 --duration 600 --json bench/out/load-soak.json

load-curve: $(VENV)/.installed-test
	$(BIN)/python -m loadtests.curve --users 25,50,100,200,400 --duration 60 --json bench/out/load-curve.json

faults: $(VENV)/.installed-test
	$(BIN)/python -m loadtests.faults --scenario kill --users 50 --duration 60
	$(BIN)/python -m loadtests.faults --scenario kill-leader --workers 2 --users 50 --duration 60
	$(BIN)/python -m loadtests.faults --scenario redis-restart --workers 2 --users 50 --duration 60

# Positive and negative requests, on SQLite and (with DATABASE_URL=postgresql+psycopg://…) on PostgreSQL.
FUZZ_DATABASES ?= $(if $(DATABASE_URL),sqlite$(COMMA)postgresql,sqlite)
COMMA := ,
fuzz: $(VENV)/.installed-test
	$(BIN)/python -m loadtests.fuzz --max-examples 200 --databases $(FUZZ_DATABASES) --modes positive,negative \
		--json bench/out/fuzz.json

# Rebuild the web apps' bundle (api/static/web, committed) from web/; needs Node 20 and npm.
web:
	cd web && npm ci && npm run build

clean:
	rm -rf $(VENV) .cache .pytest_cache
