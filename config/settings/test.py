"""`make test`: fast hashing, tasks run at once, nothing leaves the process."""

import atexit
import os
import shutil
import tempfile

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303 - tests only
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = tempfile.mkdtemp(prefix="linli-test-media-")
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)  # one per test process: gone with it
FIELD_ENCRYPTION_KEYS = ["dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC0="]
AXES_ENABLED = os.environ.get("LINLI_TEST_AXES", "1") == "1"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LINLI_SMS_BACKEND = "linli.core.accounts.sms.OutboxSmsBackend"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "process": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "linli-process"},
}
# The SSRF guard (linli.core.webhooks.outbound) refuses loopback; the suite's own receivers listen on
# 127.0.0.1, so it is listed here explicitly (tests that check the refusal clear the list).
LINLI_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]

# SQLite tests use a file, not memory: the browser tests' live server answers several requests at
# once (the dashboard fetches its figures in parallel), and an in-memory database would make those
# threads share one connection, which can deadlock. Each xdist worker gets its own file.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"linli-test-{os.getpid()}.sqlite3")
    }
LINLI_GEOGRAPHY_CHECK_SECONDS = 0  # every lookup reads the shared version, as tests change geography often

# Static files as in development: found where they are, no collected copy needed (a fresh clone has
# none, and WhiteNoise would warn on every test that builds the middleware).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
LINLI_APPEALS_INTAKE_YIELD = 0  # the intake batch never waits for a surge to pass in tests
# Tests change the active triage version inside a transaction other connections do not see: each process
# switches at once (a test of the background switch turns it on).
LINLI_TRIAGE_SWITCH_IN_BACKGROUND = False
