"""What every returns screen does with a service's answer: refusals go under the input
that caused them, writes tell the queue counters."""

from django.contrib import messages
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from erp.errors import DomainError
from erp.views.exceptions import QUEUES_CHANGED
from erp.views.forms import raise_if_not_permitted


def put_errors_on(form, error: DomainError) -> None:
    """Each refusal under the field the form says it is about (`form.field_for`, when the
    form maps service names), or on top of the form."""
    raise_if_not_permitted(error)
    field_for = getattr(form, "field_for", lambda name: name)
    for field_error in error.errors:
        name = field_for(field_error.field)
        form.add_error(name if name in form.fields else None, field_error.message)


def focus_first_error(form) -> None:
    """Put the cursor where the correction is needed (htmx honours autofocus)."""
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["autofocus"] = True
            return


def after_write(request, url: str, message: str):
    """Flash `message` and go to `url`; an HTMX post makes the browser navigate."""
    messages.success(request, message)
    response = HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return trigger_client_event(response, QUEUES_CHANGED)


def signal_write(response):
    """A fragment answering a write: the queue counters and approvals reload."""
    return trigger_client_event(response, QUEUES_CHANGED)
