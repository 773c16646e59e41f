"""Accounts and the front door."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from ..forms import SignUpForm


@login_not_required
def signup(request):
    form = SignUpForm(request.POST or None)
    if form.is_valid():
        user = form.save()
        login(request, user)
        messages.success(request, _("Welcome, %(name)s!") % {"name": user.username})
        return redirect("classifier:home")
    return render(request, "registration/signup.html", {"form": form})


@login_not_required
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def home(request):
    return redirect("classifier:job-list")
