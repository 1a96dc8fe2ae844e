"""Suppliers and their price lists (per SKU: supplier SKU, cost, lead time, MOQ, pack).

At most one supplier is preferred per SKU: marking one preferred clears the others in the
same transaction (the database's partial unique index holds the line).
"""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from erp.errors import FieldError, ValidationFailed
from erp.models import Sku
from erp.roles import require_permission
from purchasing.models import Supplier, SupplierItem

SUPPLIER_FIELDS = (
    "code",
    "name",
    "currency",
    "payment_terms",
    "order_email",
    "order_endpoint",
    "dropship_location",
    "qa_hold",
    "over_receipt_tolerance_percent",
    "notes",
    "active",
)
ITEM_FIELDS = (
    "supplier_sku",
    "unit_cost",
    "lead_time_days",
    "moq",
    "pack_multiple",
    "preferred",
    "qa_hold",
    "active",
)


def _full_clean(instance, *, prefix: str = "", exclude=()) -> None:
    try:
        instance.full_clean(exclude=list(exclude), validate_constraints=False)
    except ValidationError as error:
        raise ValidationFailed.from_django(error, prefix=prefix) from None


def _check_dropship(supplier: Supplier) -> None:
    location = supplier.dropship_location
    if location is not None and location.kind != location.Kind.DROPSHIP:
        raise ValidationFailed(
            f"{location.code} is not a drop-ship node.",
            field="dropship_location",
            code="not_dropship",
        )
    if location is not None:
        taken = Supplier.objects.filter(dropship_location=location).exclude(pk=supplier.pk).first()
        if taken:
            raise ValidationFailed(
                f"{location.code} already belongs to {taken.code}.",
                field="dropship_location",
                code="unique",
            )


@transaction.atomic
def save_supplier(*, actor, supplier: Supplier | None = None, **values) -> Supplier:
    """Create a supplier, or change one (only the fields given)."""
    creating = supplier is None
    require_permission(
        actor,
        "purchasing.add_supplier" if creating else "purchasing.change_supplier",
        action="create suppliers" if creating else "change suppliers",
    )
    supplier = supplier or Supplier()
    for name, value in values.items():
        if name not in SUPPLIER_FIELDS:
            raise ValidationFailed(f"Unknown field {name}.", field=name, code="unknown")
        setattr(supplier, name, value)
    if (
        supplier.code
        and Supplier.objects.filter(code=supplier.code).exclude(pk=supplier.pk).exists()
    ):
        raise ValidationFailed(
            f"Supplier {supplier.code} exists already.", field="code", code="unique"
        )
    _full_clean(supplier, exclude=["order_endpoint", "dropship_location"])
    _check_dropship(supplier)
    supplier._history_user = actor
    supplier.save()
    return supplier


def _clear_other_preferred(item: SupplierItem) -> None:
    if item.preferred:
        others = SupplierItem.objects.filter(sku_id=item.sku_id, preferred=True).exclude(pk=item.pk)
        for other in others.select_for_update():
            other.preferred = False
            other.save(update_fields=["preferred", "updated_at"])


@transaction.atomic
def save_supplier_item(*, actor, supplier: Supplier, sku: Sku, **values) -> SupplierItem:
    """Create or change the supplier's price for `sku` (one row per supplier and SKU)."""
    require_permission(actor, "purchasing.change_supplieritem", action="change supplier prices")
    item = SupplierItem.objects.select_for_update().filter(supplier=supplier, sku=sku).first()
    if item is None:
        require_permission(actor, "purchasing.add_supplieritem", action="add supplier prices")
        item = SupplierItem(supplier=supplier, sku=sku)
    for name, value in values.items():
        if name not in ITEM_FIELDS:
            raise ValidationFailed(f"Unknown field {name}.", field=name, code="unknown")
        setattr(item, name, value)
    _check_item(item)
    _clear_other_preferred(item)
    item._history_user = actor
    item.save()
    return item


def _check_item(item: SupplierItem, prefix: str = "") -> None:
    if not item.sku.active and item.active:
        raise ValidationFailed(
            f"SKU {item.sku.code} is inactive.", field=f"{prefix}sku", code="inactive"
        )
    _full_clean(item, prefix=prefix, exclude=["supplier", "sku"])


# Price-list import ----------------------------------------------------------------------

PRICE_LIST_COLUMNS = ("sku", "supplier_sku", "unit_cost", "lead_time_days", "moq", "pack_multiple")
OPTIONAL_COLUMNS = ("preferred",)
TRUE, FALSE = {"1", "true", "yes", "y"}, {"0", "false", "no", "n", ""}
MAX_ROWS = 20_000


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    refused: list[dict] = field(default_factory=list)  # {"row", "field", "message"}

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "refused": self.refused}


