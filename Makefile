# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench sim docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# As root on Linux with iproute2: a live failover on a namespace lab. Elsewhere the same failover, simulated.
demo: $(STAMP)
	@why=""; \
	if [ "$$(uname -s)" != Linux ]; then why="not Linux"; \
	elif [ "$$(id -u)" != 0 ]; then why="not root"; \
	elif ! command -v ip >/dev/null 2>&1; then why="no ip command (iproute2)"; fi; \
	if [ -z "$$why" ]; then exec $(BIN)/python -m halang.lab.demo; fi; \
	echo "$$why: showing the failover with halang simulate instead of a live lab"; \
	set -x; \
	$(BIN)/halang verify examples/two_node_replace.ha && \
	$(BIN)/halang simulate examples/two_node_replace.ha --fail node:alpha

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

# The whole-cluster simulator: SEEDS schedules from FIRST, at most TIME seconds; SEED=N replays (and shrinks) one.
SEEDS ?= 1000
FIRST ?= 0
TIME ?= 0
sim: $(STAMP)
	$(BIN)/python -m tests.sim.run $(if $(SEED),--seed $(SEED) --write-cases tests/sim/cases,--seeds $(SEEDS) --first $(FIRST) --time $(TIME))

bench: $(STAMP)
	$(BIN)/python bench/run.py

docs: $(STAMP)
	$(BIN)/python -m halang.docs

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
