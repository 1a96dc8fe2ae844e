"""Hand-written statements for the warehouse's hot rows: the pick task a scanner confirms
and the reads a pick or a package makes every time (prepared statements through
`erp.fastsql`, rather than ORM queries compiled on every scan)."""

from functools import cache

from erp import fastsql
from erp.models import Location, Sku
from fulfillment.models import (
    Carrier,
    CarrierService,
    Package,
    PackageLine,
    PickList,
    PickTask,
    RateCard,
    Shipment,
)
from orders.models import Allocation, Order, OrderLine
from orders.services.locking import lock_order_where

T = PickTask.State


def _lock_order_of(model, row_id: int) -> Order | None:
    """Lock the order of a pick task or package (the order comes first in the fixed lock
    order)."""
    return lock_order_where(
        f"o.id = (SELECT order_id FROM {model._meta.db_table} WHERE id = %s)", [row_id]
    )


def lock_order_of_task(task_id: int) -> Order | None:
    return _lock_order_of(PickTask, task_id)


@cache
def _task_sql() -> str:
    return (
        f"SELECT {fastsql.column_list(PickTask, 't')}, {fastsql.column_list(PickList, 'pl')},"
        f" {fastsql.column_list(Sku, 's')}, {fastsql.column_list(Location, 'l')}"
        f" FROM {PickTask._meta.db_table} t"
        f" JOIN {PickList._meta.db_table} pl ON pl.id = t.pick_list_id"
        f" JOIN {Sku._meta.db_table} s ON s.id = t.sku_id"
        f" JOIN {Location._meta.db_table} l ON l.id = t.location_id"
        f" WHERE t.id = %s{fastsql.for_update('t, pl')}"
    )


def lock_task(task_id: int) -> PickTask | None:
    """The task and its pick list, locked, with its SKU, node and pick list loaded (as
    `select_related("sku", "location", "pick_list")`)."""
    with fastsql.cursor() as cur:
        cur.execute(_task_sql(), [task_id])
        row = cur.fetchone()
    if row is None:
        return None
    task = fastsql.build(PickTask, row)
    start = fastsql.width(PickTask)
    cache_ = task._state.fields_cache
    for name, model in (("pick_list", PickList), ("sku", Sku), ("location", Location)):
        cache_[name] = fastsql.build(model, row, start)
        start += fastsql.width(model)
    return task


def has_open_tasks(pick_list_id: int) -> bool:
    with fastsql.cursor() as cur:
        cur.execute(
            f"SELECT 1 FROM {PickTask._meta.db_table} WHERE pick_list_id = %s AND state = %s"
            " LIMIT 1",
            [pick_list_id, T.OPEN],
        )
        return cur.fetchone() is not None


@cache
def _lines_sql() -> str:
    return (
        f"SELECT {fastsql.column_list(OrderLine, 'ol')}, {fastsql.column_list(Sku, 's')}"
        f" FROM {OrderLine._meta.db_table} ol LEFT JOIN {Sku._meta.db_table} s ON s.id = ol.sku_id"
        " WHERE ol.order_id = %s ORDER BY ol.id"
    )


def order_lines_with_skus(order_id: int) -> list[OrderLine]:
    """The order's lines with their SKUs (as `order.lines.select_related("sku")`)."""
    with fastsql.cursor() as cur:
        cur.execute(_lines_sql(), [order_id])
        rows = cur.fetchall()
    start, lines = fastsql.width(OrderLine), []
    for row in rows:
        line = fastsql.build(OrderLine, row)
        line._state.fields_cache["sku"] = (
            fastsql.build(Sku, row, start) if line.sku_id is not None else None
        )
        lines.append(line)
    return lines


_TASKS, _PACKAGES, _PACKAGE_LINES = (
    PickTask._meta.db_table,
    Package._meta.db_table,
    PackageLine._meta.db_table,
)


def picked_and_packed(order_id: int, location_id: int) -> list[tuple[int, int, int]]:
    """(line id, units picked, units packed) at the node, per line with a live pick task
    (`packing.packable_quantities` says what that means)."""
    with fastsql.cursor() as cur:
        cur.execute(
            f"SELECT t.line_id, SUM(t.quantity_picked), COALESCE(("
            f"SELECT SUM(pl.quantity) FROM {_PACKAGE_LINES} pl"
            f" JOIN {_PACKAGES} p ON p.id = pl.package_id"
            " WHERE p.order_id = %s AND p.location_id = %s AND pl.line_id = t.line_id), 0)"
            f" FROM {_TASKS} t WHERE t.order_id = %s AND t.location_id = %s AND t.state <> %s"
            " GROUP BY t.line_id",
            [order_id, location_id, order_id, location_id, T.CANCELLED],
        )
        return cur.fetchall()


