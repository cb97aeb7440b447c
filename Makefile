# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.install-stamp
DEV_ENV := DEBUG=1
# The demo PKI (never for real documents): its PKCS#12 password, and its CA as the trust anchor.
DEMO_PKI_PASSWORD := demo-ky-so
# The demo's remote signing services (test services started by scripts/dev-server.sh).
DEMO_SERVICES := media/demo-signing-services.json
# The demo CA's time-stamping authority (same script): signatures are PAdES B-LTA.
RUN_ENV := $(DEV_ENV) SIGNING_TRUST_ANCHORS=media/demo-pki/demo-ca.pem SIGNING_SERVICES_FILE=$(DEMO_SERVICES) SIGNING_TSA_URL=http://127.0.0.1:8783/tsa

.PHONY: run test setup system-deps lint typecheck format messages serve serve-prod serve-cluster clean companion \
	demo-totp manage

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

system-deps:
	@scripts/system-deps.sh

setup: system-deps $(STAMP) messages

messages: $(STAMP)
	@$(DEV_ENV) $(PY) manage.py compilemessages --ignore=.venv -v 0

run: setup
	$(DEV_ENV) $(PY) manage.py migrate --no-input -v 0
	$(DEV_ENV) $(PY) manage.py seed_demo
	$(DEV_ENV) $(PY) manage.py demo_pki --password $(DEMO_PKI_PASSWORD)
	$(DEV_ENV) $(PY) manage.py demo_signing --password $(DEMO_PKI_PASSWORD)
	@echo "Demo certificates' password (and the demo token's PIN): $(DEMO_PKI_PASSWORD)"
	$(RUN_ENV) PY=$(PY) DEMO_SERVICES=$(DEMO_SERVICES) scripts/dev-server.sh

# The signing companion with the demo's USB token (a SoftHSM2 token holding the school seal of
# the lower secondary demo school): run it in a second terminal next to `make run`.
companion: setup
	$(DEV_ENV) $(PY) manage.py demo_signing --password $(DEMO_PKI_PASSWORD) -v 0
	SOFTHSM2_CONF=$(CURDIR)/media/demo-token/softhsm2.conf PYTHONPATH=signer-companion \
	  $(PY) -m sodiem_companion --site http://127.0.0.1:8000 --lib /usr/lib/softhsm/libsofthsm2.so \
	  --state-dir media/demo-companion

# The current two-factor code of a demo account (the banner of `make run` lists them):
# `make demo-totp ACCOUNT=hieutruong`.
demo-totp: $(STAMP)
	@test -n "$(ACCOUNT)" || { echo "Usage: make demo-totp ACCOUNT=USERNAME, for example ACCOUNT=hieutruong" >&2; exit 2; }
	@$(DEV_ENV) $(PY) manage.py demo_totp "$(ACCOUNT)"

# Any management command with the development settings: `make manage CMD="seed_demo --students 2000"`.
manage: $(STAMP)
	@test -n "$(CMD)" || { echo 'Usage: make manage CMD="COMMAND [ARGS]", for example CMD="demo_sign_all --password $(DEMO_PKI_PASSWORD)"' >&2; exit 2; }
	$(DEV_ENV) $(PY) manage.py $(CMD)

# The production stack on this machine: gunicorn, PostgreSQL, WhiteNoise, DEBUG off, Redis, RQ
# workers (docs/deployment.md).
serve-prod: setup
	PY=$(PY) scripts/serve-prod.sh

# Several application machines shown on this one: two instances (gunicorn + RQ workers, each
# its own working directory and media) behind HAProxy on PORT (8000), PgBouncer in front of
# PostgreSQL, Redis, and an S3 object store (moto on 127.0.0.1 unless OBJECT_STORAGE_* says
# otherwise); docs/scaling.md.
serve-cluster: setup
	PY=$(PY) scripts/serve-cluster.sh

# The suite runs on one process per core, at most 4 (pytest-xdist; each test file stays on one
# process, so its module fixtures are built once): `make test TEST_WORKERS=0` runs it in this
# process, `make test PYTEST_ARGS=tests/gradebook` a part of it.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ "$$n" -gt 4 ] && n=4; echo $$n)

test: setup
	$(DEV_ENV) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with django-stubs ([tool.mypy] in pyproject.toml); the plugin imports the settings.
typecheck: $(STAMP)
	$(DEV_ENV) $(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .demo-logins.txt media-prod
