from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from classifier.views import accounts, errors

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    # The language menu is on the log-in page too: visitors choose before logging in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("healthz", accounts.healthz, name="healthz"),
    path("api/", include("classifier.api.urls")),
    path("", include("classifier.urls")),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
