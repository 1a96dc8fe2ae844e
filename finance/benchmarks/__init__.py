from finance.benchmarks import post  # noqa: F401  registers it
