"""Actions other apps offer on the order page, from a registry each app fills in its
`ready()`, so the orders templates name no other app's URL:

    register_order_action("create-rma", "Create RMA", "returns:create",
                          permission="returns.add_rma", states={"shipped", "closed"})

An action is a link to the app's own page (which does the work through its services):
by default `?order=<id>` is added to the URL (`query`); with `query=None` the order id
is the URL's argument. `states` limits the order states that offer it (None: all).
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse


@dataclass(frozen=True)
class OrderPageAction:
    key: str
    label: str
    url_name: str
    permission: str | None
    states: frozenset[str] | None
    order: int
    query: str | None

    def offered(self, user, order) -> bool:
        if self.states is not None and order.state not in self.states:
            return False
        return self.permission is None or user.has_perm(self.permission)

    def url(self, order) -> str:
        if self.query is None:
            return reverse(self.url_name, args=[order.pk])
        return f"{reverse(self.url_name)}?{urlencode({self.query: order.pk})}"


@dataclass(frozen=True)
class OrderPageLink:
    key: str
    label: str
    url: str


_actions: dict[str, OrderPageAction] = {}


def register_order_action(
    key: str,
    label: str,
    url_name: str,
    *,
    permission: str | None = None,
    states=None,
    order: int = 100,
    query: str | None = "order",
) -> None:
    """Add (or replace, by key) an action shown on the order page."""
    _actions[key] = OrderPageAction(
        key, label, url_name, permission, frozenset(states) if states else None, order, query
    )


def unregister_order_action(key: str) -> None:
    _actions.pop(key, None)


def actions_for(user, order) -> list[OrderPageLink]:
    """The registered actions `user` may take on `order` in its current state."""
    ordered = sorted(_actions.values(), key=lambda a: (a.order, a.label))
    return [OrderPageLink(a.key, a.label, a.url(order)) for a in ordered if a.offered(user, order)]
