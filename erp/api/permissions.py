from rest_framework.permissions import BasePermission, DjangoModelPermissions

from erp.token_scope import area_of_view, area_refusal, channel_allowed, token_of


class TokenScopePermission(BasePermission):
    """A scoped API token reaches only the areas and channels its scope names.

    The area comes from the view (`erp.token_scope.area_of_view`); a view whose URL names
    a channel declares `channel_url_kwarg`, and an object with a channel (an order, an
    RMA, a listing, the channel itself) is checked when the view fetches it. Channels
    named in a payload are checked by the service that writes (`require_channel_scope`).
    Sessions and legacy tokens carry no scope and pass. Every API permission derives
    from this class, so no view can leave the check out (tests/erp/test_api_tokens.py
    walks the URLconf to hold that).
    """

    def has_permission(self, request, view):
        token = token_of(request.user)
        if token is None:
            return True
        refusal = area_refusal(token, area_of_view(view), request.method)
        if refusal is None:
            kwarg = getattr(view, "channel_url_kwarg", None)
            code = view.kwargs.get(kwarg) if kwarg else None
            if code is not None and not self._channel_code_allowed(token, code):
                refusal = f"Channel {code} is outside this token's scope."
        if refusal:
            self.message = refusal
            return False
        return True

    def has_object_permission(self, request, view, obj):
        token = token_of(request.user)
        if token is None:
            return True
        channel_id = obj.pk if obj._meta.label == "erp.Channel" else getattr(obj, "channel_id", 0)
        if not channel_id:  # the object belongs to no channel
            return True
        if not channel_allowed(token, channel_id):
            self.message = "This record belongs to a channel outside this token's scope."
            return False
        return True

    @staticmethod
    def _channel_code_allowed(token, code: str) -> bool:
        from erp.models import Channel

        if token.all_channels:
            return True
        channel_id = Channel.objects.filter(code=code).values_list("pk", flat=True).first()
        # An unknown channel is the view's 404 to answer, not a scope question.
        return channel_id is None or channel_allowed(token, channel_id)


class ScopedIsAuthenticated(TokenScopePermission):
    """Signed in (the service checks the permission) and within the token's scope."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) and super().has_permission(
            request, view
        )


class RoleModelPermissions(TokenScopePermission, DjangoModelPermissions):
    """Reads need the model's view permission; writes are checked again in the services."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        return TokenScopePermission.has_permission(
            self, request, view
        ) and DjangoModelPermissions.has_permission(self, request, view)

    def has_object_permission(self, request, view, obj):
        return TokenScopePermission.has_object_permission(self, request, view, obj)
