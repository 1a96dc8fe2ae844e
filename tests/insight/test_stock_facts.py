"""The stock facts kept current from the ledger (insight.services.stock_facts): refreshed
day by day as the ledger grows, they hold what the rules in the module's docstring give
when applied naively, SKU × node × day, and what a full rebuild gives."""

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from insight.kpis.tasks import rebuild_stock_facts
from insight.models import FactRefresh, StockDayFact, StockPairState
from insight.services.facts import refresh_facts
from insight.services.stock_facts import (
    AGE_CAP,
    CARRIED_DAYS,
    VELOCITY_DAYS,
    WATERMARK,
    refresh_stock_facts,
)
from inventory.models import MovementKind, StockStatus
from inventory.services.ledger import Movement, post_movements
from tests.factories.erp import LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db

START = date(2026, 3, 2)


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone())


def post(actor, sku, node, quantity, when, kind, book):
    post_movements(
        movements=[Movement(sku.pk, node.pk, StockStatus.SELLABLE, quantity)],
        kind=kind,
        actor=actor,
        occurred_at=when,
    )
    book.append((sku, node, when.date(), quantity, kind))


def naive_facts(book, last: date) -> dict:
    """Each rule of the module's docstring applied pair by pair and day by day."""
    # pair → day → [net, shipped, arrived]
    moves = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for sku, node, day, quantity, kind in book:
        moves[(sku, node)][day][0] += quantity
        if kind == MovementKind.SHIPMENT:
            moves[(sku, node)][day][1] -= quantity
        if quantity > 0:
            moves[(sku, node)][day][2] += quantity
    facts = defaultdict(lambda: [0, 0, 0, 0, Decimal(0), 0, 0, 0, 0, 0])
    for (sku, node), days in moves.items():
        first = min(days)
        ends, balance = {}, 0
        day = first - timedelta(days=1)
        ends[day] = 0
        while day < last:
            day += timedelta(days=1)
            balance += days.get(day, [0, 0])[0]
            ends[day] = balance

        def end(day, ends=ends):
            return ends.get(day, 0)

        last_move = velocity = None
        day = first
        while day <= last:
            if day in days:
                last_move = day
                if end(day) <= 0:
                    window = [day - timedelta(days=n) for n in range(VELOCITY_DAYS)]
                    shipped = sum(days.get(x, [0, 0])[1] for x in window)
                    stocked = sum(1 for x in window if end(x - timedelta(days=1)) > 0 or end(x) > 0)
                    velocity = (
                        (Decimal(shipped) / stocked).quantize(
                            Decimal("0.000001"), rounding=ROUND_HALF_UP
                        )
                        if stocked
                        else Decimal(0)
                    )
            fact = facts[(day, node.pk, sku.product_family)]
            if day in days:
                fact[3] += days[day][1]
            if end(day) > 0:
                fact[0] += 1
                fact[2] += end(day)
                # The units on hand are the latest to arrive: age each, newest first.
                left = end(day)
                for arrived in sorted((x for x in days if x <= day), reverse=True):
                    take = min(left, days[arrived][2])
                    age_units(fact, take, min((day - arrived).days, AGE_CAP))
                    left -= take
                age_units(fact, left, AGE_CAP)
            elif (day - last_move).days <= CARRIED_DAYS:
                fact[0] += 1
                fact[1] += 1
                fact[4] += velocity
            day += timedelta(days=1)
    return {key: tuple(value) for key, value in facts.items() if value[0] or value[3]}


def age_units(fact, units, age):
    bucket = 5 if age <= 30 else 6 if age <= 90 else 7 if age <= 180 else 8
    fact[bucket] += units
    fact[9] += units * age


def stored_facts() -> dict:
    return {
        (fact.day, fact.node_id, fact.family): (
            fact.carried,
            fact.out,
            fact.on_hand,
            fact.shipped,
            fact.lost,
            fact.age_0_30,
            fact.age_31_90,
            fact.age_91_180,
            fact.age_over_180,
            fact.age_unit_days,
        )
        for fact in StockDayFact.objects.all()
    }


@pytest.fixture
def pairs():
    east, west = LocationFactory(code="WH1"), LocationFactory(code="WH2")
    skus = [
        SkuFactory(code="FAST", product_family="shoes"),
        SkuFactory(code="SLOW", product_family="shoes"),
        SkuFactory(code="HAT", product_family="hats"),
    ]
    return [(sku, node) for sku in skus for node in (east, west)]


