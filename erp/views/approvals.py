"""The approvals inbox: every pending request of every kind in one place, oldest first.

People who may decide some kind of request see the whole inbox; everyone else sees the
requests they made (they follow them here, and can never decide them). Whether a row
gets Approve/Reject buttons is decided here with the approvals service's own rule
(`can_decide`); `decide_approval` enforces it again on every POST.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Min
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from erp.errors import DomainError, NotFound
from erp.models import ApprovalRequest
from erp.services import approvals
from erp.views.access import backoffice_view
from erp.views.exceptions import QUEUES_CHANGED, age_label
from erp.views.forms import raise_if_not_permitted
from erp.views.rendering import render_page_or_fragment, wants_fragment

PAGE_SIZE = 50


# How an app names the page of an approval subject, tried in this order: its own
# namespaced route, the project-wide `<model>-detail` of the record pages here
# (sku-detail, inventoryadjustment-detail), or the `detail` page of an app namespace
# that serves one kind of record (orders:detail).
SUBJECT_ROUTES = ("{app}:{model}-detail", "{model}-detail", "{app}:detail")


def subject_url(approval: ApprovalRequest) -> str | None:
    """The page of what is to be approved, found by route name so erp imports no app."""
    subject_type = approval.subject_type
    for route in SUBJECT_ROUTES:
        name = route.format(app=subject_type.app_label, model=subject_type.model)
        try:
            return reverse(name, args=[approval.subject_id])
        except NoReverseMatch:
            continue
    return None


def is_approver(user) -> bool:
    return any(user.has_perm(kind.permission) for kind in approvals.registered_kinds())


class _Decidable:
    """can_decide for many rows, asked once per (kind, requested by this user) pair.

    For a pending request the answer depends only on its kind's policy and on whether the
    actor is the requester, so the queries stay constant in the number of rows.
    """

    def __init__(self, user):
        self.user = user
        self.answers: dict[tuple[str, bool], bool] = {}

    def __call__(self, approval: ApprovalRequest) -> bool:
        if approval.state != ApprovalRequest.State.PENDING:
            return False
        key = (approval.kind, approval.requested_by_id == self.user.pk)
        if key not in self.answers:
            self.answers[key] = approvals.can_decide(request=approval, actor=self.user)
        return self.answers[key]


def _row(approval: ApprovalRequest, decidable: _Decidable, labels: dict, now) -> dict:
    return {
        "approval": approval,
        "label": labels.get(approval.kind, approval.kind),
        "url": subject_url(approval),
        "age": age_label(now - approval.requested_at),
        "mine": approval.requested_by_id == decidable.user.pk,
        "can_decide": decidable(approval),
    }


def _kind_labels() -> dict[str, str]:
    return {kind.kind: kind.label for kind in approvals.registered_kinds()}


def _pending(request):
    """Pending requests this person sees, under the inbox's filters, oldest first."""
    labels = _kind_labels()
    kind = request.GET.get("kind", "")
    kind = kind if kind in labels else ""
    approver = is_approver(request.user)
    mine_only = request.GET.get("mine") == "1" or not approver
    pending = ApprovalRequest.objects.filter(state=ApprovalRequest.State.PENDING)
    if kind:
        pending = pending.filter(kind=kind)
    if mine_only:
        pending = pending.filter(requested_by=request.user)
    filters = {
        "kinds": sorted(labels.items(), key=lambda item: item[1]),
        "kind": kind,
        "mine_only": mine_only,
        "approver": approver,
    }
    return pending.order_by("requested_at", "id"), filters, labels


def _stats(pending) -> dict:
    figures = pending.aggregate(count=Count("pk"), oldest=Min("requested_at"))
    oldest = figures["oldest"]
    return {
        "count": figures["count"],
        "age": age_label(timezone.now() - oldest if oldest else None),
    }


@require_GET
@backoffice_view
def approval_inbox(request):
    pending, filters, labels = _pending(request)
    page = Paginator(pending.select_related("requested_by", "subject_type"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    decidable, now = _Decidable(request.user), timezone.now()
    context = {
        "section": "approvals",
        "page": page,
        "rows": [_row(approval, decidable, labels, now) for approval in page.object_list],
        **filters,
    }
    if not wants_fragment(request):
        context["stats"] = _stats(pending)
    return render_page_or_fragment(
        request,
        page="erp/approvals.html",
        fragment="erp/partials/approval_results.html",
        context=context,
    )


@require_GET
@backoffice_view
def approval_stats(request):
    """The pending count and oldest age in the page head; reloads after every decision."""
    pending, filters, _ = _pending(request)
    return render(
        request, "erp/partials/approval_stats.html", {"stats": _stats(pending), **filters}
    )


@require_POST
@backoffice_view
def approval_decide(request, pk: int):
    """Approve or reject one request; a rejection needs a note. Answers with the row."""
    approve = request.POST.get("decision") == "approve"
    note = request.POST.get("note", "").strip()
    error_message = ""
    try:
        approval = approvals.decide_approval(
            request_id=pk, actor=request.user, approve=approve, note=note
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        raise_if_not_permitted(error)
        error_message = error.message
        approval = get_object_or_404(
            ApprovalRequest.objects.select_related("requested_by", "subject_type"), pk=pk
        )
    if not wants_fragment(request):
        if error_message:
            messages.error(request, error_message)
        else:
            messages.success(
                request, f"{approval.summary}: {approval.get_state_display().lower()}."
            )
        return redirect(reverse("approval-inbox"))
    row = _row(approval, _Decidable(request.user), _kind_labels(), timezone.now())
    context = {"row": row, "action_error": error_message, "note": note}
    response = render(request, "erp/partials/approval_row.html", context)
    return response if error_message else trigger_client_event(response, QUEUES_CHANGED)
