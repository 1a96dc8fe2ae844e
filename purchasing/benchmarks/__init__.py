from purchasing.benchmarks import replenish  # noqa: F401  registers it
