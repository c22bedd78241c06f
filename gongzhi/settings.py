"""Settings come from the environment; defaults run an embedded demo under ./var."""

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from gongzhi.core.private_files import create_private_file

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("GONGZHI_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _secret_from_file(name: str, length: int = 48) -> str:
    """A secret kept in var/ so a demo survives restarts; production sets it in the environment."""
    import secrets

    path = VAR_DIR / name
    if not path.exists():
        create_private_file(path, secrets.token_urlsafe(length).encode())  # 0600 from the start
    return path.read_text().strip()


DEBUG = _env_bool("GONGZHI_DEBUG", False)
SECRET_KEY = os.environ.get("GONGZHI_SECRET_KEY") or _secret_from_file("secret.key")
# Key for personal data (ID and phone numbers); losing it makes them unreadable.
PII_KEY = os.environ.get("GONGZHI_PII_KEY") or _secret_from_file("pii.key")
ALLOWED_HOSTS = os.environ.get("GONGZHI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("GONGZHI_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "gongzhi.core",
    "gongzhi.org",
    "gongzhi.accounts",
    "gongzhi.notifications",
    "gongzhi.registry",
    "gongzhi.points",
    "gongzhi.cases",
    "gongzhi.analytics",
    "gongzhi.publications",
    "gongzhi.web",
    "gongzhi.resident",
    "gongzhi.worker",
    "gongzhi.command",
    "gongzhi.api",
    "gongzhi.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ from STATIC_ROOT (collected by `gongzhi serve`), each file as .br or .gz when accepted.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cache-Control: no-store on API answers, signed-in pages and form answers (not on static files, above).
    "gongzhi.web.caching.NoStoreMiddleware",
    # Compresses HTML and JSON (text only: photos are compressed already). Static files come from WhiteNoise
    # above it, pre-compressed; whatever changes a response body must come below it.
    "gongzhi.web.compression.GZipMiddleware",
    "gongzhi.web.csp.CSPMiddleware",  # django-csp's, with the header built once
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gongzhi.accounts.sessions.StaffIdleTimeoutMiddleware",  # inside SessionMiddleware, which saves what it sets
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # NotFound / Forbidden from services → the portal's 404 / 403 page.
    "gongzhi.web.errors.DomainErrorMiddleware",
]

ROOT_URLCONF = "gongzhi.urls"
WSGI_APPLICATION = "gongzhi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gongzhi.web.context_processors.preferences",
                "gongzhi.web.context_processors.portal",
                "gongzhi.web.context_processors.badges",
            ],
        },
    }
]


def database_from_url(url: str) -> dict:
    """postgres://user:pass@host:port/name → Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL must be postgres://…, got {parsed.scheme!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        # A write waiting longer than this for a row lock fails and the request answers 503, as on SQLite.
        # No JIT: a list query over a million cases is estimated costly enough to be compiled, which took
        # 100 of its 220 ms (bench/lists.py); our queries are short, and JIT pays only on long scans.
        "OPTIONS": {"options": f"-c lock_timeout={int(os.environ.get('GONGZHI_LOCK_TIMEOUT_MS', 5000))} -c jit=off"},
    }


def sqlite_database(path: str, *, busy_timeout_ms: int = 5000, synchronous: str = "NORMAL") -> dict:
    """The embedded database's DATABASES entry (see gongzhi.core.sqlite for the backend)."""
    if synchronous not in {"NORMAL", "FULL"}:
        raise ValueError(f"GONGZHI_SQLITE_SYNCHRONOUS must be NORMAL or FULL, got {synchronous!r}")
    return {
        "ENGINE": "gongzhi.core.sqlite",
        "NAME": path,
        # Kept open across requests: opening one costs more than a small request. The backend's health check
        # reopens it when the file at NAME was replaced.
        "CONN_MAX_AGE": None,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # Once per connection. WAL lets readers run while one writer commits. NORMAL syncs to disk at
            # checkpoints, not at every commit: a crash of the program loses nothing, a power cut may lose
            # the last commits (never corrupting the file); FULL syncs every commit (measured in issue 10:
            # about a quarter fewer submissions per second). A writer waits up to busy_timeout for the
            # lock, then the request answers 503. 8 MB of page cache.
            "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; "
                            f"PRAGMA busy_timeout={int(busy_timeout_ms)}; PRAGMA cache_size=-8000;",
            # Every atomic block takes the write lock when it starts, so two writers never deadlock upgrading a
            # read to a write; services do their reads and checks before it.
            "transaction_mode": "IMMEDIATE",
        },
    }


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {"default": sqlite_database(
        os.environ.get("GONGZHI_SQLITE_PATH", str(VAR_DIR / "gongzhi.sqlite3")),
        busy_timeout_ms=int(os.environ.get("GONGZHI_SQLITE_BUSY_TIMEOUT_MS", 5000)),
        synchronous=os.environ.get("GONGZHI_SQLITE_SYNCHRONOUS", "NORMAL").upper())}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["gongzhi.accounts.backends.StaffPasswordBackend"]
