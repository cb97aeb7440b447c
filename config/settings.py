"""The one settings module. Every value comes from an environment variable with a default that
makes `make run` work on a laptop (SQLite, DEBUG on via the Makefile). docs/deployment.md lists
every variable for production."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.checks import site_url_problem
from config.env import env_bool, env_choice, env_int, env_json_file, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY: str = env_str("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. For development set DEBUG=1 "
            "(make run does); in production set a long random SECRET_KEY."
        )
    SECRET_KEY = "dev-only-insecure-key-never-used-when-DEBUG-is-off-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A refused form (a stale or missing token) gets the product's page, not Django's English one.
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
# Printed into every signed transcript (its verification link): required with DEBUG off, and not
# this machine's address (config/checks.py; importing it also registers its deploy check).
_site_url_problem = site_url_problem(env_str("SITE_URL"), debug=DEBUG, allowed_hosts=ALLOWED_HOSTS)
if _site_url_problem:
    raise ImproperlyConfigured(_site_url_problem)
SITE_URL = (env_str("SITE_URL") or "http://127.0.0.1:8000").strip()

INSTALLED_APPS = [
    "accounts.admin_site.ProductAdminConfig",  # the admin behind the product login and MFA
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tables2",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "accounts",
    "schools",
    "gradebook",
    "transcripts",
    "department",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",  # the header on every page (config/csp.py)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.locale.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "schools.middleware.RequireMfaForSignersMiddleware",
]

if not DEBUG:  # in development runserver serves static files itself
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
# Several application machines behind one balancer: INSTANCE_NAME (e.g. "a") is sent back in
# an X-Instance header on every response, to see which machine answered (`make serve-cluster`).
INSTANCE_NAME = env_str("INSTANCE_NAME", "") or ""
if INSTANCE_NAME:
    MIDDLEWARE.insert(0, "config.instance.InstanceHeaderMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "schools.context_processors.memberships",
                "accounts.context_processors.notifications",
            ],
        },
    },
]

# Database: DATABASE_URL selects it; the embedded default is a SQLite file.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, and statements a connection runs five times prepared
    # (psycopg's threshold; Django turns it off by default): PostgreSQL then stops parsing and
    # planning the same statements on every request — more than half of its CPU per mark
    # save (bench/RESULTS.md). DATABASE_PREPARED_STATEMENTS=0 turns both off, for a pooler
    # that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
    # DATABASE_POOLER=pgbouncer: DATABASE_URL is a PgBouncer in transaction mode, where a
    # connection's next transaction may run on another server connection. What a server
    # connection keeps between transactions must go: server-side cursors (a cursor outlives its
    # transaction in Django's iterator()), and prepared statements unless the PgBouncer keeps
    # them itself (1.21+ with max_prepared_statements: then DATABASE_PREPARED_STATEMENTS=1).
    pooler = env_choice("DATABASE_POOLER", "", {"", "pgbouncer"})
    prepared = env_bool("DATABASE_PREPARED_STATEMENTS", not pooler)
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = bool(pooler)
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": prepared,
        "prepare_threshold": 5 if prepared else None,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the dev server and a task worker share the file safely.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [  # Django's and allauth's, reading a session's user faster
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: accounts are created by school admins; nobody signs up.
ACCOUNT_ADAPTER = "accounts.adapters.NoSignupAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PREVENT_ENUMERATION = True
# A school's teachers often reach the server from one public address (NAT): allauth's default
# of 30 logins a minute per address would turn them away on a peak morning. Failed logins stay
# limited: 10 a minute per address, whatever the accounts, and 5 in 5 minutes per account *from
# one address* (the "key" is the account and the address: accounts/adapters.py), so a guesser
# locks only their own address out, never the account's owner (docs/security.md).
ACCOUNT_RATE_LIMITS = {
    "login": env_str("LOGIN_RATE_LIMIT", "300/m/ip"),
    "login_failed": env_str("LOGIN_FAILED_RATE_LIMIT", "10/m/ip,5/5m/key"),
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "So diem & Hoc ba so")
# Roles that sign transcripts must have MFA (TOTP) before they can use the product.
MFA_REQUIRED_FOR_SIGNERS = env_bool("MFA_REQUIRED_FOR_SIGNERS", True)

# Internationalisation: Vietnamese first, English second.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
# Our own catalogue first (makemessages writes it); then our Vietnamese for third-party apps
# (allauth, django-tables2 ship none), which makemessages never rewrites.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_thirdparty"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Stored files (transcript PDFs and XML, prepared signing files, export packages, received
# transfer packages) go through the "default" storage (docs/deployment.md, "Object storage").
# Environment:
#   OBJECT_STORAGE_BUCKET             set → an S3-protocol object store (AWS S3, MinIO, Ceph, moto);
#                                     unset → the local file system under MEDIA_ROOT (embedded)
#   OBJECT_STORAGE_ENDPOINT_URL       e.g. http://127.0.0.1:9000 (empty: AWS's own endpoint)
#   OBJECT_STORAGE_REGION             default us-east-1
#   OBJECT_STORAGE_ACCESS_KEY_ID      } from the environment only, never in the repository;
#   OBJECT_STORAGE_SECRET_ACCESS_KEY  } unset → boto3's own chain (instance role, ~/.aws)
#   OBJECT_STORAGE_PREFIX             key prefix inside the bucket (default none)
#   OBJECT_STORAGE_ADDRESSING_STYLE   path (default with an endpoint) or virtual (default on AWS)
#   OBJECT_STORAGE_TIMEOUT            seconds to connect / per read (default 10)
#   OBJECT_STORAGE_ATTEMPTS           attempts per request before the store counts as down (3)
# Both backends are write-once (config/storage.py): a stored name is never overwritten.
OBJECT_STORAGE_BUCKET = env_str("OBJECT_STORAGE_BUCKET", "") or ""
OBJECT_STORAGE_ENDPOINT_URL = env_str("OBJECT_STORAGE_ENDPOINT_URL", "") or ""
if OBJECT_STORAGE_BUCKET:
    _OBJECT_STORAGE = {
        "BACKEND": "config.storage_s3.WriteOnceS3Storage",
        "OPTIONS": {
            "bucket_name": OBJECT_STORAGE_BUCKET,
            "endpoint_url": OBJECT_STORAGE_ENDPOINT_URL or None,
            "region_name": env_str("OBJECT_STORAGE_REGION", "") or "us-east-1",
            "access_key": env_str("OBJECT_STORAGE_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("OBJECT_STORAGE_SECRET_ACCESS_KEY", "") or None,
            "location": (env_str("OBJECT_STORAGE_PREFIX", "") or "").strip("/"),
            "addressing_style": env_choice(
                "OBJECT_STORAGE_ADDRESSING_STYLE",
                "path" if OBJECT_STORAGE_ENDPOINT_URL else "virtual",
                {"path", "virtual"},
            ),
            "timeout": env_int("OBJECT_STORAGE_TIMEOUT", 10, minimum=1),
            "attempts": env_int("OBJECT_STORAGE_ATTEMPTS", 3, minimum=1),
        },
    }
else:
    _OBJECT_STORAGE = {"BACKEND": "config.storage.WriteOnceFileSystemStorage"}
STORAGES = {
    "default": _OBJECT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "media/"

# The ledger's checkpoints (gradebook/checkpoints.py) are signed with an Ed25519 key kept in
# this file, outside the database: whoever can write the database but not read this file
# cannot rewrite the marks' history unnoticed. Created (mode 0600) on first use if missing.
# In production point it at a file the operators keep and back up, the same on every
# application machine. Keys used before a rotation: their public keys (PEM files) in
# LEDGER_CHECKPOINT_TRUSTED_KEYS, so older checkpoints still verify.
LEDGER_CHECKPOINT_KEY_FILE = Path(
    env_str("LEDGER_CHECKPOINT_KEY_FILE") or BASE_DIR / "var" / "ledger-checkpoint-key.pem"
)
LEDGER_CHECKPOINT_TRUSTED_KEYS = env_list("LEDGER_CHECKPOINT_TRUSTED_KEYS", [])

# Static files are compressed ahead (gzip and Brotli) by collectstatic: ~30 s on two cores.
# STATIC_PRECOMPRESS=0 skips it (hashed names only; WhiteNoise then serves them uncompressed),
# for a throw-away stack such as the cluster test's (scripts/serve-cluster.sh).
if not DEBUG and not env_bool("STATIC_PRECOMPRESS", True):
    STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    }

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "sodiem@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Notification mails are sent after the action commits, in its request: an SMTP relay that does
# not answer holds it this many seconds at most (accounts/notifications.py).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
# `manage.py notify_deadlines` (daily, cron) reminds teachers of their incomplete gradebooks this
# many days before a lock date (gradebook/notices.py).
NOTIFY_LOCK_DATE_DAYS = env_int("NOTIFY_LOCK_DATE_DAYS", 3, minimum=1)

# Signing: PEM files of the certification authorities whose certificates may sign transcripts.
# Empty refuses every signature. `manage.py demo_pki` writes MEDIA_ROOT/demo-pki/demo-ca.pem for
# the demo; production lists the real CA roots (comma-separated paths).
SIGNING_TRUST_ANCHORS = env_list("SIGNING_TRUST_ANCHORS", [])
# Long-term validation (docs/signing.md, "Time-stamps and long-term validation"). An RFC 3161
# time-stamping authority: every PDF signature, XML signature and package manifest gets a
# time-stamp. Its certificate's root must be in SIGNING_TRUST_ANCHORS too.
SIGNING_TSA_URL = env_str("SIGNING_TSA_URL", "")
# B-B / B-T / B-LT / B-LTA; empty: B-LTA with a time-stamping authority, B-B without one.
SIGNING_PADES_LEVEL = env_choice("SIGNING_PADES_LEVEL", "", {"", "B-B", "B-T", "B-LT", "B-LTA"})
if SIGNING_PADES_LEVEL not in ("", "B-B") and not SIGNING_TSA_URL:
    raise ImproperlyConfigured(f"SIGNING_PADES_LEVEL={SIGNING_PADES_LEVEL} needs SIGNING_TSA_URL")
# Revocation (OCSP / CRL) of the signer's certificate before a batch and at signing (B-LT):
# "require" (refuse when it cannot be checked), "if-available" (checked where the certificate
# names a responder that answers), "off".
SIGNING_REVOCATION = env_choice(
    "SIGNING_REVOCATION", "if-available", {"require", "if-available", "off"}
)
# Seconds per request to a time-stamping authority, an OCSP responder or a CRL server.
SIGNING_FETCH_TIMEOUT = env_int("SIGNING_FETCH_TIMEOUT", 10, minimum=1)
# Whether the public verification page may fetch OCSP responses and CRLs online (for the
# newest time-stamp and for signatures whose file carries no revocation data). Off: offline
# from what the file holds; packages (verify_package) are always checked offline.
SIGNING_VERIFY_ONLINE = env_bool("SIGNING_VERIFY_ONLINE", True)

# Background jobs (Django's Tasks API through the django-tasks backport). "db" (the embedded
# default) keeps the queue in the database and needs `manage.py db_worker` running (`make run`
# starts one); "rq" is the production path: Redis at REDIS_URL and `manage.py rqworker default`
# on as many worker machines as needed; "immediate" runs a job inside the request (debugging).
TASKS_BACKEND = env_choice("TASKS_BACKEND", "db", {"db", "rq", "immediate"})
TASKS = {
    "default": {
        "BACKEND": {
            "db": "django_tasks_db.DatabaseBackend",
            "rq": "django_tasks_rq.RQBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[TASKS_BACKEND],
        "QUEUES": ["default"],
    }
}
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

# Cache: single-use two-factor codes and rate limits live here, so several application
# processes must share it ("redis"); "locmem" (per process) is fine for one process.
CACHE_BACKEND = env_choice("CACHE_BACKEND", "locmem", {"locmem", "redis"})
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache",
         "LOCATION": env_str("CACHE_REDIS_URL", "redis://127.0.0.1:6379/1"),
         "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "sodiem")}
        if CACHE_BACKEND == "redis"
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}  # fmt: skip
if CACHE_BACKEND == "redis":  # a shared cache: sessions are read from it, written through
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
#: How long a signing authorisation (the certificate password / PIN handed to a batch job,
#: encrypted) stays usable before a worker picks the job up; it is wiped when picked up.
SIGNING_HANDOFF_SECONDS = env_int("SIGNING_HANDOFF_SECONDS", 900, minimum=30)
#: A running background job (confirm / sign / seal, package export or upload, package check)
#: whose worker has written no heartbeat for this long lost its worker (killed, machine gone):
#: its page, and `manage.py interrupt_stale_jobs` (cron), mark it interrupted, and it can be
#: resumed from its page. Workers beat at least once per transcript or chunk; keep this well
#: above the longest single step (one remote signing request, one upload chunk).
JOB_HEARTBEAT_STALE_SECONDS = env_int("JOB_HEARTBEAT_STALE_SECONDS", 300, minimum=30)
#: Remote signing services the signers may choose (docs/signing.md): a JSON file of
#: {name: {"adapter": "csc" | "confirm-v1", "label", "base_url", ...}}. Endpoints come only
#: from here, never from a user.
SIGNING_SERVICES = env_json_file("SIGNING_SERVICES_FILE")
#: PKCS#11 libraries that may be loaded into the server process for tokens or HSMs attached to
#: the server (comma-separated paths); a credential naming another library is refused.
SIGNING_PKCS11_LIBRARIES = env_list("SIGNING_PKCS11_LIBRARIES", [])
#: How long a batch waits for the signer's USB token (the signing companion on their own
#: computer) before it expires, leaving every transcript as it was.
SIGNING_COMPANION_SECONDS = env_int("SIGNING_COMPANION_SECONDS", 600, minimum=30)
#: Where the signing companion listens on the signer's computer (signer-companion/README.md).
SIGNING_COMPANION_URL = env_str("SIGNING_COMPANION_URL", "http://127.0.0.1:8790")
#: How long a waiting batch of a remote service may wait at most, whatever the service says.
SIGNING_REMOTE_MAX_SECONDS = env_int("SIGNING_REMOTE_MAX_SECONDS", 900, minimum=30)

# Uploads of transcript packages to the provincial Department of Education
# (docs/provincial-upload.md). A school's own address and token (its settings page) take
# precedence over these. The token is a bearer token issued by the Department.
PROVINCE_UPLOAD_URL = env_str("PROVINCE_UPLOAD_URL", "")
PROVINCE_UPLOAD_TOKEN = env_str("PROVINCE_UPLOAD_TOKEN", "")
# The Department's hosts that packages (and the bearer token) may be sent to: a school's address
# and PROVINCE_UPLOAD_URL must name one of them. Empty means no upload at all; in development
# the demo receiver on this machine (`manage.py province_receiver`) is allowed by default.
PROVINCE_UPLOAD_HOSTS = env_list(
    "PROVINCE_UPLOAD_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else []
)
PROVINCE_UPLOAD_TIMEOUT = env_int("PROVINCE_UPLOAD_TIMEOUT", 30, minimum=1)
PROVINCE_UPLOAD_ATTEMPTS = env_int("PROVINCE_UPLOAD_ATTEMPTS", 6, minimum=1)
PROVINCE_UPLOAD_BACKOFF = env_int("PROVINCE_UPLOAD_BACKOFF", 2, minimum=0)
PROVINCE_UPLOAD_CHUNK_BYTES = env_int("PROVINCE_UPLOAD_CHUNK_BYTES", 1024 * 1024, minimum=1024)
# The public verification page also checks uploaded packages up to this size.
VERIFY_PACKAGE_MAX_BYTES = env_int("VERIFY_PACKAGE_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
# What such a package may hold (docs/security.md, "Public package verification"), checked from
# the ZIP's central directory before anything is inflated, and again as bytes are inflated: the
# transcripts (the members follow: two per transcript, the schema files, the manifest and its
# signature), one member's size, all members' size, a member's and the whole ZIP's compression
# ratio (a genuine package's is about 3 and 1.1), the manifest's size and elements, one
# transcript XML's elements.
VERIFY_PACKAGE_MAX_TRANSCRIPTS = env_int("VERIFY_PACKAGE_MAX_TRANSCRIPTS", 1000, minimum=1)
VERIFY_PACKAGE_MAX_MEMBER_BYTES = env_int(
    "VERIFY_PACKAGE_MAX_MEMBER_BYTES", 8 * 1024 * 1024, minimum=1024
)
VERIFY_PACKAGE_MAX_UNPACKED_BYTES = env_int(
    "VERIFY_PACKAGE_MAX_UNPACKED_BYTES", 128 * 1024 * 1024, minimum=1024
)
VERIFY_PACKAGE_MAX_RATIO = env_int("VERIFY_PACKAGE_MAX_RATIO", 20, minimum=1)
VERIFY_PACKAGE_MAX_OVERALL_RATIO = env_int("VERIFY_PACKAGE_MAX_OVERALL_RATIO", 5, minimum=1)
VERIFY_PACKAGE_MANIFEST_MAX_BYTES = env_int(
    "VERIFY_PACKAGE_MANIFEST_MAX_BYTES", 2 * 1024 * 1024, minimum=1024
)
VERIFY_PACKAGE_MANIFEST_MAX_ELEMENTS = env_int(
    "VERIFY_PACKAGE_MANIFEST_MAX_ELEMENTS", 20_000, minimum=100
)
VERIFY_PACKAGE_XML_MAX_ELEMENTS = env_int("VERIFY_PACKAGE_XML_MAX_ELEMENTS", 5000, minimum=100)
# A package of more than this many transcripts has their signatures checked by a background job
# (the page shows the cheap checks at once, then the job's progress and result).
VERIFY_PACKAGE_INLINE_TRANSCRIPTS = env_int("VERIFY_PACKAGE_INLINE_TRANSCRIPTS", 10, minimum=0)
# Seconds the transcripts' signatures may take, on the page or in the job, before the check
# stops (and says how far it got); how long a job's result (and its stored upload, deleted when
# the job ends) is kept; how many jobs may wait or run at once, in all and per client address.
VERIFY_PACKAGE_JOB_SECONDS = env_int("VERIFY_PACKAGE_JOB_SECONDS", 300, minimum=0)
VERIFY_PACKAGE_RESULT_SECONDS = env_int("VERIFY_PACKAGE_RESULT_SECONDS", 3600, minimum=60)
VERIFY_PACKAGE_MAX_ACTIVE_JOBS = env_int("VERIFY_PACKAGE_MAX_ACTIVE_JOBS", 4, minimum=1)
VERIFY_PACKAGE_MAX_ACTIVE_PER_ADDRESS = env_int(
    "VERIFY_PACKAGE_MAX_ACTIVE_PER_ADDRESS", 1, minimum=1
)

# Roster import limits.
ROSTER_IMPORT_MAX_BYTES = env_int("ROSTER_IMPORT_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
ROSTER_IMPORT_MAX_ROWS = env_int("ROSTER_IMPORT_MAX_ROWS", 5000, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = ROSTER_IMPORT_MAX_BYTES + 1024 * 1024

# Security: on by default outside DEBUG; a TLS-terminating proxy must set X-Forwarded-Proto.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the grid's JavaScript reads the token from the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every rendering step at INFO; only its warnings are worth reading.
    # pyHanko logs a warning with a traceback for every certificate it cannot validate, which
    # our verification already reports as the signature's status (transcripts/verification.py).
    "loggers": {
        "weasyprint.progress": {"level": "WARNING"},
        "pyhanko.sign.validation.generic_cms": {"level": "ERROR"},
    },
}
