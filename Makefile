# The two set-up commands of the README: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export TRIAGE_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

$(BIN)/triage-bot: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

.PHONY: install run test gates bench
install: $(BIN)/triage-bot

run: install
	$(BIN)/triage-bot serve

test: install
	$(BIN)/pytest -n 2 --cov --cov-report=term
	$(BIN)/coverage report --include='bot/core/*' --fail-under=95

gates: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy && $(BIN)/lint-imports

bench: install
	$(BIN)/python -m bench
