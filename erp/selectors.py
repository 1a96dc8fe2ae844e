"""Reads of master data and the outbox, shared by the API and the back office."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from erp.models import Channel, ChannelListing, Location, OutboxMessage, QueueClaim, Sku


def sku_list(*, search: str = "") -> QuerySet[Sku]:
    queryset = Sku.objects.all()
    if search:
        queryset = queryset.filter(
            Q(code__icontains=search) | Q(name__icontains=search) | Q(barcode=search)
        )
    return queryset


def location_list(*, search: str = "") -> QuerySet[Location]:
    queryset = Location.objects.all()
    if search:
        queryset = queryset.filter(
            Q(code__icontains=search) | Q(name__icontains=search) | Q(region__icontains=search)
        )
    return queryset


def channel_list(*, search: str = "") -> QuerySet[Channel]:
    queryset = Channel.objects.prefetch_related("eligible_locations").annotate(
        listing_count=Count("listings", distinct=True)
    )
    if search:
        queryset = queryset.filter(Q(code__icontains=search) | Q(name__icontains=search))
    return queryset


def listing_list(*, search: str = "") -> QuerySet[ChannelListing]:
    queryset = ChannelListing.objects.select_related("channel", "sku")
    if search:
        queryset = queryset.filter(
            Q(channel_sku__icontains=search)
            | Q(sku__code__icontains=search)
            | Q(external_listing_id=search)
        )
    return queryset


def failed_outbox_messages() -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED).select_related("endpoint")


def listings_of_inactive_skus() -> QuerySet[ChannelListing]:
    """Active listings whose SKU was deactivated after listing: the channel still sells it."""
    return ChannelListing.objects.filter(active=True, sku__active=False).select_related(
        "channel", "sku"
    )


def master_data_counts() -> dict[str, int]:
    return {
        "skus": Sku.objects.filter(active=True).count(),
        "locations": Location.objects.filter(active=True).count(),
        "channels": Channel.objects.filter(active=True).count(),
        "listings": ChannelListing.objects.filter(active=True).count(),
    }


# --- exception-queue ownership ------------------------------------------------------------

OWNER_VIEWS = ("everyone", "mine", "unassigned")


def rows_for_owner_view(rows: QuerySet, *, queue_key: str, view: str, user) -> QuerySet:
    """A queue's rows as one person's view of them: theirs, nobody's, or all."""
    if view not in ("mine", "unassigned"):
        return rows
    claims = QueueClaim.objects.filter(queue_key=queue_key, object_id=OuterRef("pk"))
    if view == "mine":
        return rows.filter(Exists(claims.filter(owner=user)))
    return rows.filter(~Exists(claims))


def claims_by_object(queue_key: str, object_ids: list[int]) -> dict[int, QueueClaim]:
    """The claims on these rows of one queue, with their owners (one query)."""
    claims = QueueClaim.objects.select_related("owner").filter(
        queue_key=queue_key, object_id__in=object_ids
    )
    return {claim.object_id: claim for claim in claims}


def attach_claims(queue_key: str, rows: list) -> list:
    """Set `queue_claim` (a QueueClaim or None) on each row of a page."""
    claims = claims_by_object(queue_key, [row.pk for row in rows])
    for row in rows:
        row.queue_claim = claims.get(row.pk)
    return rows


def queue_workers(owner_role: str) -> QuerySet:
    """Whom a manager may assign a queue's items to: the owning role and managers."""
    from django.contrib.auth import get_user_model

    from erp import roles

    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[owner_role, roles.MANAGER])
        .distinct()
        .order_by("username")
    )


def queue_export_rows(rows: QuerySet, *, queue_key: str, fields: tuple[str, ...]):
    """The queue's rows as CSV cells (fields, then owner and claim time), streamed."""
    claims = QueueClaim.objects.filter(queue_key=queue_key, object_id=OuterRef("pk"))
    return (
        rows.prefetch_related(None)
        .annotate(
            claim_owner=Subquery(claims.values("owner__username")[:1]),
            claim_time=Subquery(claims.values("claimed_at")[:1]),
        )
        .values_list(*fields, "claim_owner", "claim_time")
        .iterator(chunk_size=2000)
    )


def approval_policy_effect(policy, *, threshold, active: bool) -> list[str]:
    """What a new threshold (or switching the kind off) would change now, from the
    pending requests of the kind and those of the last 30 days: two aggregate queries."""
    from erp.models import ApprovalRequest

    threshold = Decimal(threshold)
    pending = ApprovalRequest.objects.filter(
        kind=policy.kind, state=ApprovalRequest.State.PENDING
    ).aggregate(
        total=Count("pk"),
        at_or_below=Count("pk", filter=Q(amount__lte=threshold)),
    )
    since = timezone.now() - timedelta(days=30)
    recent = ApprovalRequest.objects.filter(kind=policy.kind, requested_at__gte=since).aggregate(
        total=Count("pk"),
        at_or_below=Count("pk", filter=Q(amount__lte=threshold)),
    )
    noun = policy.label.lower()
    if not active:
        return [
            f"Switched off: no new {noun} waits for approval.",
            f"{pending['total']} pending request(s) stay in the inbox until decided.",
        ]
    lines = [
        f"{pending['total']} {noun} request(s) wait for approval now; "
        f"{pending['at_or_below']} of them are at or below {threshold} and a new one like "
        "them would no longer wait.",
        f"Of the {recent['total']} request(s) of the last 30 days, "
        f"{recent['at_or_below']} were at or below {threshold} and would not have waited.",
    ]
    if threshold != policy.threshold:
        lines.append(f"The threshold changes from {policy.threshold} to {threshold}.")
    return lines
