"""The daily digest each active manager gets by e-mail, through the outbox.

Sections register with `register_digest_section(key, title, fn)`; `fn(manager, now)`
returns the lines to show (an empty list leaves the section out). A manager with nothing
in any section gets no e-mail: silence means all clear, and a daily "nothing to report"
would teach people to ignore the digest.

One message per manager per day (dedupe key `digest:<user id>:<date>`), so a beat that
fires twice, or a person re-running the task, never sends a second digest.
"""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from erp import roles
from erp.models import Endpoint, OutboxMessage
from erp.queues import all_queues
from erp.services.outbox import enqueue_messages

DIGEST_TOPIC = "insight.daily_digest"


@dataclass(frozen=True)
class DigestSection:
    key: str
    title: str
    lines: Callable[[object, datetime], list[str]]


_sections: dict[str, DigestSection] = {}


def register_digest_section(key: str, title: str, fn: Callable) -> DigestSection:
    section = DigestSection(key, title, fn)
    _sections[key] = section
    return section


def digest_sections() -> list[DigestSection]:
    return list(_sections.values())


def _age(delta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} d {hours % 24} h" if hours >= 24 else f"{hours} h"


_run_cache: ContextVar[dict | None] = ContextVar("digest_run_cache", default=None)


def once_per_run(key: str, compute: Callable[[], list[str]]) -> list[str]:
    """Figures every manager shares are computed once per digest run, not per manager."""
    cache = _run_cache.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _breached_queue_lines() -> list[str]:
    lines = []
    for queue in all_queues():
        summary = queue.summary()
        if summary["breached"]:
            lines.append(
                f"{queue.name}: {summary['count']} open, oldest {_age(summary['oldest_age'])} "
                f"(SLA {queue.sla_hours} h)"
            )
    return lines


def queues_past_sla(manager, now) -> list[str]:
    return list(once_per_run("queues_past_sla", _breached_queue_lines))


def _stale_sync_lines(now: datetime) -> list[str]:
    from insight.sync_health import stale_directions

    return list(
        f"{row.channel.code} · {row.label}: {row.stale_reason}"
        + (f" ({row.backlog} waiting, {row.failed} failed)" if row.backlog or row.failed else "")
        for row in stale_directions(now)
    )


def stale_channel_syncs(manager, now) -> list[str]:
    return list(once_per_run("channel_syncs_stale", lambda: _stale_sync_lines(now)))


def kpis_past_threshold(manager, now) -> list[str]:
    from insight.kpis.thresholds import crossed

    return [
        f"{row['name']}: {row['value']} ({row['direction']} {row['threshold']})"
        for row in once_per_run("kpis_past_threshold", lambda: crossed(timezone.localdate(now)))
    ]


register_digest_section("queues_past_sla", "Queues past SLA", queues_past_sla)
register_digest_section("channel_syncs_stale", "Channel syncs stale", stale_channel_syncs)
try:
    # KPIs and their thresholds live in insight.kpis (when present); the kpi module may
    # register this same key itself, which replaces this entry.
    import insight.kpis.thresholds  # noqa: F401
except ImportError:
    pass
else:
    register_digest_section("kpis_past_threshold", "KPIs past threshold", kpis_past_threshold)


def render_digest(manager, now) -> dict | None:
    """Subject and body of this manager's digest, or None when there is nothing to say."""
    parts = []
    for section in digest_sections():
        lines = section.lines(manager, now)
        if lines:
            parts.append("\n".join([section.title, *(f"  - {line}" for line in lines)]))
    if not parts:
        return None
    day = timezone.localdate(now)
    name = manager.get_full_name() or manager.get_username()
    body = f"Hello {name},\n\nWhat needs attention on {day:%Y-%m-%d}:\n\n" + "\n\n".join(parts)
    return {"subject": f"ERP daily digest {day:%Y-%m-%d}", "body": body + "\n"}


def digest_endpoint() -> Endpoint:
    """The endpoint digests go to: the configured code, created as an e-mail endpoint
    (Django's mail backend) the first time; an existing one (e.g. a mail relay webhook)
    is used as it is."""
    endpoint, _ = Endpoint.objects.get_or_create(
        code=settings.DIGEST_MAIL_ENDPOINT,
        defaults={"name": "E-mail (manager digests)", "kind": Endpoint.Kind.EMAIL, "url": ""},
    )
    return endpoint


def active_managers():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.MANAGER)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


@transaction.atomic
def send_daily_digests(*, now=None) -> int:
    """Queue today's digest for every active manager with something to report; returns
    how many were newly queued (a manager already sent today's digest keeps the first)."""
    now = now or timezone.now()
    token = _run_cache.set({})
    try:
        messages = _digest_messages(now)
    finally:
        _run_cache.reset(token)
    if not messages:
        return 0
    keys = [message["dedupe_key"] for message in messages]
    already = set(
        OutboxMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    endpoint = digest_endpoint()
    for message in messages:
        message["endpoint"] = endpoint
    enqueue_messages(messages)
    return len(set(keys) - already)


def _digest_messages(now) -> list[dict]:
    day = timezone.localdate(now)
    messages = []
    for manager in active_managers():
        digest = render_digest(manager, now)
        if digest is None:
            continue
        messages.append(
            {
                "topic": DIGEST_TOPIC,
                "endpoint": None,
                "payload": {"to": manager.email, **digest},
                "dedupe_key": f"digest:{manager.pk}:{day:%Y-%m-%d}",
            }
        )
    return messages
