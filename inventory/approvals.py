"""Registers the inventory approval kinds (adjustments, write-offs) with erp's approvals."""

from inventory.services import adjustments  # noqa: F401  registration happens on import
