"""Last use and request counts of API tokens, counted off the database's hot path.

Writing `request_count = request_count + 1` on every API request would add a row lock
and a WAL write to each call and serialize a busy integration's parallel requests on
one row. Instead each request does one atomic cache increment (Redis INCR) and,
at most every `LAST_USED_RESOLUTION` seconds per process and token, one cache write of
the time; `flush_token_usage` (beat, every minute, and whenever the tokens page opens)
moves the counts into the table with one UPDATE per token that was used.

Counts live in the shared cache: with several processes and no `CACHE_URL` (local-memory
cache) each process keeps its own counters and only the process that flushes is counted.
"""

import time
from datetime import UTC, datetime

from django.core.cache import cache
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest

from erp.models import ApiToken

LAST_USED_RESOLUTION = 30
# Counters outlive a missed flush or two; a day without a flush loses counts, not tokens.
COUNTER_TIMEOUT = 24 * 3600
_last_stamped: dict[int, float] = {}


def _count_key(token_id: int) -> str:
    return f"erp:token-use:{token_id}"


def _last_key(token_id: int) -> str:
    return f"erp:token-last:{token_id}"


def record_use(token_id: int) -> None:
    key = _count_key(token_id)
    try:
        cache.incr(key)
    except ValueError:  # first use since the last flush (or the counter expired)
        if not cache.add(key, 1, COUNTER_TIMEOUT):
            cache.incr(key)
    now = time.time()
    if now - _last_stamped.get(token_id, 0) >= LAST_USED_RESOLUTION:
        _last_stamped[token_id] = now
        cache.set(_last_key(token_id), now, COUNTER_TIMEOUT)


def flush_token_usage() -> int:
    """Add the counted requests to each token's row; returns how many requests moved."""
    ids = list(ApiToken.objects.values_list("pk", flat=True))
    if not ids:
        return 0
    counts = cache.get_many([_count_key(pk) for pk in ids])
    stamps = cache.get_many([_last_key(pk) for pk in ids])
    moved = 0
    for pk in ids:
        count = counts.get(_count_key(pk)) or 0
        stamp = stamps.get(_last_key(pk))
        if not count and stamp is None:
            continue
        if count:
            # Take exactly what was read: requests counted meanwhile stay for the next flush.
            cache.decr(_count_key(pk), count)
        update = {"request_count": F("request_count") + count}
        if stamp is not None:
            used = datetime.fromtimestamp(stamp, tz=UTC)
            update["last_used_at"] = Greatest(Coalesce(F("last_used_at"), used), used)
            cache.delete(_last_key(pk))
        ApiToken.objects.filter(pk=pk).update(**update)
        moved += count
    return moved