SESSION_ENGINE = "gongzhi.accounts.sessions"
LOGIN_URL = "/command/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]  # shared CSS/JS and vendored libraries
# Collected (`gongzhi serve` and `gongzhi demo` run collectstatic when the sources changed): every file also
# under a content-hashed name, cached for a year, with .gz and .br copies WhiteNoise or nginx send as they are.
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at every start when it is missing (no collectstatic yet)
WHITENOISE_USE_FINDERS = DEBUG  # in production only the collected, compressed files
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Uploads are private: /media/<name> is answered by gongzhi.web.files after a permission check. Behind nginx
# set this to its `internal` location (e.g. "/_protected_media/", docs/deploy.md) and nginx sends the file
# (X-Accel-Redirect); empty, the application streams it itself.
MEDIA_ACCEL_REDIRECT = os.environ.get("GONGZHI_MEDIA_ACCEL_REDIRECT", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("GONGZHI_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A form refused by the CSRF check gets the portal's own 403 page, in Chinese, not Django's English one.
CSRF_FAILURE_VIEW = "gongzhi.web.errors.csrf_failure"
# HTTPS behind nginx (docs/deploy.md §2). With secure cookies on, plain http is redirected to https and
# browsers are told to use only https from then on (HSTS); nginx's X-Forwarded-Proto says whether a request
# came over https (nginx sets it on every request, so a client's own never gets through). /healthz stays on
# plain http, for load balancers probing 127.0.0.1.
if SESSION_COOKIE_SECURE:
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("GONGZHI_HSTS_SECONDS", 365 * 24 * 3600))
# A staff session ends after this long without a request; residents keep Django's two weeks
# (gongzhi.accounts.sessions.StaffIdleTimeoutMiddleware).
STAFF_IDLE_MINUTES = int(os.environ.get("GONGZHI_STAFF_IDLE_MINUTES", 30))
# Error reports (an error mail to ADMINS, Django's 500 report) show no submitted values and no local variables
# outside DEBUG: they hold login codes, ID numbers and what residents wrote.
DEFAULT_EXCEPTION_REPORTER_FILTER = "gongzhi.web.errors.PrivateReporterFilter"
X_FRAME_OPTIONS = "SAMEORIGIN"  # WeChat mini-program web-view embeds us from its own origin
# The report map's basemap (static/js/map-picker.js): a Leaflet tile URL template such as 天地图's or
# "https://tile.openstreetmap.org/{z}/{x}/{y}.png", and the attribution its licence asks for. Empty (the demo,
# offline machines): the map shows the grid boundaries only.
MAP_TILE_URL = os.environ.get("GONGZHI_MAP_TILE_URL", "")
MAP_ATTRIBUTION = os.environ.get("GONGZHI_MAP_ATTRIBUTION", "")
# What `{s}` in the template stands for, one character a server ("1234" for 高德's webrd01–04).
MAP_TILE_SUBDOMAINS = os.environ.get("GONGZHI_MAP_TILE_SUBDOMAINS", "abc")
# The coordinate system the tiles are drawn in: "wgs84" (天地图, OpenStreetMap) or "gcj02" (高德, 腾讯). Data stays
# WGS84; on GCJ-02 tiles the command map shifts what it draws to GCJ-02 (static/js/gcj02.js).
MAP_TILE_CRS = os.environ.get("GONGZHI_MAP_TILE_CRS", "wgs84")
if MAP_TILE_CRS not in {"wgs84", "gcj02"}:
    raise ImproperlyConfigured("GONGZHI_MAP_TILE_CRS must be wgs84 or gcj02")

# img-src already allows any https: tile host; a plain-http one (an intranet tile server) is added by name.
_MAP_TILE_ORIGIN = (["{0.scheme}://{0.netloc}".format(urlparse(MAP_TILE_URL.replace("{s}", "*")))]
                    if MAP_TILE_URL.startswith("http://") else [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", "https:", *_MAP_TILE_ORIGIN],
        "style-src": ["'self'", "'unsafe-inline'"],
        "script-src": ["'self'"],
    }
}

HUEY = {
    "huey_class": "huey.SqliteHuey",
    "name": "gongzhi",
    "filename": str(VAR_DIR / "huey.sqlite3"),
    "immediate": _env_bool("GONGZHI_HUEY_IMMEDIATE", False),
    "consumer": {"workers": 2, "worker_type": "thread"},
}
# The task worker writes a heartbeat this often; /healthz calls the worker stale after WORKER_STALE_SECONDS.
WORKER_HEARTBEAT_SECONDS = 15
WORKER_STALE_SECONDS = 60
# A write refused as busy (503) touches this file; /healthz says degraded for WRITES_REFUSED_WINDOW_SECONDS after.
WRITES_REFUSED_FILE = VAR_DIR / "writes-refused"
WRITES_REFUSED_WINDOW_SECONDS = 60
if os.environ.get("REDIS_URL"):
    HUEY = {"huey_class": "huey.RedisHuey", "name": "gongzhi", "url": os.environ["REDIS_URL"],
            "immediate": False, "consumer": {"workers": 4, "worker_type": "thread"}}
if HUEY["huey_class"] == "huey.SqliteHuey":
    create_private_file(str(HUEY["filename"]))  # 0600 before SQLite creates it (and its -wal and -shm alike)

# Outgoing SMS: the console backend logs the code and keeps it for the development page.
SMS_BACKEND = os.environ.get("GONGZHI_SMS_BACKEND", "gongzhi.accounts.sms.ConsoleSmsBackend")
SMS_CODE_TTL_SECONDS = 300
SMS_CODE_RESEND_SECONDS = 60
SMS_CODE_MAX_ATTEMPTS = 5
SMS_CODE_DAILY_LIMIT = 10
# Outgoing notification channels; the in-app inbox is always on and is not a channel. WeChat has only a
# development backend here: add "wechat": "gongzhi.notifications.channels.WeChatChannel" with a real backend.
NOTIFICATION_CHANNELS = {"sms": "gongzhi.notifications.channels.SmsChannel"}
# Turns a notification's target into the page it opens in the recipient's own portal, for copies sent
# outside the site (WeChat). The web layer owns URLs; the notifications app only stores "case 12".
NOTIFICATION_TARGET_URL = "gongzhi.web.targets.url_for_recipient"
WECHAT_BACKEND = os.environ.get("GONGZHI_WECHAT_BACKEND", "gongzhi.notifications.wechat.ConsoleWeChatBackend")
# Development-only page listing recently sent codes; never on in production.
SHOW_DEV_SMS_PAGE = _env_bool("GONGZHI_DEV_SMS_PAGE", DEBUG)

# Office hours on workdays, local time: working-hour time limits count only these.
OFFICE_HOURS = (os.environ.get("GONGZHI_OFFICE_OPENS", "08:30"), os.environ.get("GONGZHI_OFFICE_CLOSES", "17:30"))

# Reports carry up to 9 photos and one voice note from a phone.
UPLOAD_PHOTO_MAX_BYTES = 15 * 1024 * 1024
# Decoded pixels, read from the header before decoding. Phones save at most 50 MP (larger sensors bin down
# unless the user picks a special mode), and 50 MP decodes to 150 MB (200 MB with alpha); Pillow's own
# bomb limit (89 MP, refused only above 179 MP) let a 260 KB PNG cost 0.8 GB.
UPLOAD_PHOTO_MAX_PIXELS = int(os.environ.get("GONGZHI_UPLOAD_PHOTO_MAX_PIXELS", 50_000_000))
# Photos decoded at once per process; more wait their turn. Each can hold up to ~2 full-size copies, so
# this times ~400 MB is the worst a process spends on photos. A gunicorn sync worker decodes one anyway.
UPLOAD_PHOTO_CONCURRENT_DECODES = int(os.environ.get("GONGZHI_UPLOAD_PHOTO_CONCURRENT_DECODES", 2))
UPLOAD_VOICE_MAX_BYTES = 5 * 1024 * 1024
UPLOAD_VOICE_MAX_SECONDS = 120
UPLOAD_VOICE_MIN_SECONDS = 1.0
# Documents on a handling step (整改通知书, 现场检查记录 …) and 调解协议书: PDF only, so nothing runs when opened.
UPLOAD_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
# Registry import workbooks (一标三实): 250,000 people take about 14 MB (nginx allows this on the import URLs).
REGISTRY_IMPORT_MAX_BYTES = 40 * 1024 * 1024

# Residents' personal data leaves a case this many days after it was closed (cases.services.anonymise,
# nightly); the case and its statistics stay. Three years by default: long enough for complaints about the
# handling, appeals and yearly assessments to look back at who was involved.
CASE_PERSONAL_DATA_RETENTION_DAYS = int(os.environ.get("GONGZHI_CASE_RETENTION_DAYS", 3 * 365))
if CASE_PERSONAL_DATA_RETENTION_DAYS < 1:
    raise ValueError(f"GONGZHI_CASE_RETENTION_DAYS must be at least 1, got {CASE_PERSONAL_DATA_RETENTION_DAYS}")
# The rating window (评价期): residents may rate a closed case for this many days after it was closed; then
# the sweep archives it (归档), as it archives a rated case at once. 7 days: the time most 12345-style hotlines
# give for a return rating, and long enough for a resident who is told by text message.
CASE_RATING_WINDOW_DAYS = _env_int("GONGZHI_CASE_RATING_WINDOW_DAYS", 7)
# 延期: a handling limit may be extended to at most this many working days after the current one (a request
# for more is refused); a longer matter is for 挂账 or escalation, not for an extension.
CASE_EXTENSION_MAX_WORKING_DAYS = _env_int("GONGZHI_CASE_EXTENSION_MAX_WORKING_DAYS", 30)
# …and granted at most this many times on one case: a matter that keeps running late is escalated or put
# on 挂账, where the level above sees it, instead of being extended without end.
CASE_EXTENSIONS_MAX = _env_int("GONGZHI_CASE_EXTENSIONS_MAX", 2)
if CASE_RATING_WINDOW_DAYS < 1:
    raise ValueError(f"GONGZHI_CASE_RATING_WINDOW_DAYS must be at least 1, got {CASE_RATING_WINDOW_DAYS}")
if CASE_EXTENSIONS_MAX < 1:
    raise ValueError(f"GONGZHI_CASE_EXTENSIONS_MAX must be at least 1, got {CASE_EXTENSIONS_MAX}")
if CASE_EXTENSION_MAX_WORKING_DAYS < 1:
    raise ValueError("GONGZHI_CASE_EXTENSION_MAX_WORKING_DAYS must be at least 1, "
                     f"got {CASE_EXTENSION_MAX_WORKING_DAYS}")


# The KPI rollups (analytics.rollups) read log rows this old or older: on PostgreSQL a row's id is drawn
# before its transaction commits, so the newest ids may still have older ones to wait for.
ROLLUP_SETTLE_SECONDS = _env_int("GONGZHI_ROLLUP_SETTLE_SECONDS", 30)

# Abuse limits (gongzhi.core.throttle), counted per client address as `core.clients.client_address` sees
# it: behind nginx set GONGZHI_TRUSTED_PROXY_COUNT=1, or every client shares nginx's address.
TRUSTED_PROXY_COUNT = _env_int("GONGZHI_TRUSTED_PROXY_COUNT", 0)
# Failed logins per (account, client address): the first LOGIN_FREE_FAILURES cost nothing, then each one
# blocks that pair for LOGIN_DELAY_SECONDS, doubling, up to LOGIN_DELAY_MAX_SECONDS. Other addresses are
# not affected, so nobody can lock someone else out, and unknown accounts are counted the same way.
LOGIN_FREE_FAILURES = _env_int("GONGZHI_LOGIN_FREE_FAILURES", 5)
LOGIN_DELAY_SECONDS = _env_int("GONGZHI_LOGIN_DELAY_SECONDS", 30)
LOGIN_DELAY_MAX_SECONDS = _env_int("GONGZHI_LOGIN_DELAY_MAX_SECONDS", 3600)
# (events, seconds): login attempts from one address over all accounts; sign-ups per address and in all.
LOGIN_CLIENT_LIMIT = (_env_int("GONGZHI_LOGIN_CLIENT_LIMIT", 100), 600)
SIGNUP_CLIENT_LIMIT = (_env_int("GONGZHI_SIGNUP_CLIENT_LIMIT", 10), 3600)
SIGNUP_GLOBAL_LIMIT = (_env_int("GONGZHI_SIGNUP_GLOBAL_LIMIT", 1000), 3600)
# SMS codes (each one costs money and can be abused to flood numbers, "SMS pumping"): per client address,
# per number prefix (the first 7 digits: carrier block and area), and a budget for the whole site per hour.
# Going over is logged and shown on /healthz.
SMS_CLIENT_LIMIT = (_env_int("GONGZHI_SMS_CLIENT_LIMIT", 10), 3600)
SMS_PREFIX_LIMIT = (_env_int("GONGZHI_SMS_PREFIX_LIMIT", 30), 3600)
SMS_HOURLY_BUDGET = _env_int("GONGZHI_SMS_HOURLY_BUDGET", 1000)


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GONGZHI_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A handler of its own stops the Huey consumer from adding a second one (every line twice).
        "huey": {"handlers": ["console"], "level": os.environ.get("GONGZHI_LOG_LEVEL", "INFO"),
                 "propagate": False},
    },
}
