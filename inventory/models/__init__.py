from inventory.models.availability import (
    AllocationRule,
    AvailabilityDirty,
    ChannelAvailability,
    SafetyStock,
)
from inventory.models.costing import SkuCost
from inventory.models.documents import (
    WRITE_OFF_REASONS,
    AdjustmentReason,
    CycleCount,
    CycleCountLine,
    InventoryAdjustment,
    Transfer,
    TransferLine,
)
from inventory.models.stock import (
    Lot,
    LotBalance,
    MovementKind,
    Reservation,
    SerialNumber,
    StockBalance,
    StockLedgerEntry,
    StockStatus,
)

__all__ = [
    "WRITE_OFF_REASONS",
    "AdjustmentReason",
    "AllocationRule",
    "AvailabilityDirty",
    "ChannelAvailability",
    "CycleCount",
    "CycleCountLine",
    "InventoryAdjustment",
    "Lot",
    "LotBalance",
    "MovementKind",
    "Reservation",
    "SafetyStock",
    "SkuCost",
    "SerialNumber",
    "StockBalance",
    "StockLedgerEntry",
    "StockStatus",
    "Transfer",
    "TransferLine",
]
