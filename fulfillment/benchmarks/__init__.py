from fulfillment.benchmarks import ship  # noqa: F401  registers it
