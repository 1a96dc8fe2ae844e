"""Chart of accounts, trial balance, periods (close, lock, reopen) and the valuation
report with the books check."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from erp.errors import DomainError
from erp.views.access import backoffice_view, forbid_unless_permitted
from finance import selectors
from finance.forms import PeriodActionForm
from finance.services import periods as period_services
from finance.services.verification import ledger_differences


@require_GET
@backoffice_view
def chart_of_accounts(request):
    forbid_unless_permitted(request.user, "finance.view_account")
    balances = {}
    for row in selectors.trial_balance().rows:
        balances.setdefault(row.account.pk, []).append(row)
    accounts = list(selectors.accounts())
    for account in accounts:
        account.balances = balances.get(account.pk, [])
    return render(request, "finance/accounts.html", {"section": "finance", "accounts": accounts})


@require_GET
@backoffice_view
def trial_balance(request):
    forbid_unless_permitted(request.user, "finance.view_journalline")
    balance = selectors.trial_balance()
    return render(
        request,
        "finance/trial_balance.html",
        {"section": "finance", "balance": balance, "totals": balance.totals()},
    )


@require_GET
@backoffice_view
def period_list(request):
    forbid_unless_permitted(request.user, "finance.view_period")
    return render(
        request,
        "finance/periods.html",
        {
            "section": "finance",
            "periods": selectors.periods(),
            "can_close": request.user.has_perm(period_services.CLOSE_PERMISSION),
        },
    )


ACTIONS = {
    "close": (period_services.close_period, "closed"),
    "lock": (period_services.lock_period, "locked"),
    "reopen": (period_services.reopen_period, "reopened"),
}


@require_POST
@backoffice_view
def period_action(request, action: str):
    forbid_unless_permitted(request.user, period_services.CLOSE_PERMISSION)
    service, done = ACTIONS[action]
    form = PeriodActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a month.")
        return redirect("finance:periods")
    try:
        period = service(**form.cleaned_data, actor=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{period} {done}.")
    url = reverse("finance:periods")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_GET
@backoffice_view
def valuation(request):
    forbid_unless_permitted(request.user, "finance.view_journalline")
    nodes = selectors.valuation_by_node()
    return render(
        request,
        "finance/valuation.html",
        {
            "section": "finance",
            "nodes": nodes,
            "total_units": sum(node.units for node in nodes),
            "check": ledger_differences(),
        },
    )
