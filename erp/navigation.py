"""The back office's main navigation, from a registry each app fills in its `ready()`.

    register_nav("Operations", "Orders", "orders:list", "orders.view_order", current="orders")

`templates/base.html` renders the entries a user may open, grouped into a few sections,
so it names no app's URL. `current` is the `section` a page puts in its context; the
entry with that key is marked as the current page. `permission` is a permission name, or
a callable taking the user (for entries decided by role), or None (every signed-in
person). A user's rendered navigation is cached under the permission version
(`erp.auth_backends`): a change of roles or permissions shows at once.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse

from erp.auth_backends import _timeout, _version

SECTIONS = ["Operations", "Warehouse", "Purchasing", "Finance", "Insight", "Settings"]


@dataclass(frozen=True)
class NavEntry:
    section: str
    label: str
    url_name: str
    permission: str | Callable | None
    order: int
    current: str

    def visible_to(self, user) -> bool:
        if self.permission is None:
            return True
        if callable(self.permission):
            return bool(self.permission(user))
        return user.has_perm(self.permission)


_entries: dict[str, NavEntry] = {}
_fingerprint_cache: list[str] = []


def register_nav(
    section: str,
    label: str,
    url_name: str,
    permission: str | Callable | None = None,
    *,
    order: int = 100,
    current: str | None = None,
) -> None:
    """Add (or replace: registering is idempotent by URL name) one navigation entry."""
    if section not in SECTIONS:
        raise ValueError(f"Unknown navigation section {section!r}; one of {SECTIONS}.")
    _entries[url_name] = NavEntry(section, label, url_name, permission, order, current or "")
    _fingerprint_cache.clear()


def unregister_nav(url_name: str) -> None:
    _entries.pop(url_name, None)
    _fingerprint_cache.clear()


def registered_entries() -> list[NavEntry]:
    return sorted(_entries.values(), key=lambda e: (SECTIONS.index(e.section), e.order, e.label))


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: str


@dataclass
class NavSection:
    name: str
    links: list[NavLink]
    is_current: bool = False


def sections_for(user) -> list[NavSection]:
    """The sections a user sees, each with the links they may open (empty ones left out)."""
    grouped: dict[str, list[NavLink]] = {}
    for entry in registered_entries():
        if entry.visible_to(user):
            link = NavLink(entry.label, reverse(entry.url_name), entry.current)
            grouped.setdefault(entry.section, []).append(link)
    return [NavSection(name, grouped[name]) for name in SECTIONS if name in grouped]


def _fingerprint() -> str:
    """Changes when the registry does (a deploy adding an entry), so no stale menu."""
    if not _fingerprint_cache:
        text = "|".join(
            f"{e.section}:{e.label}:{e.url_name}:{e.current}:{e.order}"
            for e in registered_entries()
        )
        _fingerprint_cache.append(hashlib.sha256(text.encode()).hexdigest()[:12])
    return _fingerprint_cache[0]


def render_nav(user, current: str) -> str:
    key = f"erp:nav:{user.pk}:{_version()}:{_fingerprint()}:{current}"
    html = cache.get(key)
    if html is None:
        sections = sections_for(user)
        for section in sections:
            section.is_current = bool(current) and any(
                link.current == current for link in section.links
            )
        html = render_to_string(
            "erp/partials/main_nav.html", {"sections": sections, "current": current}
        )
        cache.set(key, html, _timeout())
    return html
