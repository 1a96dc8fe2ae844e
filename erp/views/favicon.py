"""/favicon.ico, which browsers ask for on pages that name no icon (the admin, the
browsable API): the back office's own icon, under its hashed static name."""

from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request):
    return redirect(static("favicon.svg"))
