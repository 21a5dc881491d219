# The commands the README and CI use. Each target sets up what it needs on a fresh machine
# (Python 3.11+ and make): a virtual environment in .venv with requirements.txt installed.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# requests to the local server must never go through a proxy
export NO_PROXY := 127.0.0.1,localhost
export no_proxy := 127.0.0.1,localhost

# nbval settings, shared by `test` and `test-notebooks`
NBVAL := --nbval --nbval-current-env --nbval-cell-timeout=180 \
	--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:randomly

.PHONY: help install lab run site test test-unit test-notebooks test-slow test-browser lint format \
	record readme-table server stop clean

help:
	@echo "make lab          - open the notebooks in JupyterLab, with the local Batch API server"
	@echo "                    (in classroom or live mode: no local server)"
	@echo "make run          - execute every notebook in order, headless, and print a summary"
	@echo "make site         - the course site in site/: README, notebooks and guides as web pages"
	@echo "make test         - lint, the site, unit and server tests, and nbval over every notebook"
	@echo "make test-unit    - the unit and server tests alone"
	@echo "make test-notebooks - nbval alone: every notebook run and compared with its outputs"
	@echo "make test-slow    - the long reliability tests"
	@echo "make test-browser - the class page, notebooks 04 and 06 in JupyterLab, and the site,"
	@echo "                    in the system's Chromium"
	@echo "make lint         - ruff, mypy, and the notebook and README checks"
	@echo "make format       - ruff's formatting and fixes"
	@echo "make record       - re-run every notebook from a clean state and save its outputs"
	@echo "make readme-table - rewrite the README's table of notebooks"
	@echo "make server       - the local Batch API server in the foreground"
	@echo "make stop         - stop the local Batch API server"
	@echo "make clean        - stop it and delete its state (every local file and batch)"
	@echo "make install      - the virtual environment in .venv (every target does it first)"

# pip's errors still show; its warnings do not: installing this repository in editable mode
# (the "-e ." in requirements.txt) makes setuptools print a notice about editable installs
$(VENV)/.installed: requirements.txt pyproject.toml batch-api-local/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# -- the walkthrough ----------------------------------------------------------------------------

# Jupyter refuses to run as root (containers, CI machines) unless told it is deliberate
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

# scripts/lab.py starts the local server (none in classroom or live mode) and says where the
# notebooks' requests go. jupyter-config/ holds JupyterLab settings for this repository only
# (no news pop-up): it is added to the places Jupyter reads its configuration from
lab: install
	@$(PY) scripts/lab.py
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter-config$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		$(VENV)/bin/jupyter lab $(LAB_ARGS) notebooks/

run: install
	$(PY) scripts/run_notebooks.py

server: install
	$(VENV)/bin/batch-api-local serve

# the command says in a sentence whether it stopped a server or found none; finding none is not
# a failure of `make stop`
stop: install
	@$(VENV)/bin/batch-api-local stop || true

# the course site: the README, the notebooks with their saved outputs (never run) and docs/,
# as static pages in site/ (see mkdocs.yml). Offline, in seconds; a broken link fails it.
# (NO_MKDOCS_2_WARNING: the theme's notice about its successor, printed on every build)
site: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --quiet
	@echo "The course site is in site/: open site/index.html, or serve it with"
	@echo "  $(PY) -m http.server --directory site 8000   (then http://127.0.0.1:8000)"

# -- checks -------------------------------------------------------------------------------------

test: install lint site test-unit test-notebooks

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check helpers batch-api-local tests scripts benchmarks notebooks website
	$(VENV)/bin/mypy
	$(PY) scripts/readme_table.py --check
	$(PY) scripts/check_notebooks.py

test-unit: install
	$(VENV)/bin/pytest tests -m "not slow and not browser" -q

# notebooks run in order against a fresh local server of their own (state dir and port), so
# the saved outputs compare like for like and a learner's running server is left alone
test-notebooks: install
	$(PY) scripts/run_notebooks.py --nbval -- $(NBVAL)

test-slow: install
	$(VENV)/bin/pytest tests -m "slow and not browser" -q

# not part of `make test` (nor CI): it needs a Chromium installed on the machine, and skips
# with a message saying how to install one when there is none
test-browser: install
	$(VENV)/bin/pytest tests/browser -m browser -q

format: install
	$(VENV)/bin/ruff format helpers batch-api-local tests scripts benchmarks notebooks website
	$(VENV)/bin/ruff check --fix .

record: install
	$(PY) scripts/run_notebooks.py --record
	$(PY) scripts/readme_table.py --write

readme-table: install
	$(PY) scripts/readme_table.py --write

clean:
	@if [ -x $(PY) ]; then $(VENV)/bin/batch-api-local stop || true; fi
	rm -rf .local-batch-api
