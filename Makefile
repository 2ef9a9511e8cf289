# Two commands matter: `make run` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test bench messages clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ").")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): install your system's venv package (Debian/Ubuntu: apt-get install python3-venv)."; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/contest migrate
	$(BIN)/contest demo
	$(BIN)/contest serve

test: install
	$(BIN)/python -m pytest -q -n auto $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(if $(QUICK),--quick) $(BENCH_ARGS)

messages: install
	$(BIN)/pybabel extract -F babel.cfg -o contest/locale/messages.pot --no-location --omit-header -k N_ -k translate:2 -k gettext:2 .
	$(BIN)/pybabel update -i contest/locale/messages.pot -d contest/locale -l en --no-fuzzy-matching

clean:
	rm -rf $(VENV) var .pytest_cache
