# Two commands: `make run` and `make test`. Everything else is a helper of those two.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Development mode: production (DEBUG off, own secrets required) is the default everywhere else.
export DEBUG ?= true
# The demo runs against the local X sandbox unless you point it elsewhere.
export X_API_BASE_URL ?= http://127.0.0.1:8001
export X_OAUTH_AUTHORIZE_URL ?= http://127.0.0.1:8001/i/oauth2/authorize

.PHONY: run test test-vocabularies venv migrate demo lint bench clean production

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(BIN)/python manage.py migrate --noinput

# The sandbox's demo brand account (xsandbox/scenarios/demo.json) is connected when the
# helpdesk talks to the local sandbox; against the real X, connect accounts in the web UI.
SANDBOX_DEMO := $(filter http://127.0.0.1:8001,$(X_API_BASE_URL))

demo: migrate
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py rebuild_dashboard
ifneq ($(SANDBOX_DEMO),)
	$(BIN)/python manage.py x_account add --user-id 1580000000000000001 --username AcmeSupport \
		--display-name "Acme Support" --access-token acme-demo-access-token
endif

run: demo
	$(BIN)/honcho -f Procfile start

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

# The X channel's tests again against the sandbox speaking spec 2.167 strictly, then both
# vocabularies as live X does (`make test` runs them against the strict 2.159 vocabulary).
test-vocabularies: venv
	for vocabulary in post both; do \
		XSANDBOX_VOCABULARY=$$vocabulary $(BIN)/pytest $(PYTEST_ARGS) twitter_channel || exit 1; \
	done

# Production web process: check --deploy, migrate, collectstatic, then gunicorn (bin/start-production).
# DEBUG is forced off here: the development default above is for `make run` and `make test`.
production: venv
	DEBUG=false bin/start-production

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: migrate
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .venv-3.* var db.sqlite3 staticfiles
