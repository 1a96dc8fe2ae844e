"""Picking with a scanner.

scans.py   pick lists taken, picks confirmed by slot and barcode, tasks of cancelled orders
units.py   which lot (FEFO, or the one scanned) and which serials a pick takes
shorts.py  short picks: count, release, re-route; resolving them
"""

from fulfillment.services.picking.scans import cancel_pick_tasks, confirm_pick, start_pick_list
from fulfillment.services.picking.shorts import report_short_pick, resolve_short_pick

__all__ = [
    "cancel_pick_tasks",
    "confirm_pick",
    "report_short_pick",
    "resolve_short_pick",
    "start_pick_list",
]
