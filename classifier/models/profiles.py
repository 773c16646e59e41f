"""What a school knows of a person beyond the username: a real name and a student number."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """A user's real name and student number, both optional: the student fills them in,
    or the teacher imports them with a roster. Gradebooks show them beside the username."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("user"),
    )
    real_name = models.CharField(_("real name"), max_length=120, blank=True)
    student_number = models.CharField(_("student number"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self):
        return self.real_name or self.user.get_username()

    @classmethod
    def of(cls, user) -> "Profile":
        """``user``'s profile, an empty unsaved one if they have none yet."""
        try:
            return user.profile
        except cls.DoesNotExist:
            return cls(user=user)
