# Two entry points for a fresh machine (see README):
#   make serve   install, index the corpus if needed, serve the chat page on http://127.0.0.1:8000
#   make test    install with the test extras (CPU torch, Chromium) and run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: serve test install install-test eval-gate benchmark

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

serve: install
	$(BIN)/assistant serve

# torch is pinned to the CPU build that ships on this machine class; a bare `torch`
# requirement would pull a multi-GB CUDA build.
# axe-core (the accessibility checks of the browser tests) comes from npm into tests/node/node_modules.
# The shared-state tests start a real PostgreSQL and Redis (tests/servers.py): Debian's postgresql
# (binaries in /usr/lib/postgresql/<version>/bin, found there) and redis-server, installed when absent.
install-test: $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,st,llm,slack,teams]'
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q chromium chromium-driver; }
	@command -v npm >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q npm; }
	npm ci --prefix tests/node --no-audit --no-fund --silent
	@command -v redis-server >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q redis-server; }
	@command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
		|| { apt-get update -q && apt-get install -y -q postgresql; }

test: install-test
	$(BIN)/python -m pytest -q

# Evaluate the dev set and fail below the thresholds in evals/thresholds.toml.
eval-gate: install
	$(BIN)/assistant ingest
	$(BIN)/assistant eval --questions evals/dev_questions.jsonl --out evals/runs/dev --gate evals/thresholds.toml
	$(BIN)/assistant eval --questions evals/questions/own_questions.jsonl --out evals/runs/own --gate evals/thresholds.toml
	$(BIN)/assistant eval --questions tests/data/guard_questions.jsonl --out evals/runs/guard --gate evals/thresholds.toml
	$(BIN)/assistant eval --questions evals/questions/guard_blind.jsonl --out evals/runs/blind --gate evals/thresholds.toml
	$(BIN)/assistant eval --questions evals/questions/guard_blind2.jsonl --out evals/runs/blind2 --gate evals/thresholds.toml
	$(BIN)/assistant eval --questions evals/questions/scope_boundary.jsonl --out evals/runs/boundary --gate evals/thresholds.toml
	$(BIN)/assistant eval --questions evals/questions/answer_dev.jsonl --out evals/runs/answer_dev --gate evals/thresholds.toml
	ASSISTANT_CORPUS_DIR=evals/corpora/multisource ASSISTANT_INDEX_DIR=index/multisource $(BIN)/assistant ingest
	ASSISTANT_CORPUS_DIR=evals/corpora/multisource ASSISTANT_INDEX_DIR=index/multisource \
		$(BIN)/assistant eval --questions evals/questions/multisource_dev.jsonl --out evals/runs/multisource_dev \
		--gate evals/thresholds.toml

benchmark: install-test
	$(BIN)/python benchmarks/pipeline.py
