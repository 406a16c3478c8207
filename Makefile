# Linli — the two commands: `make run` (install, prepare, load the demo, serve) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
THREADS ?= 4
VENDOR := linli/static/vendor
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run serve test install install-dev assets browser migrate demo lint lock clean worker

## Install everything, prepare the database, load the Jinniu demo (first time), serve with the worker.
run: install assets migrate
	@$(PY) manage.py load_demo --if-empty
	@$(PY) manage.py demo_logins
	@echo "Linli: http://127.0.0.1:$(PORT)/  (Ctrl-C stops the server and the worker)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(PY) manage.py db_worker --queue-name '*' --no-reload & \
	  $(PY) manage.py scheduler & \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT) --noreload

## Production-style: Granian (HTTP in Rust, Django over WSGI) with a process per core and THREADS
## threads each, no debug, against DATABASE_URL; plus the worker and the scheduler at a lower CPU
## priority (requests first; the worker catches up after a burst). Idle threads are kept 10 minutes
## (Granian's default, 30 s, drops them and their database connections between bursts).
serve: install assets
	@DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py migrate --noinput -v0
	@DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py collectstatic --noinput -v0
	@DJANGO_SETTINGS_MODULE=config.settings.production nice -n 19 $(PY) manage.py db_worker --queue-name '*' --no-reload & \
	  worker=$$!; \
	  DJANGO_SETTINGS_MODULE=config.settings.production nice -n 19 $(PY) manage.py scheduler & \
	  scheduler=$$!; \
	  trap 'kill $$worker $$scheduler 2>/dev/null' EXIT; \
	  DJANGO_SETTINGS_MODULE=config.settings.production $(VENV)/bin/granian --interface wsgi \
	    --host 127.0.0.1 --port $(PORT) --workers $(WORKERS) --blocking-threads $(THREADS) \
	    --blocking-threads-idle-timeout 600 --access-log --workers-kill-timeout 10 config.wsgi:application

## Install what the tests need (dev packages, assets, Chromium with a CJK font) and run them all.
test: install-dev assets browser
	$(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

$(VENV)/.base: requirements/base.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes -r requirements/base.txt
	@touch $@

$(VENV)/.dev: requirements/dev.txt $(VENV)/.base
	$(VENV)/bin/pip install -q --require-hashes -r requirements/dev.txt
	@touch $@

install: $(VENV)/.base
install-dev: $(VENV)/.dev

## Front-end libraries from the npm registry, copied into static files (nothing from a CDN at run time).
assets: $(VENDOR)/.installed
$(VENDOR)/.installed: frontend/package.json frontend/package-lock.json Makefile
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/leaflet
	cp -r frontend/node_modules/leaflet/dist/leaflet.js frontend/node_modules/leaflet/dist/leaflet.js.map \
	      frontend/node_modules/leaflet/dist/leaflet.css \
	      frontend/node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	mkdir -p $(VENDOR)/echarts && cp frontend/node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	@touch $@

## Debian's Chromium and a CJK font for the browser tests (skipped with a reason when not root).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi wenquanyi; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	      || echo "could not install chromium; browser tests will skip (or fail under CI)"; \
	  else echo "not root: install chromium and fonts-wqy-microhei yourself for the browser tests"; fi; \
	fi

migrate: install
	@$(PY) manage.py migrate --noinput -v0

## Reload the Jinniu demo from scratch.
demo: install migrate
	$(PY) manage.py load_demo --reset

worker: install
	$(PY) manage.py db_worker --queue-name '*'

lint: install-dev
	$(VENV)/bin/ruff check linli config bench tests
	$(VENV)/bin/ruff format --check linli config bench tests

## Re-lock Python packages after editing pyproject.toml.
lock:
	$(PYTHON) -m venv /tmp/linli-uv && /tmp/linli-uv/bin/pip install -q uv
	/tmp/linli-uv/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 --universal -q -o requirements/base.txt
	/tmp/linli-uv/bin/uv pip compile pyproject.toml --group dev --generate-hashes --python-version 3.11 --universal -q -o requirements/dev.txt

clean:
	rm -rf $(VENV) frontend/node_modules $(VENDOR) var/static
