"""Insight benchmarks: `bench kpis`."""

from insight.benchmarks import kpis  # noqa: F401  registers it
