from erp.errors import DomainError


class InsufficientStock(DomainError):
    """The movement or reservation needs more units than the rules make available."""

    status_code = 409
    default_code = "insufficient_stock"