class PriceListRefused(ValidationFailed):
    """Some rows were refused: nothing was imported; `report` lists every refusal."""

    def __init__(self, report: ImportReport):
        first = report.refused[0]
        super().__init__(
            f"{len(report.refused)} row(s) refused; nothing was imported.",
            field=first["field"],
            code="rows_refused",
        )
        self.report = report
        self.errors = [
            FieldError(f"rows[{row['row']}].{row['field']}", "invalid", row["message"])
            for row in report.refused
        ]


def _int(value: str, name: str, minimum: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number.") from None
    if number < minimum or number > 2**31 - 1:
        raise ValueError(f"{name} must be at least {minimum}.")
    return number


def _parse_row(row: dict) -> dict:
    try:
        cost = Decimal(row["unit_cost"].strip())
    except InvalidOperation:
        raise ValueError("unit_cost must be a number.") from None
    if not cost.is_finite() or cost <= 0:
        raise ValueError("unit_cost must be above zero.")
    if cost != cost.quantize(Decimal("0.0001")) or cost >= Decimal("100000000"):
        raise ValueError("unit_cost has at most 4 decimals and 8 digits before the point.")
    preferred = (row.get("preferred") or "").strip().lower()
    if preferred not in TRUE | FALSE:
        raise ValueError("preferred must be true or false.")
    return {
        "supplier_sku": row["supplier_sku"].strip(),
        "unit_cost": cost,
        "lead_time_days": _int(row["lead_time_days"], "lead_time_days", 0),
        "moq": _int(row["moq"], "moq", 1),
        "pack_multiple": _int(row["pack_multiple"], "pack_multiple", 1),
        "preferred": preferred in TRUE,
    }


_FIELD_OF = {
    "unit_cost": "unit_cost",
    "lead_time_days": "lead_time_days",
    "moq": "moq",
    "pack_multiple": "pack_multiple",
    "preferred": "preferred",
}


def _field_of(message: str) -> str:
    return next((name for prefix, name in _FIELD_OF.items() if message.startswith(prefix)), "row")


def read_price_list(content: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(content))
    missing = [name for name in PRICE_LIST_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(
            f"The file needs the columns {', '.join(PRICE_LIST_COLUMNS)} (missing: {', '.join(missing)}).",
            field="file",
            code="columns",
        )
    rows = list(reader)
    if not rows:
        raise ValidationFailed("The file has no rows.", field="file", code="empty")
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(
            f"Import at most {MAX_ROWS} rows at a time.", field="file", code="too_many"
        )
    return rows


@transaction.atomic
def import_price_list(*, supplier: Supplier, content: str, actor) -> ImportReport:
    """Create or update the supplier's prices from CSV, all rows or none.

    Each row is checked (known active SKU, positive cost, whole lead time/MOQ/pack, no SKU
    twice); when any row is refused nothing is written and `PriceListRefused.report`
    lists every refused row with its line number in the file.
    """
    require_permission(actor, "purchasing.add_supplieritem", action="import price lists")
    require_permission(actor, "purchasing.change_supplieritem", action="import price lists")
    if "\x00" in content:
        raise ValidationFailed(
            "The file may not contain NUL characters.", field="file", code="invalid"
        )
    rows = read_price_list(content)
    codes = {(row.get("sku") or "").strip() for row in rows}
    skus = {sku.code: sku for sku in Sku.objects.filter(code__in=codes)}
    existing = {
        item.sku_id: item
        for item in SupplierItem.objects.select_for_update().filter(supplier=supplier)
    }
    report, parsed, seen = ImportReport(), [], {}
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        code = (row.get("sku") or "").strip()
        sku = skus.get(code)
        if sku is None:
            report.refused.append(
                {"row": number, "field": "sku", "message": f"Unknown SKU {code!r}."}
            )
            continue
        if not sku.active:
            report.refused.append(
                {"row": number, "field": "sku", "message": f"SKU {code} is inactive."}
            )
            continue
        if code in seen:
            report.refused.append(
                {"row": number, "field": "sku", "message": f"{code} is also on row {seen[code]}."}
            )
            continue
        seen[code] = number
        try:
            values = _parse_row({key: value or "" for key, value in row.items() if key})
        except ValueError as error:
            report.refused.append(
                {"row": number, "field": _field_of(str(error)), "message": str(error)}
            )
            continue
        if len(values["supplier_sku"]) > SupplierItem._meta.get_field("supplier_sku").max_length:
            report.refused.append(
                {"row": number, "field": "supplier_sku", "message": "supplier_sku is too long."}
            )
            continue
        parsed.append((sku, values))
    if report.refused:
        raise PriceListRefused(report)
    for sku, values in parsed:
        item = existing.get(sku.pk)
        if item is None:
            item = SupplierItem(supplier=supplier, sku=sku)
            report.created += 1
        else:
            report.updated += 1
        for name, value in values.items():
            if name == "preferred" and not value:
                continue  # a price list names who is preferred; it does not un-prefer
            setattr(item, name, value)
        _clear_other_preferred(item)
        item._history_user = actor
        item.save()
    return report
