"""Failed log-ins and the addresses each account logged in from, kept in the database so
that every web process sees the same counts."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LoginFailure(models.Model):
    """One failed log-in attempt: the username typed, the client's address and when.

    A row is written as an attempt begins, before its password is checked (see
    ``classifier.ratelimit``), and taken back if the attempt is refused; a right password
    deletes every failure of that username from that address.
    """

    #: The username as typed, cut to the longest a username can be.
    username = models.CharField(_("username"), max_length=150)
    address = models.CharField(_("address"), max_length=45, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-at",)
        indexes = [
            models.Index(fields=("username", "address", "at")),
            models.Index(fields=("address", "at")),
        ]
        verbose_name = _("failed log-in")
        verbose_name_plural = _("failed log-ins")

    def __str__(self):
        return f"{self.username} @ {self.address or '?'} {self.at:%Y-%m-%d %H:%M:%S}"


class LoginAddress(models.Model):
    """An address an account logged in from with the right password: failures by others,
    for the account or from the address, do not slow its log-ins from there."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_addresses"
    )
    address = models.CharField(_("address"), max_length=45)
    last_at = models.DateTimeField(_("last log-in"), default=timezone.now)

    class Meta:
        ordering = ("-last_at",)
        constraints = [
            models.UniqueConstraint(fields=("user", "address"), name="one_row_per_login_address")
        ]
        verbose_name = _("known log-in address")
        verbose_name_plural = _("known log-in addresses")

    def __str__(self):
        return f"{self.user} @ {self.address}"
