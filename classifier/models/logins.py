"""Failed log-ins, counted in the database so that every web process sees the same counts."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LoginFailure(models.Model):
    """One failed log-in attempt, counted against a username or against an address.

    A row is written as an attempt begins, before its password is checked (see
    ``classifier.ratelimit``), and taken back if the attempt is refused or, for the
    username, if the password was right.
    """

    class Kind(models.TextChoices):
        USERNAME = "user", _("username")
        ADDRESS = "ip", _("address")

    kind = models.CharField(_("counted against"), max_length=4, choices=Kind.choices)
    #: The username as typed (cut to the longest a username can be), or the address.
    value = models.CharField(_("username or address"), max_length=150)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-at",)
        indexes = [models.Index(fields=("kind", "value", "at"))]
        verbose_name = _("failed log-in")
        verbose_name_plural = _("failed log-ins")

    def __str__(self):
        return f"{self.get_kind_display()} {self.value} @ {self.at:%Y-%m-%d %H:%M:%S}"
