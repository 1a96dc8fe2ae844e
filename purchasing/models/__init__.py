"""Purchasing models, one module per area (suppliers, orders, receiving, landed cost)."""

from purchasing.models.landed import LandedCharge, LandedChargeAllocation
from purchasing.models.orders import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseOrderState,
)
from purchasing.models.performance import SupplierDefect
from purchasing.models.receiving import OverReceipt, Receipt, ReceiptLine
from purchasing.models.replenishment import (
    Proposal,
    ProposalLine,
    ReplenishmentRun,
    ReplenishmentSettings,
)
from purchasing.models.rtv import ReturnToVendor, ReturnToVendorLine
from purchasing.models.suppliers import PaymentTerms, Supplier, SupplierContact, SupplierItem

__all__ = [
    "LandedCharge",
    "LandedChargeAllocation",
    "OverReceipt",
    "PaymentTerms",
    "Proposal",
    "ProposalLine",
    "PurchaseOrder",
    "PurchaseOrderEvent",
    "PurchaseOrderLine",
    "PurchaseOrderState",
    "Receipt",
    "ReceiptLine",
    "ReplenishmentRun",
    "ReturnToVendor",
    "ReturnToVendorLine",
    "ReplenishmentSettings",
    "Supplier",
    "SupplierContact",
    "SupplierDefect",
    "SupplierItem",
]
