from django import template
from django.utils.safestring import mark_safe

from erp.navigation import render_nav

register = template.Library()


@register.simple_tag(takes_context=True)
def main_nav(context):
    """The main navigation for the signed-in user, the page's `section` marked current."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return ""
    return mark_safe(render_nav(user, context.get("section") or ""))  # rendered by a template
