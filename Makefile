# All set-up happens here: `make demo` and `make test` create .venv and
# install the project into it when it is missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint generate check-generated bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

generate: $(STAMP)
	$(PY) -m tlsspec generate specs -o generated

check-generated: $(STAMP)
	$(PY) -m tlsspec generate --check specs -o generated

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy codegen runtime tlsspec

test: $(STAMP) check-generated lint
	$(PY) -m pytest -q

demo: generate check-generated
	PYTHONPATH=. $(PY) scripts/demo_decode.py
	PYTHONPATH=. $(PY) scripts/demo.py

bench: $(STAMP)
	PYTHONPATH=. $(PY) -m benchmarks.codec_bench

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .hypothesis
