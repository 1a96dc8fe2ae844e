"""Waves and the pick-list scanner screen.

The pick-list page shows the next task (slot, SKU, quantity, the FEFO lot) and a scan
form the keyboard-wedge scanner fills: slot ⏎, item barcode ⏎, (lot ⏎,) quantity ⏎,
(serials). The picking service decides whether the scan matches the task; a refusal comes
back as the same form with the service's message under the field it names (the scanner
script flashes the screen red and buzzes), a confirmation as the next task.
"""

from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from erp.errors import DomainError, NotFound
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors
from erp.views.rendering import render_page_or_fragment, wants_fragment
from fulfillment.forms import PickScanForm, ShortPickForm
from fulfillment.models import PickList, PickTask, Wave
from fulfillment.services import picking
from fulfillment.views.outcomes import after_write, signal_write
from inventory.services.lots import suggest_lots

VIEW_WAVES = "fulfillment.view_wave"
VIEW_PICK_LISTS = "fulfillment.view_picklist"
PICK = "fulfillment.change_picktask"
SHORT_PICK = "fulfillment.add_shortpick"
DONE_STATES = (PickTask.State.PICKED, PickTask.State.SHORT)
LIVE = ~Q(tasks__state=PickTask.State.CANCELLED)


@require_GET
@backoffice_view
def wave_detail(request, wave_id: int):
    forbid_unless_permitted(request.user, VIEW_WAVES)
    wave = get_object_or_404(Wave.objects.select_related("location", "created_by"), pk=wave_id)
    pick_lists = (
        PickList.objects.filter(wave=wave)
        .select_related("assigned_to")
        .annotate(
            lines_total=Count("tasks", filter=LIVE),
            lines_done=Count("tasks", filter=Q(tasks__state__in=DONE_STATES)),
            lines_short=Count("tasks", filter=Q(tasks__state=PickTask.State.SHORT)),
            order_count=Count("tasks__order", filter=LIVE, distinct=True),
        )
        .order_by("sequence")
    )
    context = {"section": "fulfillment", "wave": wave, "pick_lists": pick_lists}
    return render(request, "fulfillment/wave_detail.html", context)


def _pick_list_or_404(pick_list_id: int) -> PickList:
    return get_object_or_404(
        PickList.objects.select_related("wave", "location", "assigned_to"), pk=pick_list_id
    )


def _tasks(pick_list: PickList) -> list[PickTask]:
    return list(
        pick_list.tasks.select_related(
            "sku", "location", "line", "order__channel", "picked_by"
        ).order_by("sequence")
    )


def _lot_suggestion(task: PickTask | None) -> list:
    """First-expiring lots that cover the task (a hint; the service picks FEFO itself)."""
    if task is None or not task.sku.lot_tracked:
        return []
    return suggest_lots(sku=task.sku, location=task.location, quantity=task.remaining)


def pick_context(request, pick_list: PickList, *, scan_form=None, short_form=None, **extra):
    """Everything the pick-list page and its panels render.

    The scan panel always shows the first open task. A bound form whose task is no longer
    that one (the page was stale, someone else picked it) is replaced by a fresh form; its
    errors show above it.
    """
    tasks = _tasks(pick_list)
    current = next((task for task in tasks if task.state == PickTask.State.OPEN), None)
    stale_errors = []
    forms = {"scan": scan_form, "short": short_form}
    for name, form in forms.items():
        if form is not None and (current is None or form.task.pk != current.pk):
            stale_errors += [error for errors in form.errors.values() for error in errors]
            forms[name] = None
    scan_form, short_form = forms["scan"], forms["short"]
    if scan_form is None and current is not None:
        scan_form = PickScanForm(task=current)
    if short_form is None and current is not None:
        short_form = ShortPickForm(task=current)
    live = [task for task in tasks if task.state != PickTask.State.CANCELLED]
    return {
        "section": "fulfillment",
        "pick_list": pick_list,
        "tasks": tasks,
        "current": current,
        "lots": _lot_suggestion(current),
        "scan_form": scan_form,
        "short_form": short_form,
        "stale_errors": stale_errors,
        "done_count": sum(task.state in DONE_STATES for task in live),
        "total_count": len(live),
        "can_pick": request.user.has_perm(PICK),
        "can_short": request.user.has_perm(SHORT_PICK),
        **extra,
    }


