"""Sign-in for people; integration accounts use API tokens and are turned away here."""

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError

from erp.views.access import API_ONLY_MESSAGE, is_api_only


class BackOfficeAuthenticationForm(AuthenticationForm):
    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if is_api_only(user):
            raise ValidationError(API_ONLY_MESSAGE, code="api_only")


class BackOfficeLoginView(LoginView):
    form_class = BackOfficeAuthenticationForm
    redirect_authenticated_user = True
