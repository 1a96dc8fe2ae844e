"""Orders own the writes to orders' rows: fulfillment's services change an order, its
lines, allocations and timeline only through orders' services (in_fulfillment,
shipments, sla, locking), never through the timeline or the models directly."""

import ast
from pathlib import Path

from django.conf import settings

SERVICES = Path(settings.BASE_DIR) / "fulfillment" / "services"
ORDERS_SERVICES_FOR_FULFILLMENT = {
    "orders.services.in_fulfillment",
    "orders.services.shipments",
    "orders.services.sla",
    "orders.services.locking",
    "orders.services.routing",  # reads: the destination zone for rate quotes
}
ORDERS_MODELS_WRITTEN = {"Order", "OrderLine", "Allocation", "OrderEvent", "OrderHold"}


def _imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "orders.services":
                yield from (f"orders.services.{alias.name}" for alias in node.names)
            elif node.module.startswith("orders.services"):
                yield node.module


def test_fulfillment_services_reach_orders_rows_only_through_orders_services():
    wrong = []
    for path in sorted(SERVICES.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for module in _imports(tree):
            if module not in ORDERS_SERVICES_FOR_FULFILLMENT:
                wrong.append(f"{path.relative_to(SERVICES)} imports {module}")
        for node in ast.walk(tree):
            # Order.objects.….update(…) / .create(…) / .bulk_create(…) / .delete()
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"update", "create", "bulk_create", "delete"}
            ):
                root = node.func.value
                while isinstance(root, ast.Attribute | ast.Call):
                    root = root.func if isinstance(root, ast.Call) else root.value
                if isinstance(root, ast.Name) and root.id in ORDERS_MODELS_WRITTEN:
                    wrong.append(f"{path.relative_to(SERVICES)}:{node.lineno} writes {root.id}")
    assert wrong == []