@require_GET
@backoffice_view
def pick_list_page(request, pick_list_id: int):
    forbid_unless_permitted(request.user, VIEW_PICK_LISTS)
    pick_list = _pick_list_or_404(pick_list_id)
    return render_page_or_fragment(
        request,
        page="fulfillment/pick_list.html",
        fragment="fulfillment/partials/pick_tasks.html",
        context=pick_context(request, pick_list),
    )


def _task_or_404(pick_list: PickList, task_id: int) -> PickTask:
    return get_object_or_404(
        PickTask.objects.select_related("sku", "location"), pk=task_id, pick_list=pick_list
    )


def _answer(request, pick_list: PickList, context: dict, written: bool, message: str):
    """HTMX: the scan panel, with the task table and progress out of band. Without
    JavaScript: back to the page after a write, or the page with the refusal."""
    if not wants_fragment(request):
        if written:
            url = reverse("fulfillment:pick-list", args=[pick_list.pk])
            return after_write(request, url, message)
        response = render(request, "fulfillment/pick_list.html", context)
    else:
        response = render(request, "fulfillment/partials/pick_response.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return signal_write(response) if written else response


@require_POST
@backoffice_view
def confirm_task(request, pick_list_id: int, task_id: int):
    """One scanned pick: slot, item, quantity (and lot, serials)."""
    forbid_unless_permitted(request.user, PICK)
    pick_list = _pick_list_or_404(pick_list_id)
    task = _task_or_404(pick_list, task_id)
    form = PickScanForm(request.POST, task=task)
    picked = None
    if form.is_valid():
        try:
            picked = picking.confirm_pick(
                task_id=task.pk,
                slot_code=form.cleaned_data["slot_code"],
                barcode=form.cleaned_data["barcode"],
                quantity=form.cleaned_data["quantity"],
                actor=request.user,
                **form.tracking(),
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            add_domain_errors(form, error)
    pick_list.refresh_from_db()
    if picked is None:
        context = pick_context(request, pick_list, scan_form=form)
        return _answer(request, pick_list, context, False, "")
    message = f"Picked {form.cleaned_data['quantity']} × {task.sku.code} from {task.slot_code or 'no slot'}."
    context = pick_context(request, pick_list, confirmed=message)
    return _answer(request, pick_list, context, True, message)


@require_POST
@backoffice_view
def short_task(request, pick_list_id: int, task_id: int):
    """The slot holds less than the task: pick what is there, count it, re-route the rest."""
    forbid_unless_permitted(request.user, SHORT_PICK)
    pick_list = _pick_list_or_404(pick_list_id)
    task = _task_or_404(pick_list, task_id)
    form = ShortPickForm(request.POST, task=task)
    short = None
    if form.is_valid():
        try:
            short = picking.report_short_pick(
                task_id=task.pk,
                quantity_found=form.cleaned_data["quantity_found"],
                note=form.cleaned_data["note"],
                actor=request.user,
                **form.tracking(),
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            add_domain_errors(form, error)
    pick_list.refresh_from_db()
    if short is None:
        context = pick_context(request, pick_list, short_form=form, short_open=True)
        return _answer(request, pick_list, context, False, "")
    message = (
        f"Short pick: {short.quantity} × {task.sku.code} missing at "
        f"{task.slot_code or 'no slot'}; {short.rerouted} re-routed, a count is open."
    )
    context = pick_context(request, pick_list, confirmed=message, short_reported=True)
    return _answer(request, pick_list, context, True, message)
