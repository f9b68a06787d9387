# 借呗额度助手 — every set-up step is a dependency, so `make chat` and `make test` work
# on a fresh machine with Python 3.10 and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
MODEL   := models/jiebei.tar.gz
STAMP   := $(VENV)/.installed
# Python 3.10: from PATH, else pyenv's 3.10.13 (see .python-version).
PYTHON  ?= $(shell command -v python3.10 2>/dev/null || ls "$$(pyenv root 2>/dev/null)"/versions/3.10.*/bin/python3.10 2>/dev/null | tail -1)

ACTION_PORT ?= 5055
WEB_DEPS    := web/node_modules/.package-lock.json
RASA_PORT   ?= 5005
# Everything listens on loopback unless told otherwise: RASA_INTERFACE=0.0.0.0 exposes the bot
# (and ACTION_SERVER_HOST the action server) on purpose.
RASA_INTERFACE ?= 127.0.0.1
# The action server answers only this secret's holder (actions/server.py); Rasa sends it
# (endpoints.yml). Made once, mode 0600, in var/action_secret; set it to use your own.
ACTION_SERVER_SECRET ?= $(shell mkdir -p var && umask 077 && { test -s var/action_secret || od -An -N24 -tx1 /dev/urandom | tr -d ' \n' > var/action_secret; } && cat var/action_secret)
export ACTION_SERVER_SECRET
export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

MODEL_INPUTS := config.yml domain.yml $(shell find data lexicon components advisor/normalize.py advisor/typos.yml -type f \( -name '*.yml' -o -name '*.py' -o -name '*.txt' \) 2>/dev/null)

.PHONY: FORCE help install train chat run lint test test-unit test-integration test-nlu test-core validate bench clean web web-deps web-build browser-deps test-browser eval review review-accept

# Every target with a "## what it does" comment; tests/unit/test_makefile.py checks that none is missing.
help: ## this list
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)$$/\1\t\2/' | \
	  awk -F'\t' '{ printf "  make %-17s %s\n", $$1, $$2 }'

$(STAMP): requirements.txt constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.10 is required (python3.10 on PATH, or pyenv install 3.10.13)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

install: $(STAMP) ## the virtualenv with every pinned package (.venv/)

# Rasa's own cache retrains only the parts whose inputs changed; the text normaliser's
# fingerprint includes the jieba dictionary, so a dictionary edit retrains too.
$(MODEL): $(STAMP) $(MODEL_INPUTS)
	$(BIN)/rasa train --out models --fixed-model-name jiebei
	touch $@

train: $(MODEL) ## train models/jiebei.tar.gz (only what changed)

# endpoints.yml with the action server on $(ACTION_PORT), so the ports can be moved.
var/endpoints.yml: endpoints.yml FORCE
	@mkdir -p var
	@sed 's#localhost:5055#localhost:$(ACTION_PORT)#' endpoints.yml > $@

# The bot behind the input guard (channels/shell.py; started through runtime/rasa_run.py like
# every Rasa server here, no API, so no token) and the terminal (channels/terminal.py): buttons
# as numbered options, what is typed is read as typed; /stop, Ctrl-C, Ctrl-D or closing the
# terminal stops everything.
chat: $(MODEL) var/endpoints.yml ## set up, train if needed, talk to the bot in the terminal
	@$(BIN)/python -m devtools.with_servers --actions $(ACTION_PORT) --rasa $(RASA_PORT) --model $(MODEL) \
	  --interface $(RASA_INTERFACE) --endpoints var/endpoints.yml -- $(BIN)/python -m channels.terminal --url http://127.0.0.1:$(RASA_PORT)

# REST channel and the HTTP API for other tools. The API is never opened without a token:
# set RASA_TOKEN, or a random one is generated and printed (only then). The token reaches Rasa
# through the environment (runtime/rasa_run.py), never its arguments, which `ps` shows to all.
run: $(MODEL) var/endpoints.yml ## the bot's REST channel and HTTP API (token required) with the action server
	@if [ -z "$${RASA_TOKEN:-}" ]; then RASA_TOKEN="$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(24))')"; \
	  echo "HTTP API token (generated; set RASA_TOKEN to choose one): $$RASA_TOKEN"; fi; \
	RASA_TOKEN="$$RASA_TOKEN" $(BIN)/python -m devtools.with_servers --actions $(ACTION_PORT) -- $(BIN)/python -m runtime.rasa_run \
	  --model $(MODEL) --port $(RASA_PORT) --interface $(RASA_INTERFACE) \
	  --enable-api --cors "http://localhost:$(RASA_PORT)" --endpoints var/endpoints.yml

