# The two commands a fresh machine needs: `make run` and `make test`. Both create .venv/ on first use.
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test venv eval bench

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: venv
	$(PY) -m bot start

test: venv
	$(PY) -m pytest -q

eval: venv
	$(PY) -m bot eval ../shared/eval/dev_questions.json

bench: venv
	$(PY) -m benchmarks.run
