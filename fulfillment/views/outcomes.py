"""What a successful write answers, the same way on every warehouse screen."""

from django.contrib import messages
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from erp.views.exceptions import QUEUES_CHANGED

# Panels that show the floor's figures (wave progress, packing queue) listen for this.
FLOOR_CHANGED = "floorChanged"


def after_write(request, url: str, message: str):
    """Flash `message` and go to `url`; an HTMX post makes the browser navigate."""
    messages.success(request, message)
    response = HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return trigger_client_event(response, QUEUES_CHANGED)


def after_error(request, url: str):
    """A refused write from a list: back to `url`, where the flashed error shows."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def signal_write(response, *events: str):
    """A fragment answering a write: tell listening panels what changed."""
    for event in (QUEUES_CHANGED, FLOOR_CHANGED, *events):
        trigger_client_event(response, event)
    return response