validate: $(STAMP) ## rasa data validate --fail-on-warnings
	$(BIN)/rasa data validate --fail-on-warnings

# ruff (lint and format) on everything, mypy strict on advisor/ (pyproject.toml).
lint: $(STAMP) ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Plain Python: no model, npm, network or server.
test-unit: $(STAMP) ## the unit tests (tests/unit, under a minute, nothing trained)
	$(BIN)/python -m pytest -q tests/unit

# Components, channels, end-to-end over a running bot, quality and dev tools.
test-integration: $(MODEL) $(WEB_DEPS) ## every other pytest suite (needs the model and npm)
	$(BIN)/python -m pytest -q tests --ignore=tests/unit

# One evaluation run (the same as `make eval`) serves the thresholds and the report check.
test-nlu: $(MODEL) ## NLU test sets against their targets (reports/eval/)
	$(BIN)/python -m quality.evaluate --model $(MODEL) --out reports/eval
	$(BIN)/python -m quality.check --metrics reports/eval/metrics.json
	$(BIN)/python -m pytest -q -m eval tests/quality/test_eval_report.py

test-core: $(MODEL) ## the test stories (rasa test core)
	$(BIN)/rasa test core --stories tests/test_stories.yml --model $(MODEL) --out results/core --fail-on-prediction-errors

test: lint validate test-unit test-integration test-nlu test-core test-browser test-scale ## set up, train if needed, run every test (what CI runs)

bench: $(MODEL) ## where a turn's time goes: latency, turns/s, CPU per component, memory
	$(BIN)/python -m devtools.bench

clean: ## remove models, results, var/ and caches
	rm -rf models results .rasa .pytest_cache tests/output var
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

# --- web widget (web/: rasa-webchat over socket.io, channels/webchat.py) ----------------
WEB_PORT     ?= 8000
WEB_BOT_URL  := http://localhost:$(RASA_PORT)

# rasa-webchat exactly as web/package-lock.json pins it (npm ci); again when the lock changes.
$(WEB_DEPS): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js) is required for the web widget"; exit 1; }
	cd web && npm ci --no-audit --no-fund
	touch $@

web-deps: $(WEB_DEPS) ## rasa-webchat from npm (web/node_modules)

# web/vendor/rasa-webchat.js (without its Google-Fonts import) and web/advice-labels.json
# (from knowledge/advice.yml); web/config.js only if missing.
web-build: $(STAMP) $(WEB_DEPS) ## the widget's bundle and labels (web/vendor, web/advice-labels.json)
	$(BIN)/python -m devtools.build_web

# The page on http://localhost:$(WEB_PORT)/, the bot's socket.io on $(WEB_BOT_URL) (CORS for the
# page's origin only) and the action server; Ctrl-C stops all three.
web: $(MODEL) web-build var/endpoints.yml ## the web widget on http://localhost:8000/ with the bot and the action server
	$(BIN)/python -m devtools.build_web --socket-url "$(WEB_BOT_URL)"
	@echo "借呗额度助手: open http://localhost:$(WEB_PORT)/ once the bot has loaded (Ctrl-C stops everything)"
	WEBCHAT_ALLOWED_ORIGINS="http://localhost:$(WEB_PORT)" \
	  $(BIN)/python -m devtools.with_servers --actions $(ACTION_PORT) --web $(WEB_PORT) --bot-url "$(WEB_BOT_URL)" -- \
	  $(BIN)/rasa run --model $(MODEL) --port $(RASA_PORT) --interface $(RASA_INTERFACE) \
	  --cors "http://localhost:$(WEB_PORT)" --endpoints var/endpoints.yml

