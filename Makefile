# mamori — two commands: `make demo` and `make test`. Both bootstrap a fresh machine.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export MAMORI_HOME ?= $(CURDIR)/var/demo

.PHONY: demo test lint bench stress setup system-packages messages clean

# Debian packages the tests and the demo use; installed only as root on Debian, only when missing.
SYSTEM_PACKAGES := restic borgbackup rclone chromium fonts-noto-cjk fonts-ipafont slapd ldap-utils \
	openssh-server postgresql poppler-utils poppler-data hyperfine time \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 gettext systemd nginx

setup: system-packages $(STAMP)

system-packages:
	@./scripts/system-packages.sh $(SYSTEM_PACKAGES)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev,remote,directory]'
	@touch $(STAMP)

demo: setup
	$(BIN)/mamori demo

test: setup
	./scripts/test.sh

lint: setup
	$(BIN)/ruff check src tests scripts $(wildcard bench)
	$(BIN)/ruff format --check src tests scripts $(wildcard bench)
	$(BIN)/mypy src/mamori/vault
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/run.py --set small --files 100000
	$(BIN)/python bench/run.py --scale 10000,100000,1000000 --rounds 1
	$(BIN)/python bench/remote_copy.py
	$(BIN)/python bench/devices_import.py
	$(BIN)/python bench/training_load.py
	$(BIN)/python bench/year_book.py

stress: setup
	$(BIN)/pytest -m stress -p no:cacheprovider --timeout 3600 tests

# Compile every app's translations (the .mo files are committed, so running mamori needs no gettext).
messages: setup
	cd src/mamori && for d in apps/*/locale; do (cd $$(dirname $$d) && ../../../../$(BIN)/django-admin compilemessages -l en); done

clean:
	rm -rf $(VENV) var
