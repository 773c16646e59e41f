"""The API's routes, under ``/api/`` (namespace ``api``)."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
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
    # Its script comes from the lab (the split view), as the Content-Security-Policy wants;
    # Swagger UI's page keeps a few inline styles, allowed on this page only.
    path(
        "docs/",
        login_required(
            csp_update({"style-src": [SELF, UNSAFE_INLINE]})(
                SpectacularSwaggerSplitView.as_view(url_name="api:schema")
            )
        ),
        name="docs",
    ),
    *router.urls,
    re_path(r"^(?P<path>.*)$", views.not_found),
]
