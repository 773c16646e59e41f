"""Accounts and the front door."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from ..forms import SignUpForm
from ..ratelimit import RATE_LIMITED, RateLimitedAuthenticationForm


@login_not_required
def signup(request):
    form = SignUpForm(request.POST or None)
    if form.is_valid():
        user = form.save()
        login(request, user)
        messages.success(request, _("Welcome, %(name)s!") % {"name": user.username})
        return redirect("classifier:home")
    return render(request, "registration/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's log-in page, rate limited (see ``classifier.ratelimit``): a refused attempt
    is answered 429 Too Many Requests, with the reason on the form and a Retry-After."""

    authentication_form = RateLimitedAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", RATE_LIMITED):
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


@login_not_required
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def home(request):
    return redirect("classifier:job-list")