# Debian's Chromium, CJK and emoji fonts for the browser test (Playwright cannot download a browser here).
BROWSER_PACKAGES := chromium fonts-noto-cjk fonts-noto-color-emoji
browser-deps: ## Debian's Chromium and CJK fonts for the browser tests
	@if [ ! -x /usr/bin/chromium ] || ! dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1; then \
	  sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$sudo apt-get update && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(BROWSER_PACKAGES); \
	fi

# The widget in a real Chromium against a running bot; screenshots in tests/output/browser/.
test-browser: $(MODEL) web-build browser-deps ## the widget in a real Chromium at desktop and phone size
	$(BIN)/python -m pytest -q -m browser tests/browser

FORCE:

# --- at scale: PostgreSQL + Redis + action servers + 2 Rasa replicas + nginx (README, "Deploying at scale") ---
.PHONY: scale-deps scale scale-down scale-status test-scale load
SCALE_PORT ?= 8080

# Debian's postgresql, redis-server and nginx, only if missing (their system services are not started).
scale-deps: $(STAMP) ## Debian's PostgreSQL, Redis and nginx for make scale
	$(BIN)/python -m deploy.local_cluster.cluster deps

# Everything on 127.0.0.1, state, logs and pid files in var/scale/; nginx on $(SCALE_PORT), which
# also serves the web widget at http://127.0.0.1:$(SCALE_PORT)/ (same origin as the bot).
# The HTTP API token is RASA_TOKEN, or a generated one is printed.
scale: $(MODEL) scale-deps web-build ## two replicas on PostgreSQL and Redis behind nginx on :8080
	SCALE_PORT=$(SCALE_PORT) $(BIN)/python -m deploy.local_cluster.cluster up

# Stops exactly the processes `make scale` started (var/scale/*.pid) and its PostgreSQL.
scale-down: ## stop what make scale started
	$(BIN)/python -m deploy.local_cluster.cluster down

scale-status: ## what make scale is running
	$(BIN)/python -m deploy.local_cluster.cluster status

# The scale tests start (and install, if needed) their own cluster on free ports.
test-scale: $(MODEL) web-build ## the cluster tests (starts its own cluster)
	$(BIN)/python -m pytest -q -m scale tests/scale

# Turns/s and p50/p95 through nginx with 1 and 2 replicas at 20 and 50 users (~3 minutes; up to
# ~10 when other work on the machine makes it measure again).
load: $(MODEL) scale-deps ## turns/s and p50/p95 through nginx with 1 and 2 replicas
	$(BIN)/python -m devtools.load

# --- quality and conversation review (issue 8) ----------------------------------------------
# The homophone table lives in advisor/typos.yml (already an input); the real-users jieba
# words in lexicon/jieba/ are found by MODEL_INPUTS' find.

# The blocked cross-validation (new users, whole ATEC blocks held out, beside the plain baseline),
# then the test sets as regression checks, the baselines and the test stories, in reports/eval/
# (summary.md first); trains only when the model is missing or out of date. About 20 minutes.
eval: $(MODEL) ## the evaluation report in reports/eval/ (summary.md first; blocked cross-validation included)
	$(BIN)/python -m quality.evaluate --model $(MODEL) --out reports/eval --blocked

# Messages from real conversations (the tracker store in $(REVIEW_ENDPOINTS)) that fell to fallback,
# had low confidence or were corrected → review/candidates.yml; label them, then review-accept.
# A cluster's PostgreSQL: REVIEW_ENDPOINTS=endpoints.scale.yml with its DB_* variables set.
REVIEW_ENDPOINTS ?= endpoints.yml
review: $(STAMP) ## doubtful messages from real conversations → review/candidates.yml
	$(BIN)/python -m quality.review --endpoints $(REVIEW_ENDPOINTS) --out review/candidates.yml

# The labelled candidates → data/nlu/reviewed.yml (labels checked against the domain, no
# duplicates, no test messages); `make train` then learns them.
review-accept: $(STAMP) ## labelled candidates → data/nlu/reviewed.yml
	$(BIN)/python -m quality.review_accept --candidates review/candidates.yml --out data/nlu/reviewed.yml
