# One venv (.venv) and one node_modules for everything; both are (re)built only when their inputs change.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
export DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY := 1

.PHONY: test lint pytest demo bench install lock

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade 'pip>=24'
	$(PY) -m pip install -q -c constraints.txt -e '.[all,test]'
	touch $@

# The hash-locked files actions/setup installs from, compiled from pyproject.toml and constraints.txt by the
# pinned uv (installed from locks/uv.txt with hash checking). Run after editing either file.
lock: install
	$(PY) -m pip install -q --require-hashes --no-deps -r locks/uv.txt
	$(PY) locks/lock.py $(VENV)/bin/uv

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The tests start hundreds of mlgate and dvc processes: with PYTHONDONTWRITEBYTECODE set (some CI images set
# it), each would compile mlgate's editable source again.
pytest: install
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n 2 -q

test: lint pytest

demo: install
	$(VENV)/bin/mlgate demo "$$(mktemp -d)/mlgate-demo"

bench: install
	$(PY) benchmarks/run.py
