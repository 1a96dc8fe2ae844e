"""Finance benchmarks: `bench settle`."""

from finance.benchmarks import settle  # noqa: F401
