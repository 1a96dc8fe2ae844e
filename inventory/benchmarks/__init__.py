from inventory.benchmarks import availability, ledger, oversell  # noqa: F401  registers them
