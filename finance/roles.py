"""What each role may do with the books (checked in the services)."""

from erp import roles

_VIEW = {f"finance.view_{model}" for model in ("account", "journalentry", "journalline", "period")}
_CLOSE = {"finance.close_period"}
_CHART = {"finance.add_account", "finance.change_account"}

# Finance keeps the books: reads everything, closes and locks periods, keeps the chart.
roles.register_role_permissions(roles.FINANCE, _VIEW | _CLOSE | _CHART)
# Managers see the books and may close a period; the chart stays with finance.
roles.register_role_permissions(roles.MANAGER, _VIEW | _CLOSE)
