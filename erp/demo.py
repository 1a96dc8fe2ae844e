"""Demo-data seeders: erp seeds master data and users; each app adds its own step.

An app registers `seeder(users)` in its AppConfig.ready; `manage.py seed_demo` runs them
in registration order after master data. Each seeder must be idempotent.
"""

from collections.abc import Callable

_seeders: list[tuple[str, Callable]] = []


def register_demo_seeder(name: str, seeder: Callable) -> None:
    if all(existing != name for existing, _ in _seeders):
        _seeders.append((name, seeder))


def demo_seeders() -> list[tuple[str, Callable]]:
    return list(_seeders)
