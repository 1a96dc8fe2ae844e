"""Finance benchmarks: `bench post` and `bench settle`."""

from finance.benchmarks import post, settle  # noqa: F401  registers them
