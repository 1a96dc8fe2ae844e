from purchasing.benchmarks import receive  # noqa: F401  registers it
