"""Returns back office: RMAs (create, list, page with refunds), the dock, inspection,
figures, and the row actions of the returns queues. Thin: forms parse, services decide."""
