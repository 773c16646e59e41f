"""The API's routes, under ``/api/`` (namespace ``api``)."""

from django.contrib.auth.decorators import login_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import views

app_name = "api"

router = SimpleRouter(use_regex_path=False)
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("jobs", views.TrainingJobViewSet, basename="job")
router.register("predictions", views.PredictionViewSet, basename="prediction")
router.register("assignments", views.AssignmentViewSet, basename="assignment")

urlpatterns = [
    path("token/", views.TokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # A page for people: anonymous visitors are sent to the log-in page, as on every page.
    path(
        "docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="api:schema")),
        name="docs",
    ),
    *router.urls,
    re_path(r"^(?P<path>.*)$", views.not_found),
]
