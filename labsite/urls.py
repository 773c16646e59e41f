from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from classifier.views import accounts

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", accounts.healthz, name="healthz"),
    path("", include("classifier.urls")),
]
