"""Accounts and the front door."""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import rates, services
from ..addresses import client_address
from ..forms import ProfileForm, SignUpForm
from ..i18n import translate
from ..models import Profile
from ..ratelimit import RATE_LIMITED, RateLimitedAuthenticationForm
from ..roles import admin_required, role_of
from ..services import health
from .refusals import refusals_shown


@login_not_required
def signup(request):
    """A new student account; then on to ``next`` (a course's join link, say). Closed,
    or open only through join links, as ``LAB_SIGNUP`` says; at most
    ``LAB_SIGNUP_RATE`` accounts from one address."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = ""
    if refusal := services.signup_refusal(target):
        context = {"closed": translate(refusal), "next": target}
        return render(request, "registration/signup.html", context, status=403)
    form = SignUpForm(request.POST or None)
    if form.is_valid():
        wait = rates.count(f"signup:{client_address(request)}", settings.LAB_SIGNUP_RATE)
        if not wait:
            user = form.save()
            login(request, user)
            messages.success(request, _("Welcome, %(name)s!") % {"name": user.username})
            return redirect(target or "classifier:home")
        form.add_error(
            None,
            _("Too many new accounts from this address. Try again in %(minutes)d min.")
            % {"minutes": math.ceil(wait / 60)},
        )
        context = {"form": form, "next": target}
        response = render(request, "registration/signup.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    return render(request, "registration/signup.html", {"form": form, "next": target})


def profile(request):
    """The user's real name and student number, as their teachers see them."""
    form = ProfileForm(request.POST or None, instance=Profile.of(request.user))
    if form.is_valid():
        services.save_profile(request.user, **form.cleaned_data)
        messages.success(request, _("Saved."))
        return redirect("profile")
    return render(request, "registration/profile.html", {"form": form})


@admin_required
def people(request):
    """Every account and its role; an admin makes a student an instructor here."""
    query = request.GET.get("q", "").strip()
    users = User.objects.order_by("username").select_related("profile").prefetch_related("groups")
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(profile__real_name__icontains=query)
            | Q(profile__student_number__icontains=query)
        )
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    rows = [(user, role_of(user)) for user in page]
    return render(request, "registration/people.html", {"page": page, "rows": rows, "query": query})


@admin_required
@require_POST
def set_role(request, pk):
    """Make the account an instructor, or a student again."""
    user = get_object_or_404(User, pk=pk)
    instructor = request.POST.get("role") == "instructor"
    with refusals_shown(request):
        services.set_instructor(user, instructor)
        if instructor:
            done = _("%(name)s is now an instructor.")
        else:
            done = _("%(name)s is now a student.")
        messages.success(request, done % {"name": user.username})
    return redirect("people")


class LoginView(auth_views.LoginView):
    """Django's log-in page, rate limited (see ``classifier.ratelimit``): a refused attempt
    is answered 429 Too Many Requests, with the reason on the form and a Retry-After."""

    authentication_form = RateLimitedAuthenticationForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_sign_up"] = services.signup_refusal(context["next"]) is None
        return context

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", RATE_LIMITED):
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """ "Forgot password" by e-mail, where e-mail is set up (``EMAIL_HOST``); otherwise the
    page says to ask an instructor for a reset link."""

    @method_decorator(login_not_required)
    def dispatch(self, request, *args, **kwargs):
        if not settings.LAB_EMAIL:
            return render(request, "registration/password_reset_no_email.html")
        return super().dispatch(request, *args, **kwargs)


@login_not_required
def healthz(request):
    """Each part of the lab and its state (``services.health``), as JSON, in about two
    seconds at most. 200 while the web server answers, which is what a container's
    health check asks; ``status`` says whether every other part is up too."""
    response = JsonResponse(health.report())
    response["Cache-Control"] = "no-store"
    return response


def home(request):
    return redirect("classifier:job-list")
