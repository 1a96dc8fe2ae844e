"""Full page or HTMX fragment from the same templates (the page includes the fragment)."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def wants_fragment(request) -> bool:
    # Boosted navigation and history restores (reload after hx-push-url) replace the
    # whole body, so they get the whole page.
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page_or_fragment(request, *, page: str, fragment: str, context: dict, status=200):
    template = fragment if wants_fragment(request) else page
    response = render(request, template, context, status=status)
    # Browsers and caches must not serve a cached fragment as the page, or vice versa.
    patch_vary_headers(response, ["HX-Request"])
    return response