def test_daily_refreshes_hold_what_the_rules_give_and_what_a_rebuild_gives(manager, pairs):
    rng, book = random.Random(16), []
    balances = defaultdict(int)
    idle = pairs[-1]  # sells out on day 3 and never moves again: carried for 90 days only
    post(manager, *idle, 4, at(START, 9), MovementKind.RECEIPT, book)
    # A slow mover received 300 days before: its units pass 180 days and the 365-day cap.
    aged = (SkuFactory(code="BOOT", product_family="boots"), pairs[0][1])
    post(manager, *aged, 30, at(START - timedelta(days=300), 9), MovementKind.RECEIPT, book)
    refreshes = 0
    for offset in range(130):
        day = START + timedelta(days=offset)
        if offset == 3:
            post(manager, *idle, -4, at(day, 11), MovementKind.SHIPMENT, book)
        if offset % 40 == 20:
            post(manager, *aged, -2, at(day, 12), MovementKind.SHIPMENT, book)
            post(manager, *aged, 1, at(day, 13), MovementKind.RETURN_RECEIPT, book)
        for pair in pairs[:-1]:
            if rng.random() < 0.18:
                units = rng.randint(1, 8)
                post(manager, *pair, units, at(day, 8), MovementKind.RECEIPT, book)
                balances[pair] += units
            if balances[pair] and rng.random() < 0.5:
                units = rng.randint(1, balances[pair])
                post(manager, *pair, -units, at(day, 14), MovementKind.SHIPMENT, book)
                balances[pair] -= units
            if balances[pair] and rng.random() < 0.03:  # found short on a count
                post(manager, *pair, -1, at(day, 16), MovementKind.ADJUSTMENT, book)
                balances[pair] -= 1
        # Refreshes come late in the evening, just after midnight, or skip days.
        if offset % 4 == 1:
            continue
        hour = timedelta(hours=23) if offset % 3 else timedelta(days=1, minutes=2)
        result = refresh_stock_facts(now=at(day, 0) + hour)
        refreshes += 1
        assert not result.full or refreshes == 1
    last = START + timedelta(days=129)
    refresh_stock_facts(now=at(last, 23))

    expected = naive_facts(book, last)
    assert stored_facts() == expected
    # The idle pair: out and carried for the 90 days after it sold out, then not carried.
    sold_out = START + timedelta(days=3)
    idle_key = (sold_out + timedelta(days=CARRIED_DAYS), idle[1].pk, "hats")
    assert expected[idle_key][1] >= 1
    assert sum(value[1] for value in expected.values()) > 100
    assert sum(value[4] for value in expected.values()) > 0
    boots = expected[(last, aged[1].pk, "boots")]
    # 24 of the 30 received (capped at 365 days), and one returned unit 109, 69, 29 days ago.
    assert boots[2] == 27
    assert boots[5:] == (1, 1, 1, 24, 24 * 365 + 109 + 69 + 29)

    assert refresh_stock_facts(full=True, now=at(last, 23)).full
    assert stored_facts() == expected


def test_a_movement_recorded_late_for_a_final_day_rebuilds_everything(manager, pairs):
    book = []
    sku, node = pairs[0]
    post(manager, sku, node, 5, at(START, 9), MovementKind.RECEIPT, book)
    post(manager, sku, node, -5, at(START + timedelta(days=2), 9), MovementKind.SHIPMENT, book)
    now = at(START + timedelta(days=6), 12)
    assert refresh_stock_facts(now=now).full  # the first time
    assert not refresh_stock_facts(now=now).full
    assert StockPairState.objects.get().last_move == START + timedelta(days=2)

    # A count posted today for three days ago: the final days must change.
    post(manager, sku, node, 2, at(START + timedelta(days=3), 9), MovementKind.ADJUSTMENT, book)
    assert refresh_stock_facts(now=now).full
    assert stored_facts() == naive_facts(book, START + timedelta(days=6))
    assert StockPairState.objects.get().layers == [[str(START + timedelta(days=3)), 2]]
    state = FactRefresh.objects.get(name=WATERMARK)
    assert state.final_day == START + timedelta(days=5)


def test_the_beat_refresh_keeps_the_stock_facts_current(manager, pairs):
    sku, node = pairs[0]
    post_movements(
        movements=[Movement(sku.pk, node.pk, StockStatus.SELLABLE, 7)],
        kind=MovementKind.RECEIPT,
        actor=manager,
    )
    refresh_facts()
    today = timezone.localdate()
    fact = StockDayFact.objects.get(day=today, node=node)
    assert (fact.carried, fact.out, fact.on_hand) == (1, 0, 7)


def test_the_nightly_rebuild_takes_a_sku_out_of_past_days(settings, manager, pairs):
    entry = settings.CELERY_BEAT_SCHEDULE["insight-rebuild-stock-facts"]
    assert entry["task"] == "insight.kpis.tasks.rebuild_stock_facts"
    sku, node = pairs[0]
    book = []
    post(manager, sku, node, 5, at(START, 9), MovementKind.RECEIPT, book)
    now = at(START + timedelta(days=4), 12)
    refresh_stock_facts(now=now)
    assert StockDayFact.objects.filter(node=node, family="shoes").count() == 5

    sku.active = False  # no longer sold: no ledger entry says so
    sku.save()
    refresh_stock_facts(now=now)
    assert StockDayFact.objects.filter(node=node, family="shoes").count() == 4  # final days
    rebuild_stock_facts.apply()
    assert not StockDayFact.objects.filter(node=node, family="shoes").exists()
