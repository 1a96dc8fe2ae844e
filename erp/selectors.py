"""Reads of master data and the outbox, shared by the API and the back office."""

from django.db.models import Count, Q, QuerySet

from erp.models import Channel, ChannelListing, Location, OutboxMessage, Sku


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
