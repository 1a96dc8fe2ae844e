"""Returns to vendor on the supplier page: open one for the defects waiting, record the
supplier's authorization, ship it back, record the credit note."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from erp.errors import DomainError
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import raise_if_not_permitted
from purchasing.models import ReturnToVendor, Supplier
from purchasing.services import rtv as services


def _back(supplier_id: int):
    return redirect(reverse("purchasing:supplier-detail", args=[supplier_id]) + "#supplier-rtv")


@require_POST
@backoffice_view
def rtv_open(request, pk: int):
    forbid_unless_permitted(request.user, "purchasing.add_returntovendor")
    supplier = get_object_or_404(Supplier, pk=pk)
    try:
        rtv = services.open_rtv(supplier=supplier, actor=request.user)
    except DomainError as error:
        raise_if_not_permitted(error)
        messages.error(request, error.message)
    else:
        messages.success(request, f"{rtv.number} opened: ask {supplier.name} to authorize it.")
    return _back(pk)


@require_POST
@backoffice_view
def rtv_action(request, pk: int, action: str):
    forbid_unless_permitted(request.user, "purchasing.change_returntovendor")
    rtv = get_object_or_404(ReturnToVendor, pk=pk)
    calls = {
        "authorize": lambda: services.authorize(
            rtv=rtv, authorization_ref=request.POST.get("authorization_ref", ""), actor=request.user
        ),
        "ship": lambda: services.ship(rtv=rtv, actor=request.user),
        "credit": lambda: services.record_credit(
            rtv=rtv,
            credit_note_ref=request.POST.get("credit_note_ref", ""),
            amount=request.POST.get("amount", ""),
            actor=request.user,
        ),
    }
    if action not in calls:
        return _back(rtv.supplier_id)
    try:
        done = calls[action]()
    except DomainError as error:
        raise_if_not_permitted(error)
        messages.error(request, f"{rtv.number}: nothing was changed. {error.message}")
    else:
        messages.success(request, f"{done.number}: {done.get_state_display().lower()}.")
    return _back(rtv.supplier_id)