def packing_progress(order_id: int) -> tuple[bool, bool, int, int]:
    """(an active allocation of ours has no live pick task, a task is still open, units
    picked, units packed) for the order, everywhere (`packing._everything_packed` decides)."""
    with fastsql.cursor() as cur:
        cur.execute(
            f"SELECT EXISTS (SELECT 1 FROM {Allocation._meta.db_table} a"
            f" JOIN {OrderLine._meta.db_table} ol ON ol.id = a.line_id"
            " WHERE ol.order_id = %s AND a.active AND NOT a.dropship AND a.quantity > 0"
            f" AND NOT EXISTS (SELECT 1 FROM {_TASKS} t"
            " WHERE t.allocation_id = a.id AND t.state <> %s)),"
            f" EXISTS (SELECT 1 FROM {_TASKS} t WHERE t.order_id = %s AND t.state = %s),"
            f" COALESCE((SELECT SUM(t.quantity_picked) FROM {_TASKS} t"
            " WHERE t.order_id = %s AND t.state <> %s), 0),"
            f" COALESCE((SELECT SUM(pl.quantity) FROM {_PACKAGE_LINES} pl"
            f" JOIN {_PACKAGES} p ON p.id = pl.package_id WHERE p.order_id = %s), 0)",
            [order_id, T.CANCELLED, order_id, T.OPEN, order_id, T.CANCELLED, order_id],
        )
        return cur.fetchone()


def lock_order_of_package(package_id: int) -> Order | None:
    return _lock_order_of(Package, package_id)


@cache
def _package_sql() -> str:
    return (
        f"SELECT {fastsql.column_list(Package, 'p')}, {fastsql.column_list(Location, 'l')},"
        f" EXISTS (SELECT 1 FROM {_PACKAGE_LINES} pl WHERE pl.package_id = p.id)"
        f" FROM {_PACKAGES} p JOIN {Location._meta.db_table} l ON l.id = p.location_id"
        " WHERE p.id = %s"
    )


def package_with_location(package_id: int) -> tuple[Package | None, bool]:
    """The package with its node loaded (as `select_related("location")`), and whether
    it holds any line."""
    with fastsql.cursor() as cur:
        cur.execute(_package_sql(), [package_id])
        row = cur.fetchone()
    if row is None:
        return None, False
    package = fastsql.build(Package, row)
    start = fastsql.width(Package)
    package._state.fields_cache["location"] = fastsql.build(Location, row, start)
    return package, bool(row[start + fastsql.width(Location)])


def tracking_number_taken(carrier_id: int, tracking_number: str) -> bool:
    with fastsql.cursor() as cur:
        cur.execute(
            f"SELECT 1 FROM {Shipment._meta.db_table}"
            " WHERE carrier_id = %s AND tracking_number = %s LIMIT 1",
            [carrier_id, tracking_number],
        )
        return cur.fetchone() is not None


@cache
def _services_sql() -> str:
    return (
        f"SELECT {fastsql.column_list(CarrierService, 'cs')},"
        f" {fastsql.column_list(Carrier, 'c')}, {fastsql.column_list(RateCard, 'r')}"
        f" FROM {CarrierService._meta.db_table} cs"
        f" JOIN {Carrier._meta.db_table} c ON c.id = cs.carrier_id"
        f" LEFT JOIN {RateCard._meta.db_table} r"
        " ON r.service_id = cs.id AND r.origin_region = %s AND r.zone = %s"
        " WHERE cs.active AND c.active ORDER BY c.code, cs.code, r.min_weight_grams"
    )


def services_with_lane_rates(region: str, zone: str) -> list[CarrierService]:
    """Active services of active carriers (by carrier and service code), each with its
    carrier loaded and `lane_rates`: its rate-card bands from `region` to `zone`, lightest
    first. One statement (`rates` decides what they mean)."""
    with fastsql.cursor() as cur:
        cur.execute(_services_sql(), [region, zone])
        rows = cur.fetchall()
    service_width, carrier_width = fastsql.width(CarrierService), fastsql.width(Carrier)
    services: dict[int, CarrierService] = {}
    for row in rows:
        service = services.get(row[0])
        if service is None:
            service = services[row[0]] = fastsql.build(CarrierService, row)
            service._state.fields_cache["carrier"] = fastsql.build(Carrier, row, service_width)
            service.lane_rates = []
        if row[service_width + carrier_width] is not None:
            rate = fastsql.build(RateCard, row, service_width + carrier_width)
            rate._state.fields_cache["service"] = service
            service.lane_rates.append(rate)
    return list(services.values())
