from django import template

from erp.list_export import EXPORT_PARAMETER

register = template.Library()


@register.simple_tag(takes_context=True)
def export_url(context, fmt: str = "csv") -> str:
    """The current list's URL and filters, asking for `fmt` (every row, so no page)."""
    request = context["request"]
    query = request.GET.copy()
    query.pop("page", None)
    query[EXPORT_PARAMETER] = fmt
    return f"{request.path}?{query.urlencode()}"
