"""Production settings (DEBUG=0): HTTPS defaults, the TLS-at-a-proxy switch, `check
--deploy`, static files served by WhiteNoise under hashed names, and API docs that load
nothing from outside."""

import json
import os
import re
import subprocess
import sys

import httpx
import pytest
from django.conf import settings
from django.urls import reverse

from erp.benchmarks.support import gunicorn_server
from tests.production import shared_database_url

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "production-test-key-7f3a9c2e4b6d8f0a1c3e5g7i9k1m3o5q7s9u1w3y5",
    "ALLOWED_HOSTS": "erp.example.com",
}
SETTINGS_SHOWN = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE is no production setting.
    dropped = {"DEBUG", "TLS_TERMINATED_BY_PROXY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def production_settings(**env: str) -> dict:
    names = json.dumps(SETTINGS_SHOWN + ["STORAGES"])
    code = f"import json; from django.conf import settings as s; print(json.dumps({{n: getattr(s, n) for n in {names}}}))"
    result = run_manage("shell", "--no-imports", "-c", code, **PRODUCTION, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_to_https_with_secure_cookies_and_trusts_no_forwarded_proto():
    values = production_settings()

    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


def test_tls_at_a_proxy_trusts_its_forwarded_proto_and_lets_cookies_cross_the_plain_hop():
    values = production_settings(TLS_TERMINATED_BY_PROXY="1")

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] == 31536000


def test_behind_a_proxy_secure_cookies_can_still_be_asked_for_one_by_one():
    values = production_settings(
        TLS_TERMINATED_BY_PROXY="1", SESSION_COOKIE_SECURE="1", CSRF_COOKIE_SECURE="1"
    )

    assert (values["SESSION_COOKIE_SECURE"], values["CSRF_COOKIE_SECURE"]) == (True, True)
    assert values["SECURE_SSL_REDIRECT"] is False


def test_check_deploy_is_silent_with_production_values():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_behind_a_tls_proxy_names_exactly_the_three_relaxed_settings():
    result = run_manage("check", "--deploy", **PRODUCTION, TLS_TERMINATED_BY_PROXY="1")

    reported = sorted(set(re.findall(r"\(security\.(W\d+)\)", result.stdout + result.stderr)))
    assert reported == ["W008", "W012", "W016"]


def test_development_and_tests_serve_static_files_from_the_source_folders():
    assert settings.STORAGES["staticfiles"]["BACKEND"] == (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    assert settings.MIDDLEWARE[:2] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]


@pytest.mark.django_db
def test_the_api_docs_load_swagger_ui_and_redoc_from_our_own_static_files(client, manager):
    client.force_login(manager)

    for name in ("api-docs", "api-redoc"):
        page = client.get(reverse(name)).content.decode()
        assets = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert assets, name
        assert not [url for url in assets if "//" in url], (name, assets)
        assert any("/static/drf_spectacular_sidecar/" in url for url in assets), (name, assets)


def test_the_browsers_favicon_request_gets_the_back_offices_icon(client):
    response = client.get("/favicon.ico", follow=True)

    assert response.redirect_chain == [("/static/favicon.svg", 302)]
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"


@pytest.mark.postgres
@pytest.mark.django_db
def test_with_debug_off_static_files_are_served_hashed_compressed_and_cached_for_a_year(
    tmp_path,
):
    env = {"DATABASE_URL": shared_database_url(), "CELERY_BROKER_URL": ""}
    with gunicorn_server(workers=1, extra_env=env, static_root=tmp_path / "static") as url:
        login = httpx.get(f"{url}{reverse('login')}")
        stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', login.text)
        htmx = re.search(r'src="(/static/django_htmx/[^"]+)"', login.text)
        assert login.status_code == 200
        assert stylesheet and htmx, login.text[:600]

        css = httpx.get(f"{url}{stylesheet.group(1)}", headers={"Accept-Encoding": "gzip"})
        script = httpx.get(f"{url}{htmx.group(1)}")
        missing = httpx.get(f"{url}/static/css/no-such-file.css")
        icon = httpx.get(f"{url}/favicon.ico", follow_redirects=True)

    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert css.headers["content-encoding"] == "gzip"
    assert "max-age=315360000" in css.headers["cache-control"]
    assert "immutable" in css.headers["cache-control"]
    assert "--primary" in css.text
    assert script.status_code == 200
    assert missing.status_code == 404
    assert icon.status_code == 200
    assert re.fullmatch(r"/static/favicon\.[0-9a-f]{12}\.svg", icon.url.path)
