"""Channel sync health pages: every channel at a glance, one channel in detail, and
retrying a channel's failed messages in one action."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from erp.errors import DomainError
from erp.models import Channel
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import raise_if_not_permitted
from erp.views.rendering import render_page_or_fragment
from insight.services.sync import retry_channel_failures
from insight.sync_health import DIRECTIONS, channel_sync_health

VIEW_PERMISSION = "erp.view_outboxmessage"
RETRY_PERMISSION = "erp.change_outboxmessage"


@require_GET
@backoffice_view
def sync_health(request):
    forbid_unless_permitted(request.user, VIEW_PERMISSION)
    context = {
        "section": "insight",
        "healths": channel_sync_health(),
        "directions": DIRECTIONS,
    }
    return render_page_or_fragment(
        request,
        page="insight/sync_health.html",
        fragment="insight/partials/sync_health_table.html",
        context=context,
    )


@require_GET
@backoffice_view
def channel_sync(request, code: str):
    forbid_unless_permitted(request.user, VIEW_PERMISSION)
    channel = get_object_or_404(Channel, code=code)
    [health] = channel_sync_health(channels=[channel])
    context = {
        "section": "insight",
        "health": health,
        "channel": channel,
        "can_retry": request.user.has_perm(RETRY_PERMISSION),
    }
    return render_page_or_fragment(
        request,
        page="insight/channel_sync.html",
        fragment="insight/partials/channel_sync_directions.html",
        context=context,
    )


@require_POST
@backoffice_view
def retry_channel(request, code: str):
    forbid_unless_permitted(request.user, RETRY_PERMISSION)
    channel = get_object_or_404(Channel, code=code)
    try:
        retried = retry_channel_failures(
            channel=channel, actor=request.user, note=request.POST.get("note", "").strip()
        )
    except DomainError as error:
        raise_if_not_permitted(error)
        messages.error(request, error.message)
    else:
        if retried:
            plural = "s" if retried != 1 else ""
            messages.success(
                request, f"{retried} failed message{plural} of {channel.code} queued again."
            )
        else:
            messages.info(request, f"{channel.code} has no failed messages to retry.")
    return redirect(reverse("insight:channel-sync", args=[channel.code]))
