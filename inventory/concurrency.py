"""Race many reservations against one SKU, each worker on its own database connection.

Used by the concurrency test and by `bench oversell`; it reports what the rules allowed
and what was actually reserved, so any oversell is a number, not a guess.
"""

import threading
import time
from dataclasses import dataclass

from django.db import OperationalError, close_old_connections, connections

from erp.errors import DomainError
from inventory.models import Reservation, StockBalance
from inventory.services.reservations import reserve_stock


@dataclass
class RaceResult:
    attempts: int
    successes: int
    refusals: int
    errors: int
    elapsed: float
    reserved_for_channel: int
    allowed_for_channel: int
    reserved_total: int
    on_hand: int

    @property
    def oversold(self) -> int:
        over_channel = max(0, self.reserved_for_channel - self.allowed_for_channel)
        over_stock = max(0, self.reserved_total - self.on_hand)
        return max(over_channel, over_stock)


def race_reservations(
    *,
    sku,
    location,
    channel,
    actor,
    workers: int,
    attempts_per_worker: int,
    allowed_for_channel: int,
) -> RaceResult:
    counters = {"attempts": 0, "successes": 0, "refusals": 0, "errors": 0}
    lock = threading.Lock()
    start = threading.Barrier(workers)

    def work(worker: int) -> None:
        close_old_connections()
        try:
            start.wait()
            for attempt in range(attempts_per_worker):
                outcome = "successes"
                try:
                    reserve_stock(
                        sku=sku,
                        location=location,
                        channel=channel,
                        quantity=1,
                        actor=actor,
                        line_reference=f"race-{worker}-{attempt}",
                    )
                except DomainError:
                    outcome = "refusals"
                except OperationalError:
                    outcome = "errors"
                with lock:
                    counters["attempts"] += 1
                    counters[outcome] += 1
        finally:
            connections.close_all()

    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    balance = StockBalance.objects.get(sku=sku, location=location, status="sellable")
    reserved_for_channel = sum(
        Reservation.objects.filter(sku=sku, channel=channel, state="active").values_list(
            "quantity", flat=True
        )
    )
    return RaceResult(
        elapsed=elapsed,
        reserved_for_channel=reserved_for_channel,
        allowed_for_channel=allowed_for_channel,
        reserved_total=balance.reserved,
        on_hand=balance.on_hand,
        **counters,
    )
