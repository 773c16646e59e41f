"""API tokens end with the password they were given for."""

from django.utils.translation import gettext
from rest_framework.authtoken.models import Token


class RevokeTokensOnPasswordChange:
    """In AUTH_PASSWORD_VALIDATORS for its hook, not to judge passwords: Django calls
    ``password_changed`` whenever a password is set (the password pages, a reset link,
    the admin, ``changepassword``), but not when a log-in rehashes the same password
    with a newer hasher. A script holding a token for the old password, perhaps the
    reason it was changed, then gets 401 and asks for a new one."""

    def validate(self, password, user=None):
        """Every password passes: the other validators judge them."""

    def password_changed(self, password, user=None):
        if user is not None and user.pk:
            Token.objects.filter(user=user).delete()

    def get_help_text(self):
        return gettext("A new password ends the API tokens given for the old one.")
