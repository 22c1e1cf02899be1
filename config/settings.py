"""Settings for the service catalog portal.

Everything that differs between a laptop and production is read from the
environment, with defaults that are safe and useful on a developer machine:
SQLite, DEBUG on, e-mail printed to the console, background tasks run inline.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.release import release_version

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


DEBUG = env_bool("DEBUG", True)
# The fallback key only exists so a fresh clone runs; production must set one.
SECRET_KEY = os.environ.get(
    "SECRET_KEY", "insecure-local-development-key-change-me-in-production"
)
if (
    not DEBUG
    and SECRET_KEY.startswith("insecure-")
    and not env_bool("ALLOW_INSECURE_SECRET_KEY", False)
):
    raise RuntimeError("Set SECRET_KEY in the environment when DEBUG is off.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "home",
    "catalog",
    "wagtail.contrib.search_promotions",
    "wagtail.contrib.settings",
    "wagtail.contrib.redirects",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "home.headers.PortalCSPMiddleware",
    "home.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "home.auth.PortalAuthenticationMiddleware",
    "home.middleware.PortalLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "home.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a background write is in flight.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif env_bool("DATABASE_PREPARED_STATEMENTS", True):
    # PostgreSQL plans each query once per connection, not once per request:
    # a query run five times on a connection becomes a prepared statement.
    # Planning was most of the database's CPU for a page (bench/README.md,
    # "Prepared statements"). Off for a pooler that can't keep them (PgBouncer
    # in transaction mode before 1.21): DATABASE_PREPARED_STATEMENTS=0.
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": True,
        "prepare_threshold": 5,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) are PostgreSQL's, where the IT bill reads them alone;
# SQLite builds the same indexes without the extra columns, and says so.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Axes first: it refuses a locked-out login before the password is even checked.
# Sessions in the database, as Django's, read with one plain query (home/sessions.py).
SESSION_ENGINE = "home.sessions"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "home.auth.PortalModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "static_collected"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve straight from the apps' static folders too, so a forgotten collectstatic
# doesn't hide the admin's files. With DEBUG off, {% static %} still needs the
# manifest that collectstatic writes.
WHITENOISE_USE_FINDERS = True

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "it-services@example.com")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# Seconds; without one, a hung mail server holds a worker forever.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
# A notification that fails to send is queued again after 1, 5, 25 and 60
# minutes, up to this many attempts in all (catalog/tasks.py).
EMAIL_SEND_ATTEMPTS = int(os.environ.get("EMAIL_SEND_ATTEMPTS", "5"))

# Inline by default; production sets TASKS_BACKEND=django_tasks_db.DatabaseBackend
# and runs `manage.py db_worker` (docs/operations.md).
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
        )
    }
}

# Keys carry the release (RELEASE, or a digest of the code, templates and static
# files), so a new release never serves HTML an old one cached. The backends are
# Django's, made blind while a preview renders (home/cache.py).
RELEASE = release_version(BASE_DIR)
CACHES = {
    "default": {
        "BACKEND": "home.cache.LocMemCache",
        "KEY_PREFIX": f"portal-{RELEASE}",
    }
}
if os.environ.get("REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "home.cache.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "KEY_PREFIX": f"portal-{RELEASE}",
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Wagtail
WAGTAIL_SITE_NAME = "IT Services"
WAGTAILADMIN_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "txt", "xlsx"]
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_I18N_ENABLED = False
# Avatars from Gravatar would leak staff e-mail hashes and fail on closed networks.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# A completed moderation workflow publishes, whoever approved its last step.
WAGTAIL_FINISH_WORKFLOW_ACTION = "catalog.workflows.publish_approved"

# The portal
CATALOG_CURRENCY = os.environ.get("CATALOG_CURRENCY", "EUR")
CATALOG_PAGE_SIZE = 12
# The service for anything not in the catalog (one free-text question): a
# search that finds nothing links to it. Its page's slug; no link without one.
CATALOG_ASK_IT_SLUG = os.environ.get("CATALOG_ASK_IT_SLUG", "something-else")
# Keys the request log's hashes (HMAC-SHA256) so that write access to the database
# is not enough to forge or recompute it; empty means plain SHA-256. Introduce it
# as docs/security.md says, and never change or lose it.
REQUEST_LOG_KEY = os.environ.get("REQUEST_LOG_KEY", "")

# --- HTTPS and security headers ----------------------------------------------------
# With DEBUG off, the safe values are the defaults; each can be turned down from
# the environment (docs/operations.md).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 3600))
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Only behind a proxy that ends TLS and always sets this header: trusted blindly,
# it would let any client claim to be on HTTPS. "HTTP_X_FORWARDED_PROTO" means
# the proxy sends "X-Forwarded-Proto: https".
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (os.environ["SECURE_PROXY_SSL_HEADER"], "https")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# The portal's own pages run no inline script or style: everything is a file
# under static/, so an injected <script> or style="" is refused by the browser.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# The Wagtail admin writes inline scripts and styles that no policy setting can
# move out, so it gets the same policy with 'unsafe-inline' (home/headers.py).
ADMIN_CONTENT_SECURITY_POLICY = {
    **CONTENT_SECURITY_POLICY["DIRECTIVES"],
    "script-src": ["'self'", "'unsafe-inline'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    # Live preview shows the page in a frame of the editor.
    "frame-ancestors": ["'self'"],
}
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# --- Login throttling (django-axes) -------------------------------------------------
# After LOGIN_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is locked for LOGIN_LOCKOUT_MINUTES after the last attempt; people
# administrators can unlock sooner (Admin › Locked logins).
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(
    minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "home.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# The portal's admin is Wagtail's; Django's admin site is not served.
AXES_ENABLE_ADMIN = False
