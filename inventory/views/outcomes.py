"""What a successful write answers, the same way on every inventory screen."""

from django.contrib import messages
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from erp.views.exceptions import QUEUES_CHANGED

PAGE_SIZE = 50


def after_write(request, url: str, message: str):
    """Flash `message` and go to `url`.

    An HTMX form post makes the browser navigate (the next page is not swapped into the
    form); panels that count queue rows hear `queuesChanged` and reload.
    """
    messages.success(request, message)
    response = HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return trigger_client_event(response, QUEUES_CHANGED)


def signal_write(response, *events: str):
    """A fragment answering a write: tell listening panels what changed."""
    for event in (QUEUES_CHANGED, *events):
        trigger_client_event(response, event)
    return response
