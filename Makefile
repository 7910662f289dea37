# Rufbus: `make run` and `make test` do all set-up on a fresh machine.
PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
INITDB   ?= /usr/lib/postgresql/15/bin/initdb
HOST     ?= 127.0.0.1
PORT     ?= 8000
# apt-get needs root; use sudo when we are not
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint format bench screenshots clean translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# The browser tests drive Debian's Chromium (never a downloaded browser).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# The store's PostgreSQL tests start a throwaway server of Debian's postgresql.
$(INITDB):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql

# The pages' translations: German msgids in the code, English in web/translations/en/.../messages.po.
# `make translations` extracts every message (babel.cfg), adds new ones to the .po (fill in their
# msgstr) and compiles it. The .mo is never committed: `run` and `test` compile it when stale, and
# the app compiles it at start too (web.translations.compiled_directory), so a fresh clone works.
PO := web/translations/en/LC_MESSAGES/messages.po
MO := $(PO:.po=.mo)

$(MO): $(PO) $(STAMP)
	$(BIN)/pybabel -q compile -d web/translations -D messages

translations: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ --add-location=file --sort-by-file --no-wrap -o web/translations/messages.pot .
	$(BIN)/pybabel -q update -i web/translations/messages.pot -d web/translations -D messages --width 100 --ignore-obsolete
	$(BIN)/pybabel -q compile -d web/translations -D messages
	rm web/translations/messages.pot

run: $(STAMP) $(MO)
	$(BIN)/rufbus graph info
	$(BIN)/rufbus demo
	@echo "Open http://$(HOST):$(PORT)/ (dispatcher: http://$(HOST):$(PORT)/dispatch/)"
	$(BIN)/rufbus serve --host $(HOST) --port $(PORT)

# mypy checks planner/ and routing/ ([tool.mypy] in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint $(MO) $(CHROMIUM) $(INITDB)
	$(BIN)/pytest -q

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_matrix.py
	$(BIN)/python benchmarks/bench_booking.py

# Re-make the README's screenshots from the end-to-end run.
screenshots: $(STAMP) $(CHROMIUM)
	RUFBUS_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q tests/e2e

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
