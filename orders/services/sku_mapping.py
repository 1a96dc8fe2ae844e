"""Which of our SKUs a channel's line is: the one rule, for new orders, lines a channel edit
adds, and unmapped lines looked up again when CS releases a hold.

A line maps through the channel's *active* listing — by the seller SKU first (the unique
index), else by the channel's item id — to an *active* SKU; anything else stays unmapped
(and holds its order). The SKU's substitutes come back beside it, as data, for routing to
lock their stock in the same pass. Ingestion runs this for every order, so it is one
hand-written query per lookup column (allow-listed for raw SQL in pyproject.toml).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection

from erp import fastsql
from erp.models import Channel, ChannelListing, Sku

LineKey = tuple[str, str]  # (channel SKU, channel item id)


@dataclass(frozen=True)
class SkuMapping:
    skus: dict[LineKey, Sku | None]
    substitutes: dict[int, list[int]] = field(default_factory=dict)  # sku id → substitute ids

    def sku_for(self, channel_sku: str, item_id: str) -> Sku | None:
        return self.skus.get((channel_sku, item_id))


def map_channel_skus(channel: Channel, keys: Iterable[LineKey]) -> SkuMapping:
    """Map each (channel SKU, item id) to our SKU: one query by seller SKU, a second by
    item id only for what the first left unmapped."""
    keys = list(dict.fromkeys(keys))
    substitutes: dict[int, list[int]] = defaultdict(list)
    seller_skus = sorted({sku for sku, _ in keys if sku})
    by_sku = _listings(channel, "channel_sku", seller_skus, substitutes) if seller_skus else {}
    items = sorted({item for sku, item in keys if item and sku not in by_sku})
    by_item = _listings(channel, "external_listing_id", items, substitutes) if items else {}
    return SkuMapping(
        skus={(sku, item): by_sku.get(sku) or by_item.get(item) for sku, item in keys},
        substitutes=dict(substitutes),
    )


_SKU_FIELDS = list(Sku._meta.concrete_fields)


def _listings(channel: Channel, column: str, values: list[str], substitutes) -> dict[str, Sku]:
    columns = ", ".join(f"s.{connection.ops.quote_name(f.column)}" for f in _SKU_FIELDS)
    sql = f"""
        SELECT l.{column}, sub.to_sku_id, {columns}
          FROM {ChannelListing._meta.db_table} l
          JOIN {Sku._meta.db_table} s ON s.id = l.sku_id AND s.active
          LEFT JOIN {Sku.substitutes.through._meta.db_table} sub ON sub.from_sku_id = s.id
         WHERE l.channel_id = %s AND l.active AND l.{column} IN ({fastsql.in_list(values)})
    """
    with fastsql.cursor() as cursor:
        cursor.execute(sql, [channel.pk, *values])
        rows = cursor.fetchall()
    found, mapping = {}, {}
    for key, substitute_id, *sku_values in rows:
        sku = found.get(sku_values[0])
        if sku is None:
            sku = found[sku_values[0]] = Sku.from_db(
                connection.alias, [f.attname for f in _SKU_FIELDS], sku_values
            )
            substitutes.setdefault(sku.pk, [])
        if substitute_id and substitute_id not in substitutes[sku.pk]:
            substitutes[sku.pk].append(substitute_id)
        mapping[key] = sku
    return mapping
