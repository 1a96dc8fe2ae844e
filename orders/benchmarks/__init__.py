from orders.benchmarks import ingest  # noqa: F401  registers it
