"""Writes to master data: SKUs, locations, channels and listings.

Every write checks the actor's permission, validates the whole record (field rules,
database constraints, cross-record rules) before touching the database, and records
who changed what in the model's history.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from erp.errors import FieldError, ValidationFailed
from erp.models import Channel, ChannelListing, Location, Sku
from erp.roles import require_permission
from erp.token_scope import require_channel_scope


def _editable_fields(model) -> dict[str, models.Field]:
    return {
        f.name: f
        for f in model._meta.get_fields()
        if getattr(f, "editable", False)
        and not f.auto_created
        and f.concrete
        or isinstance(f, models.ManyToManyField)
    }


def _apply(instance, data: dict) -> dict:
    """Set plain fields on `instance`; return many-to-many values to set after saving."""
    fields = _editable_fields(type(instance))
    unknown = sorted(set(data) - set(fields) - {"id", "created_at", "updated_at"})
    if unknown:
        raise ValidationFailed.from_errors(
            [FieldError(name, "unknown_field", "This field is not recognised.") for name in unknown]
        )
    many_to_many = {}
    for name, value in data.items():
        if name not in fields:
            continue
        if isinstance(fields[name], models.ManyToManyField):
            many_to_many[name] = list(value)
        elif isinstance(fields[name], models.ForeignKey):
            setattr(instance, name, value)
        else:
            setattr(instance, name, value)
    return many_to_many


def _full_clean(instance, *, prefix: str = "", exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        raise ValidationFailed.from_django(error, prefix=prefix) from None


def _save(instance, *, actor, reason: str, many_to_many: dict) -> None:
    instance._history_user = actor
    instance._change_reason = reason
    try:
        with transaction.atomic():
            instance.save()
            for name, values in many_to_many.items():
                getattr(instance, name).set(values)
    except IntegrityError as error:
        # A concurrent writer took the same unique value after our validation passed.
        raise ValidationFailed(
            "Another record with these values was saved at the same time.", code="unique"
        ) from error


def _write(model, *, instance, actor, data: dict, reason: str, rules) -> models.Model:
    """Master data (SKUs, nodes, channels, listings) through the one record write; their
    rules also see the many-to-many values the write sets and whether it creates."""
    return save_record(
        model, instance=instance, actor=actor, data=data, reason=reason, relation_rules=rules
    )


def save_record(
    model,
    *,
    instance,
    actor,
    data: dict,
    reason: str,
    checks=None,
    rules=None,
    relation_rules=None,
) -> models.Model:
    """The write every setting and master-data record goes through.

    The actor holds `<app>.add_/change_<model>`; a reason is given (it becomes the
    history entry's change reason); `checks(instance)` run before the model's own
    validation, so a rule the database also holds is refused in words under its field;
    the model's validation runs; `rules(instance)` (rules spanning records) run last, or
    `relation_rules(instance, many_to_many, creating)` for rules that also need the
    many-to-many values being set. Any error refuses the whole write and nothing is saved.
    """
    creating = instance is None
    action = "add" if creating else "change"
    require_permission(
        actor,
        f"{model._meta.app_label}.{action}_{model._meta.model_name}",
        action=f"{action} {model._meta.verbose_name_plural}",
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why this is changed.", field="reason", code="required")
    if instance is not None:
        _require_channel_scope(actor, instance)
    instance = instance or model()
    many_to_many = _apply(instance, data)
    _require_channel_scope(actor, instance)
    errors = checks(instance) if checks else []
    if errors:
        raise ValidationFailed.from_errors(errors)
    _full_clean(instance)
    errors = rules(instance) if rules else []
    if relation_rules:
        errors = [*errors, *relation_rules(instance, many_to_many, creating)]
    if errors:
        raise ValidationFailed.from_errors(errors)
    _save(instance, actor=actor, reason=reason, many_to_many=many_to_many)
    return instance


def _require_channel_scope(actor, instance) -> None:
    """A channel-scoped API token edits only its own channels and their listings (before
    and after the change: a listing cannot be moved to or from another channel)."""
    if isinstance(instance, Channel):
        require_channel_scope(actor, instance)
    elif getattr(instance, "channel_id", None) is not None:  # a listing, a channel's policy
        require_channel_scope(actor, instance.channel_id)


# --- rules that span records -------------------------------------------------------------


def _sku_rules(sku: Sku, many_to_many: dict, creating: bool) -> list[FieldError]:
    substitutes = many_to_many.get("substitutes", [])
    if not creating and any(sub.pk == sku.pk for sub in substitutes):
        return [FieldError("substitutes", "self_substitute", "A SKU cannot substitute itself.")]
    return []


def _location_rules(location: Location, many_to_many: dict, creating: bool) -> list[FieldError]:
    if creating or location.active:
        return []
    sole = (
        Channel.objects.filter(eligible_locations=location, active=True)
        .annotate(
            nodes=models.Count(
                "eligible_locations", filter=models.Q(eligible_locations__active=True)
            )
        )
        .filter(nodes__lte=1)
        .values_list("code", flat=True)
    )
    if sole:
        return [
            FieldError(
                "active",
                "sole_location",
                f"Channels {', '.join(sole)} sell only from this location; give them another first.",
            )
        ]
    return []


def _channel_rules(channel: Channel, many_to_many: dict, creating: bool) -> list[FieldError]:
    if "eligible_locations" in many_to_many:
        locations = many_to_many["eligible_locations"]
    elif creating:
        locations = []
    else:
        return []
    if not locations:
        return [
            FieldError(
                "eligible_locations",
                "required",
                "Choose at least one location this channel sells from.",
            )
        ]
    inactive = [loc.code for loc in locations if not loc.active]
    if inactive:
        return [
            FieldError(
                "eligible_locations",
                "inactive",
                f"Inactive locations cannot sell: {', '.join(inactive)}.",
            )
        ]
    return []


def _listing_rules(listing: ChannelListing, many_to_many: dict, creating: bool) -> list[FieldError]:
    errors = []
    if listing.active and not listing.sku.active:
        errors.append(
            FieldError(
                "sku", "inactive_sku", f"SKU {listing.sku.code} is inactive; it cannot be listed."
            )
        )
    if listing.active and not listing.channel.active:
        errors.append(
            FieldError(
                "channel", "inactive_channel", f"Channel {listing.channel.code} is inactive."
            )
        )
    return errors


# --- services ------------------------------------------------------------------------------


def create_sku(*, actor, data: dict, reason: str = "created") -> Sku:
    """Create a SKU; codes and barcodes are unique, expiry tracking needs lot tracking."""
    return _write(Sku, instance=None, actor=actor, data=data, reason=reason, rules=_sku_rules)


def update_sku(*, sku: Sku, actor, data: dict, reason: str = "edited") -> Sku:
    """Edit a SKU; a SKU never substitutes itself."""
    return _write(Sku, instance=sku, actor=actor, data=data, reason=reason, rules=_sku_rules)


def create_location(*, actor, data: dict, reason: str = "created") -> Location:
    """Create a stock node; only stores keep a shelf floor."""
    return _write(
        Location, instance=None, actor=actor, data=data, reason=reason, rules=_location_rules
    )


def update_location(*, location: Location, actor, data: dict, reason: str = "edited") -> Location:
    """Edit a stock node; it cannot be deactivated while a channel sells only from it."""
    return _write(
        Location, instance=location, actor=actor, data=data, reason=reason, rules=_location_rules
    )


def create_channel(*, actor, data: dict, reason: str = "created") -> Channel:
    """Create a sales channel; it must sell from at least one active location."""
    return _write(
        Channel, instance=None, actor=actor, data=data, reason=reason, rules=_channel_rules
    )


def update_channel(*, channel: Channel, actor, data: dict, reason: str = "edited") -> Channel:
    """Edit a sales channel; it must keep at least one active location."""
    return _write(
        Channel, instance=channel, actor=actor, data=data, reason=reason, rules=_channel_rules
    )


def create_listing(*, actor, data: dict, reason: str = "created") -> ChannelListing:
    """List a SKU on a channel; an inactive SKU cannot be listed."""
    return _write(
        ChannelListing, instance=None, actor=actor, data=data, reason=reason, rules=_listing_rules
    )


def update_listing(
    *, listing: ChannelListing, actor, data: dict, reason: str = "edited"
) -> ChannelListing:
    """Edit a listing; an active listing needs an active SKU and channel."""
    return _write(
        ChannelListing,
        instance=listing,
        actor=actor,
        data=data,
        reason=reason,
        rules=_listing_rules,
    )


# --- catalog bulk upsert --------------------------------------------------------------------

BULK_SKU_FIELDS = [
    "name",
    "barcode",
    "unit_of_measure",
    "pack_quantity",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "unit_cost",
    "product_family",
    "lot_tracked",
    "serial_tracked",
    "expiry_tracked",
    "active",
]
MAX_BULK_ROWS = 1000


@dataclass
class BulkUpsertResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _bulk_duplicate_errors(rows: list[dict]) -> list[FieldError]:
    errors, seen_codes, seen_barcodes = [], {}, {}
    for index, row in enumerate(rows):
        code, barcode = row["code"], row.get("barcode", "")
        if code in seen_codes:
            errors.append(
                FieldError(
                    f"skus[{index}].code",
                    "duplicate",
                    f"Code {code} appears twice (rows {seen_codes[code]} and {index}).",
                )
            )
        seen_codes.setdefault(code, index)
        if barcode:
            if barcode in seen_barcodes:
                errors.append(
                    FieldError(
                        f"skus[{index}].barcode",
                        "duplicate",
                        f"Barcode {barcode} appears twice in this request.",
                    )
                )
            seen_barcodes.setdefault(barcode, index)
    return errors


def _bulk_row_errors(sku: Sku, *, prefix: str) -> list[FieldError]:
    """Field validation without per-row queries: uniqueness is checked set-based above and
    the database's check constraints are mirrored here (Django evaluates them with a query)."""
    try:
        sku.full_clean(exclude=["substitutes"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        return ValidationFailed.from_django(error, prefix=prefix).errors
    if sku.expiry_tracked and not sku.lot_tracked:
        return [
            FieldError(
                f"{prefix}expiry_tracked", "requires_lot", "Expiry tracking needs lot tracking."
            )
        ]
    return []


@transaction.atomic
def bulk_upsert_skus(
    *, actor, rows: list[dict], reason: str = "catalog upsert"
) -> BulkUpsertResult:
    """Create or update up to 1,000 SKUs by code, all or nothing.

    Idempotent: a row equal to the stored SKU changes nothing and writes no history.
    Validation runs over every row first; any error rejects the whole batch.
    """
    require_permission(actor, "erp.add_sku", action="add SKUs")
    require_permission(actor, "erp.change_sku", action="change SKUs")
    if len(rows) > MAX_BULK_ROWS:
        raise ValidationFailed(
            f"At most {MAX_BULK_ROWS} SKUs per request.", field="skus", code="too_many"
        )
    errors = _bulk_duplicate_errors(rows)
    codes = [row["code"] for row in rows]
    existing = {
        sku.code: sku
        for sku in Sku.objects.select_for_update().filter(code__in=codes).order_by("pk")
    }
    barcodes = [row["barcode"] for row in rows if row.get("barcode")]
    taken_barcodes = dict(Sku.objects.filter(barcode__in=barcodes).values_list("barcode", "code"))

    result, now = BulkUpsertResult(), timezone.now()
    to_create, to_update = [], []
    for index, row in enumerate(rows):
        sku = existing.get(row["code"])
        creating = sku is None
        sku = sku or Sku(code=row["code"])
        changed = [
            name for name in BULK_SKU_FIELDS if name in row and getattr(sku, name) != row[name]
        ]
        for name in changed:
            setattr(sku, name, row[name])
        if changed and not creating:
            sku.updated_at = now
        holder = taken_barcodes.get(sku.barcode)
        if sku.barcode and holder and holder != sku.code and holder not in codes:
            errors.append(
                FieldError(
                    f"skus[{index}].barcode",
                    "unique",
                    f"Barcode {sku.barcode} belongs to SKU {holder}.",
                )
            )
        row_errors = _bulk_row_errors(sku, prefix=f"skus[{index}].")
        if row_errors:
            errors.extend(row_errors)
            continue
        if creating:
            to_create.append(sku)
            result.created.append(sku.code)
        elif changed:
            to_update.append(sku)
            result.updated.append(sku.code)
        else:
            result.unchanged.append(sku.code)
    if errors:
        raise ValidationFailed.from_errors(errors)
    try:
        with transaction.atomic():
            if to_create:
                bulk_create_with_history(
                    to_create, Sku, batch_size=500, default_user=actor, default_change_reason=reason
                )
            if to_update:
                bulk_update_with_history(
                    to_update,
                    Sku,
                    fields=[*BULK_SKU_FIELDS, "updated_at"],
                    batch_size=500,
                    default_user=actor,
                    default_change_reason=reason,
                )
    except IntegrityError as error:
        raise ValidationFailed(
            "Another catalog write took one of these codes or barcodes; retry the request.",
            field="skus",
            code="unique",
        ) from error
    return result
