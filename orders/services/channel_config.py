"""What ingestion and routing read about a channel on every order, cached briefly.

A channel, its order policy, its eligible nodes and which channels share them are
configuration: edited a few times a day, read on every order. They are kept in the
cache for `CHANNEL_CONFIG_CACHE_SECONDS`; every cached entry carries a version that any
save or delete of a channel, a location or an order policy, and any change of a
channel's eligible nodes, bumps. Where the cache is shared (Redis) an edit applies to
the next order; processes with their own local-memory cache see it within the timeout.
Stock and reservations are never cached: they are read under the lock. Allocation rules
are read with the stock, except that the cache knows which channels ring-fence stock at
all (a rule saved or deleted bumps the version too).
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

from erp.models import Channel, Location
from inventory.models import AllocationRule
from orders.models import ChannelOrderPolicy

VERSION_KEY = "orders:channel-config-version"


def _timeout() -> int:
    return getattr(settings, "CHANNEL_CONFIG_CACHE_SECONDS", 10)


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = 1
        cache.add(VERSION_KEY, version, None)
    return version


def bump_config_version(**kwargs) -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, None)


@dataclass
class ChannelConfig:
    policy: ChannelOrderPolicy
    routing_nodes: list[Location]  # eligible, active, can ship, not drop-ship
    pool_location_ids: frozenset[int]  # eligible and active, any kind: the channel's pool
    sharing_channel_ids: list[int]  # active channels selling from a node of this one
    # Of those, the others that ring-fence stock (an allocation rule protecting units):
    # when there are none, what this channel may reserve is its whole pool.
    ring_fencing_channel_ids: list[int]


def _load(channel: Channel) -> ChannelConfig:
    policy = ChannelOrderPolicy.objects.filter(channel_id=channel.pk).first()
    eligible = list(channel.eligible_locations.filter(active=True).order_by("pk"))
    through = Channel.eligible_locations.through
    shared = through.objects.filter(
        location_id__in=through.objects.filter(channel_id=channel.pk).values("location_id")
    ).values("channel_id")
    sharing = list(
        Channel.objects.filter(active=True, pk__in=shared).values_list("pk", flat=True).distinct()
    )
    ring_fencing = (
        AllocationRule.objects.filter(channel_id__in=sharing, protected__gt=0)
        .exclude(channel_id=channel.pk)
        .values_list("channel_id", flat=True)
        .distinct()
    )
    return ChannelConfig(
        ring_fencing_channel_ids=sorted(ring_fencing),
        policy=policy or ChannelOrderPolicy(channel_id=channel.pk),
        routing_nodes=[n for n in eligible if n.can_ship and n.kind != Location.Kind.DROPSHIP],
        pool_location_ids=frozenset(n.pk for n in eligible),
        sharing_channel_ids=sorted(sharing),
    )


def config_for(channel: Channel) -> ChannelConfig:
    """The channel's routing configuration (memoized on the instance for the request)."""
    config = getattr(channel, "_routing_config", None)
    if config is None:
        key = f"orders:channel-config:{channel.pk}:{_version()}"
        config = cache.get(key)
        if config is None:
            config = _load(channel)
            cache.set(key, config, _timeout())
        config.policy.channel = channel
        channel._routing_config = config
    return config


def active_channel(code: str) -> Channel | None:
    """The active channel with this code (cached like its configuration)."""
    key = f"orders:channel:{code}:{_version()}"
    channel = cache.get(key)
    if channel is None:
        channel = Channel.objects.filter(code=code, active=True).first()
        if channel is None:
            return None
        cache.set(key, channel, _timeout())
    return channel


for model in (Channel, Location, ChannelOrderPolicy, AllocationRule):
    post_save.connect(bump_config_version, sender=model, dispatch_uid=f"channel-config-{model}")
    post_delete.connect(bump_config_version, sender=model, dispatch_uid=f"channel-config-d-{model}")
m2m_changed.connect(
    bump_config_version,
    sender=Channel.eligible_locations.through,
    dispatch_uid="channel-config-eligible",
)
