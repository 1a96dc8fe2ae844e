from purchasing.benchmarks import receive, replenish  # noqa: F401  registers them
