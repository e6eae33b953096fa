# Two commands: `make run` and `make test`. Everything else is a helper of those two.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The demo runs against the local X sandbox unless you point it elsewhere.
export X_API_BASE_URL ?= http://127.0.0.1:8001
export X_OAUTH_AUTHORIZE_URL ?= http://127.0.0.1:8001/i/oauth2/authorize

.PHONY: run test venv migrate demo lint bench clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	$(BIN)/honcho -f Procfile start

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .

bench: migrate
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var db.sqlite3
