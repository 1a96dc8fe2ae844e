"""Settings for the ERP, read from the environment (twelve-factor).

Development defaults need nothing installed: SQLite under var/, Celery tasks run eagerly.
Production sets DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis), SECRET_KEY,
DEBUG=0 and ALLOWED_HOSTS.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "erp.apps.ErpConfig",
    "inventory.apps.InventoryConfig",
    "orders.apps.OrdersConfig",
    "fulfillment.apps.FulfillmentConfig",
    "returns.apps.ReturnsConfig",
    "purchasing.apps.PurchasingConfig",
    "finance.apps.FinanceConfig",
    "insight.apps.InsightConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight after the security headers, before sessions and auth: an asset
    # costs no database query, and gets far-future caching under its hashed name.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "erp.middleware.RefuseNulInputMiddleware",
]
if env_bool("ERP_QUERY_COUNT_HEADER", False):
    # Benchmarks read the number of SQL queries per request from a response header.
    MIDDLEWARE.insert(0, "erp.middleware.QueryCountHeaderMiddleware")

ROOT_URLCONF = "erp.urls"
WSGI_APPLICATION = "erp.wsgi.application"

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
                "erp.context_processors.navigation",
            ],
        },
    }
]

(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'erp.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of deadlocking.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTHENTICATION_BACKENDS = ["erp.auth_backends.CachedPermissionBackend"]
PERMISSION_CACHE_SECONDS = int(os.environ.get("PERMISSION_CACHE_SECONDS", "10"))
# Channel configuration read on every order (policy, eligible nodes, ring-fences).
CHANNEL_CONFIG_CACHE_SECONDS = int(os.environ.get("CHANNEL_CONFIG_CACHE_SECONDS", "10"))
# Hot-path statements (erp/fastsql.py) bind server-side and are prepared on PostgreSQL;
# FASTSQL_CLIENT=1 binds them client-side (behind a transaction-mode connection pooler).
FASTSQL_SERVER_BINDING = not env_bool("FASTSQL_CLIENT", False)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
# Production serves the files `collectstatic` gathered, compressed and under content-hashed
# names (WhiteNoise); a missing `collectstatic` shows at once as an error on every page.
# Development (and the test suite) serves them from the source folders as they are.
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
# Development reads the source folders on every request; production reads STATIC_ROOT once.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Security: production values make `manage.py check --deploy` silent.
# TLS_TERMINATED_BY_PROXY=1 says HTTPS ends at a reverse proxy in front of this process and
# reaches it as plain HTTP: only then is the proxy's X-Forwarded-Proto trusted (a client
# could forge it otherwise), the proxy does the redirect to HTTPS, and the session and CSRF
# cookies also work over the plain-HTTP hop (e.g. http://127.0.0.1:8000 on the host itself).
TLS_TERMINATED_BY_PROXY = env_bool("TLS_TERMINATED_BY_PROXY", False)
tls_here = not DEBUG and not TLS_TERMINATED_BY_PROXY
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", tls_here)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", tls_here)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", tls_here)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TLS_TERMINATED_BY_PROXY else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Request bodies: a catalog upsert of 1,000 SKUs fits; a 10 MB body is refused.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(
    os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(5 * 1024 * 1024))
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "erp.api.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["erp.api.permissions.RoleModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["erp.api.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "erp.api.pagination.IdCursorPagination",
    "DEFAULT_SCHEMA_CLASS": "erp.api.schema.ErpAutoSchema",
    "EXCEPTION_HANDLER": "erp.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["erp.api.throttling.IntegrationTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"integration": os.environ.get("API_THROTTLE_RATE", "1200/min")},
    "DEFAULT_PARSER_CLASSES": [
        "erp.api.parsers.JSONParser",
        "erp.api.parsers.FormParser",
        "erp.api.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Marketplace ERP API",
    "DESCRIPTION": (
        "Integration API. Authenticate with `Authorization: Token <key>`. Lists use cursor "
        "pagination; POSTs accept an `Idempotency-Key` header. Errors are "
        '`{"errors": [{"field", "code", "message"}]}`.'
    ),
    "VERSION": "1.0.0",
    # Swagger UI and Redoc come from drf-spectacular-sidecar's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise ask validator.swagger.io about the schema.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StockStatusEnum": "inventory.models.StockStatus",
        "ReceivableStatusEnum": ["sellable", "inspection", "quarantine", "damaged"],
        "RmaStateEnum": "returns.models.RmaState",
        "RefundStateEnum": "returns.models.RefundState",
        "OrderStateEnum": "orders.models.OrderState",
        "PurchaseOrderStateEnum": "purchasing.models.PurchaseOrderState",
        "PurchaseOrderKindEnum": "purchasing.models.PurchaseOrder.Kind",
        "ProposalStateEnum": "purchasing.models.Proposal.State",
        "ProposalLineStateEnum": "purchasing.models.ProposalLine.State",
        "ReplenishmentTriggerEnum": "purchasing.models.ReplenishmentRun.Trigger",
        "LandedChargeKindEnum": "purchasing.models.LandedCharge.Kind",
        "SettlementSourceEnum": "finance.models.SettlementSource",
        "RmaSourceEnum": "returns.models.Rma.Source",
    },
}

# Celery: without a broker, tasks run eagerly in-process so `make run` needs nothing else.
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("CELERY_BROKER_URL")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "outbox-dispatch-due": {"task": "erp.tasks.dispatch_due_outbox_messages", "schedule": 30.0},
    "queues-release-stale-claims": {
        "task": "erp.tasks.release_stale_queue_claims",
        "schedule": 600.0,
    },
    # API token request counts: from the cache counters into the table (erp.token_usage).
    "api-token-usage-flush": {"task": "erp.tasks.flush_api_token_usage", "schedule": 60.0},
    "inventory-quarantine-expired-lots": {
        "task": "inventory.tasks.quarantine_expired_lots",
        "schedule": crontab(hour=0, minute=30),
    },
    "inventory-publish-availability": {
        "task": "inventory.tasks.publish_availability",
        "schedule": 60.0,
    },
    "orders-escalate-past-sla": {"task": "orders.tasks.escalate_orders", "schedule": 300.0},
    "purchasing-escalate-overdue": {
        "task": "purchasing.tasks.escalate_overdue_purchase_orders",
        "schedule": crontab(minute=10),
    },
    "purchasing-send-drop-ship": {
        "task": "purchasing.tasks.send_drop_ship_orders",
        "schedule": 300.0,
    },
    "purchasing-replenishment-nightly": {
        "task": "purchasing.tasks.run_nightly_replenishment",
        "schedule": crontab(hour=2, minute=0),
    },
    "insight-daily-digest": {
        "task": "insight.tasks.send_daily_digests",
        "schedule": crontab(hour=6, minute=0),
    },
    "insight-refresh-kpi-facts": {
        "task": "insight.kpis.tasks.refresh_kpi_facts",
        "schedule": 300.0,
    },
    "insight-rebuild-stock-facts": {
        "task": "insight.kpis.tasks.rebuild_stock_facts",
        "schedule": crontab(hour=3, minute=45),
    },
    "outbox-purge-delivered": {
        "task": "erp.tasks.purge_delivered_outbox_messages",
        "schedule": crontab(hour=3, minute=15),
    },
}

# Outbox delivery policy.
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "8"))
OUTBOX_BACKOFF_BASE_SECONDS = float(os.environ.get("OUTBOX_BACKOFF_BASE_SECONDS", "30"))
OUTBOX_BACKOFF_MAX_SECONDS = float(os.environ.get("OUTBOX_BACKOFF_MAX_SECONDS", "3600"))
OUTBOX_LEASE_SECONDS = float(os.environ.get("OUTBOX_LEASE_SECONDS", "120"))
OUTBOX_HTTP_TIMEOUT_SECONDS = float(os.environ.get("OUTBOX_HTTP_TIMEOUT_SECONDS", "10"))

# Channel sync health (insight): a direction is stale when its oldest waiting message (or,
# for orders in, the last order received) is older than this many minutes.
SYNC_STALE_MINUTES = {
    direction: int(os.environ.get(f"SYNC_STALE_MINUTES_{direction.upper()}", default))
    for direction, default in (
        ("orders_in", "1440"),
        ("availability_out", "30"),
        ("tracking_out", "120"),
        ("refunds_out", "240"),
    )
}
# The daily manager digest goes out through this outbox endpoint (created as an e-mail
# endpoint, delivered by Django's mail backend, when it does not exist yet).
DIGEST_MAIL_ENDPOINT = os.environ.get("DIGEST_MAIL_ENDPOINT", "digest-mail")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "erp@localhost")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))

BASE_CURRENCY = os.environ.get("BASE_CURRENCY", "USD")
# Moving-average cost kept per SKU company-wide ("company") or per SKU and node ("node").
INVENTORY_COST_SCOPE = os.environ.get("INVENTORY_COST_SCOPE", "company")
if INVENTORY_COST_SCOPE not in ("company", "node"):
    raise ImproperlyConfigured("INVENTORY_COST_SCOPE must be 'company' or 'node'.")
# Settlement reconciliation: differences up to these amounts (settlement currency) are
# trued up / posted to the variance account; larger ones go to the variances queue.
SETTLEMENT_AMOUNT_TOLERANCE = os.environ.get("SETTLEMENT_AMOUNT_TOLERANCE", "0.05")
SETTLEMENT_FEE_TOLERANCE = os.environ.get("SETTLEMENT_FEE_TOLERANCE", "0.05")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO: too loud for benchmarks and outbox workers.
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # Eager tasks (no broker) would log every run at INFO.
        "celery.app.trace": {"level": "WARNING"},
    },
}

# Purchasing: the mail relay endpoint (an erp Endpoint code) purchase orders are e-mailed
# through for suppliers without their own order webhook.
PURCHASING_MAIL_ENDPOINT = os.environ.get("PURCHASING_MAIL_ENDPOINT", "supplier-mail")
