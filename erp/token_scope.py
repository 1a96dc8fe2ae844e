"""What an API token may do: the one place its scope is decided.

A scoped token (erp.models.ApiToken) names the API areas it may read or write and the
channels it may act for. Two callers ask here:

- `erp.api.permissions.TokenScopePermission` (a default DRF permission) checks the area
  of every API view, and the channel when the URL names one (`/channels/{code}/…`);
- services whose channel comes from the payload (an order's channel, an RMA's order, a
  listing's channel) call `require_channel_scope(actor, channel)` before writing.

A request made with a session or a legacy DRF token has no scope: both answer "allowed".
"""

from django.core.exceptions import FieldDoesNotExist

from erp.errors import NotPermitted
from erp.models import ApiAccess, ApiArea, ApiToken

# The API area of a view is the app its module belongs to (`orders.api.views` → orders).
AREA_OF_APP = {
    "erp": ApiArea.MASTER_DATA,
    "inventory": ApiArea.INVENTORY,
    "orders": ApiArea.ORDERS,
    "fulfillment": ApiArea.FULFILLMENT,
    "returns": ApiArea.RETURNS,
    "purchasing": ApiArea.PURCHASING,
    "finance": ApiArea.FINANCE,
    "insight": ApiArea.INSIGHT,
}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def token_of(user) -> ApiToken | None:
    """The scoped token the request authenticated with (set by the auth class)."""
    return getattr(user, "_scoped_api_token", None)


def area_of_view(view) -> str | None:
    """A view may name its area (`api_area`); otherwise its app decides. None: unknown
    (a scoped token is refused there: scopes fail closed)."""
    explicit = getattr(view, "api_area", None)
    if explicit:
        return explicit
    return AREA_OF_APP.get(type(view).__module__.split(".", 1)[0])


def area_refusal(token: ApiToken, area: str | None, method: str) -> str | None:
    """Why `token` may not use `method` on `area`, or None when it may."""
    if area is None:
        return "This token's scope does not cover this endpoint."
    access = token.access(area)
    label = ApiArea(area).label.lower()
    if access == ApiAccess.NONE:
        return f"This token has no access to {label}."
    if access == ApiAccess.READ and method not in SAFE_METHODS:
        return f"This token may only read {label}."
    return None


def channel_allowed(token: ApiToken, channel_id: int | None) -> bool:
    if token.all_channels:
        return True
    return channel_id is not None and channel_id in token_channel_ids(token)


def token_channel_ids(token: ApiToken) -> frozenset[int]:
    """Loaded with the token by the auth class (cached with it), so no query here."""
    cached = getattr(token, "_channel_ids", None)
    if cached is None:
        cached = frozenset(token.channels.values_list("pk", flat=True))
        token._channel_ids = cached
    return cached


def require_channel_scope(actor, channel) -> None:
    """Raise NotPermitted (403, nothing written) when `actor` is a scoped token whose
    channels do not include `channel` (a Channel or its id). Call before any write."""
    token = token_of(actor)
    if token is None:
        return
    channel_id = channel if isinstance(channel, int) else getattr(channel, "pk", None)
    if not channel_allowed(token, channel_id):
        code = getattr(channel, "code", f"#{channel}")
        raise NotPermitted(
            f"Channel {code} is outside this token's scope.",
            field="channel",
            code="channel_out_of_scope",
        )


def scoped_to_token_channels(user, queryset):
    """Only the rows of the token's channels, for models that belong to a channel."""
    token = token_of(user)
    if token is None or token.all_channels:
        return queryset
    model = queryset.model
    if model._meta.label == "erp.Channel":
        return queryset.filter(pk__in=token_channel_ids(token))
    try:
        field = model._meta.get_field("channel")
    except FieldDoesNotExist:
        return queryset
    if not field.is_relation:
        return queryset
    return queryset.filter(channel_id__in=token_channel_ids(token))
