# Two commands do all set-up on a fresh machine:
#   make app    installs everything and runs the dashboard on the bundled examples
#   make test   installs everything and runs the whole test suite
# torch is installed first and pinned (TORCH=...) so that no other package pulls a
# multi-GB CUDA build; override it for your platform, e.g. make test TORCH="torch==2.9.1".

VENV ?= .venv
PYTHON ?= python3
TORCH ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.explain-installed

.PHONY: install app test browser lint wheel clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

app: install
	$(VENV)/bin/streamlit run app.py --browser.gatherUsageStats false

browser:
	@scripts/ensure-chromium.sh

test: install browser
	$(PY) -m pytest

wheel: install
	$(PY) -m pip wheel . --no-deps -w dist

lint: install
	$(VENV)/bin/ruff check explain tests bench models

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts build dist
