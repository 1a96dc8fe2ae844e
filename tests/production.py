"""What the production-mode tests share: the test database's address for a server process."""

from urllib.parse import quote

from django.db import connection


def shared_database_url() -> str:
    """The test database (PostgreSQL), for a gunicorn process to share with the test."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"
