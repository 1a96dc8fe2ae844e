from orders.benchmarks import ingest, oversell  # noqa: F401  registers them
