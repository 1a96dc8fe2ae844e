"""What benchmarks share (and the production-mode browser sweep): analyzing tables,
percentiles, a production-mode gunicorn server on loopback."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection


def analyze(*models) -> None:
    """Refresh planner statistics: this machine's PostgreSQL runs with autovacuum off."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def database_label() -> str:
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        return f"PostgreSQL {version} ({db['HOST'] or 'socket'}/{db['NAME']})"
    return f"{connection.vendor} ({db['NAME']})"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(extra_env: dict | None = None) -> dict:
    """The environment of a production process on loopback: DEBUG off, plain HTTP behind
    a (notional) TLS proxy, so sign-in works on http://127.0.0.1."""
    # Playwright's tests set DJANGO_ALLOW_ASYNC_UNSAFE for themselves, not for the server.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **inherited,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get(
            "SECRET_KEY", "benchmark-only-secret-key-0123456789abcdefghijkl"
        ),
        "TLS_TERMINATED_BY_PROXY": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }


def collect_static(static_root: Path, extra_env: dict | None = None) -> None:
    """`manage.py collectstatic` as production runs it (hashed, compressed files)."""
    env = production_env({**(extra_env or {}), "STATIC_ROOT": str(static_root)})
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        check=True,
    )


@contextmanager
def gunicorn_server(
    *, workers: int = 2, extra_env: dict | None = None, static_root: Path | None = None
):
    """Serve the project under gunicorn on a free loopback port; yields the base URL.

    With `static_root`, static files are collected there first and WhiteNoise serves them,
    exactly as in production."""
    port = _free_port()
    if static_root is not None:
        collect_static(static_root, extra_env)
        extra_env = {**(extra_env or {}), "STATIC_ROOT": str(static_root)}
    env = production_env(extra_env)
    base_dir = Path(settings.BASE_DIR)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "erp.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=base_dir,
        env=env,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                # A JSON answer (401 without a token): no page that needs collected static
                # files, which only servers started with `static_root` have.
                httpx.get(f"{url}/api/v1/", headers={"Accept": "application/json"}, timeout=10)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
