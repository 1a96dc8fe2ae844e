"""`make run` on a fresh machine uses SQLite: migrate, seed the demo data, and every page of
every demo user's navigation answers. The suite otherwise runs on PostgreSQL, so without
this a PostgreSQL-only expression in a seeder or a dashboard breaks the newcomer's first
command unnoticed (it did once: the KPI facts' interval arithmetic)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

VISIT_EVERY_PAGE = """
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.test.utils import setup_test_environment
from erp.navigation import sections_for

setup_test_environment()
failures = []
users = get_user_model().objects.filter(username__in=[
    "warehouse", "customer-service", "manager", "finance", "buyer"])
assert users.count() == 5, list(users)
for user in users:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    urls = ["/"] + [link.url for section in sections_for(user) for link in section.links]
    for url in urls:
        status = client.get(url, follow=True).status_code
        if status != 200:
            failures.append(f"{user.username} {url} {status}")
print(f"visited {users.count()} users' pages")
assert not failures, failures
"""


def test_make_run_seeds_the_demo_and_serves_every_page_on_sqlite(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "ERP_REQUIRE_SERVICES", "CACHE_URL")
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'erp.sqlite3'}"
    env["DJANGO_SETTINGS_MODULE"] = "erp.settings"

    def run(*args):
        result = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
        return result.stdout

    run("manage.py", "migrate", "--noinput", "-v", "0")
    seeded = run("manage.py", "seed_demo")
    assert "Demo data ready" in seeded
    assert "visited 5 users' pages" in run("-c", VISIT_EVERY_PAGE)
