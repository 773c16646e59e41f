from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from classifier import views as classifier_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", classifier_views.signup, name="signup"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", classifier_views.healthz, name="healthz"),
    path("", include("classifier.urls")),
]
