"""Benchmark registry for `manage.py bench <name>`.

A benchmark is a function `run(out, **options) -> (value, unit)`: it seeds what it needs,
runs ANALYZE on it, measures, writes its figures to `out` and returns the headline figure,
which the command prints last as `name: value unit`.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    run: Callable


_registry: dict[str, Benchmark] = {}


def register_benchmark(name: str, description: str):
    def decorate(run):
        _registry[name] = Benchmark(name, description, run)
        return run

    return decorate


# Checks run after every benchmark (an app registers its own: finance checks that the books
# still agree with the stock the benchmark moved). Each returns (lines to print, clean).
_checks: list[Callable[[], tuple[list[str], bool]]] = []


def register_after_benchmark_check(check: Callable[[], tuple[list[str], bool]]):
    if check not in _checks:
        _checks.append(check)
    return check


def after_benchmark_checks() -> list[Callable[[], tuple[list[str], bool]]]:
    return list(_checks)


# What a benchmark calls after loading stock straight into the balances (set-based seeding,
# as a go-live import would): finance puts that opening stock on the books, so the checks
# after the benchmark measure what the benchmark itself moved.
_opening_stock_hooks: list[Callable] = []


def register_opening_stock_hook(hook: Callable):
    if hook not in _opening_stock_hooks:
        _opening_stock_hooks.append(hook)
    return hook


def opening_stock_loaded(actor) -> None:
    for hook in _opening_stock_hooks:
        hook(actor)


def get_benchmark(name: str) -> Benchmark | None:
    _load()
    return _registry.get(name)


def all_benchmarks() -> list[Benchmark]:
    _load()
    return sorted(_registry.values(), key=lambda bench: bench.name)


def _load() -> None:
    from django.apps import apps

    for config in apps.get_app_configs():
        try:
            __import__(f"{config.name}.benchmarks")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.benchmarks":
                raise
    from erp.benchmarks import api_list  # noqa: F401
