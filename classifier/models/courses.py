"""Courses, the students in them, and their handwriting assignments."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..roles import is_admin, is_instructor
from .training import TrainingJob

# Join codes avoid characters that are easy to misread (0/O, 1/I/L).
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


class Course(models.Model):
    """A class taught by an instructor; students join it with its join code."""

    name = models.CharField(_("name"), max_length=120)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="courses_taught",
        verbose_name=_("instructor"),
    )
    join_code = models.CharField(_("join code"), max_length=16, unique=True, default=new_join_code)
    students = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Enrollment",
        related_name="courses",
        blank=True,
        verbose_name=_("students"),
    )
    #: Instructors who teach the course beside its owner: they see and manage all of it.
    co_instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="courses_co_taught",
        blank=True,
        verbose_name=_("co-instructors"),
    )
    #: Finished models the instructor shares with the class: students predict with them,
    #: and assignments are graded by one of them.
    published_models = models.ManyToManyField(
        TrainingJob, related_name="published_in", blank=True, verbose_name=_("published models")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ("name", "pk")
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("classifier:course-detail", args=[self.pk])

    @classmethod
    def visible_to(cls, user):
        """Admins see every course, instructors the ones they teach (as owner or
        co-instructor), students the ones they joined."""
        if is_admin(user):
            return cls.objects.all()
        if is_instructor(user):
            return cls.objects.filter(pk__in=cls.taught_by(user))
        return cls.objects.filter(students=user)

    @classmethod
    def taught_by(cls, user):
        """The ids of the courses ``user`` teaches, as owner or co-instructor."""
        return cls.objects.filter(models.Q(owner=user) | models.Q(co_instructors=user)).values("pk")

    def teaches(self, user) -> bool:
        """Whether ``user`` is the course's owner or one of its co-instructors."""
        return self.owner_id == user.pk or self.co_instructors.filter(pk=user.pk).exists()

    def can_manage(self, user) -> bool:
        return is_admin(user) or self.teaches(user)

    def can_choose_teachers(self, user) -> bool:
        """Co-instructors teach the course; its owner (or an admin) chooses them."""
        return is_admin(user) or self.owner_id == user.pk

    def has_student(self, user) -> bool:
        return self.enrollments.filter(student=user).exists()


class Enrollment(models.Model):
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("course")
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enrollments",
        verbose_name=_("student"),
    )
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        ordering = ("student__username",)
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(fields=("course", "student"), name="one_enrollment_per_student")
        ]

    def __str__(self):
        return gettext("%(student)s in %(course)s") % {
            "student": self.student,
            "course": self.course,
        }


class Assignment(models.Model):
    """Write each target character once (or up to ``attempts_allowed`` times); a model grades it.

    ``grade_policy`` says which attempt at a character counts: the best (a correct one,
    if any; the default, so a later slip never undoes a right answer) or the latest.
    """

    class GradePolicy(models.TextChoices):
        BEST = "best", _("Best attempt")
        LATEST = "latest", _("Latest attempt")

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("course")
    )
    title = models.CharField(_("title"), max_length=160)
    instructions = models.TextField(_("instructions"), blank=True)
    chars = models.JSONField(_("target characters"), default=list)
    grader = models.ForeignKey(
        TrainingJob,
        on_delete=models.PROTECT,
        related_name="grades_assignments",
        verbose_name=_("grading model"),
    )
    due_at = models.DateTimeField(_("due"))
    attempts_allowed = models.PositiveSmallIntegerField(_("attempts allowed"), default=3)
    accept_late = models.BooleanField(
        _("accept late submissions"),
        default=False,
        help_text=_("Late submissions are graded and marked late in the gradebook."),
    )
    grade_policy = models.CharField(
        _("attempt that counts"),
        max_length=8,
        choices=GradePolicy.choices,
        default=GradePolicy.BEST,
        help_text=_(
            "Best: a correct attempt counts even if a later one is wrong. Latest: "
            "each attempt replaces the one before."
        ),
    )
    review_below = models.FloatField(
        _("review answers less sure than"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_(
            "An answer read as another character with less confidence than this "
            "(0 to 1) goes to your review instead of being marked incorrect. Empty: "
            "the grading model's own threshold, from how right it was on its "
            "validation data."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ("due_at", "pk")
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("classifier:assignment-detail", args=[self.pk])

    @classmethod
    def visible_to(cls, user):
        return cls.objects.filter(course__in=Course.visible_to(user)).select_related("course")

    @property
    def is_past_due(self) -> bool:
        return timezone.now() > self.due_at

    def review_threshold(self, grader: TrainingJob | None = None) -> float:
        """The confidence under which the wrong-looking answers of ``grader`` (by default
        the assignment's) need review: the assignment's own, else the model's."""
        if self.review_below is not None:
            return self.review_below
        return (grader or self.grader).review_threshold
