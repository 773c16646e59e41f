"""The API's views: thin, over the same services, forms and visibility rules as the pages.

DRF's views opt out of Django's ``LoginRequiredMiddleware`` by themselves: DRF judges the
token or session (``IsAuthenticated`` by default, see ``REST_FRAMEWORK`` in the settings)
and answers an anonymous call with a 401 in JSON, where a page redirects to the log-in form.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import rates, services
from ..models import Assignment, Dataset, JobStatus, Prediction, TrainingJob
from ..ratelimit import RATE_LIMITED, RateLimitedAuthenticationForm
from ..responses import file_response, model_download, png_response, tflite_download
from ..roles import may_delete
from ..views.refusals import refusal_as_404
from . import serializers as s
from .permissions import TeachesCourse

PNG = OpenApiResponse(OpenApiTypes.BINARY, description="A PNG image.")


class ById:
    """Objects are named by their integer ids (``<int:pk>``), as on the pages."""

    lookup_value_converter = "int"


def _created(view, obj, route: str) -> Response:
    """201 Created: ``obj`` as ``view`` shows it, and where to read it again."""
    obj.refresh_from_db()  # sent to its queue on commit, or not: ``queue_notice`` says
    answer = view.get_serializer(obj)
    return Response(
        answer.data,
        status=status.HTTP_201_CREATED,
        headers={"Location": s.link(answer, route, obj.pk)},
    )


@csrf_exempt  # it changes nothing; a script's POST gets the same JSON 404
@login_not_required  # a token is not a session: no log-in page for a script
def not_found(request, path):
    """Any other path under ``/api/`` (an id that is not a number, say): a JSON 404, as
    the API's own, rather than Django's HTML page."""
    return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)


class TokenView(APIView):
    """Trade a username and password for the account's API token.

    Checked exactly as the log-in page checks them, rate limits included: too many
    failures for the username or from the address are answered 429 with Retry-After.
    """

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    serializer_class = s.Credentials

    @extend_schema(request=s.Credentials, responses={200: s.ApiToken})
    def post(self, request):
        # The shape first (a JSON list is no form's data), then the log-in page's checks.
        s.Credentials(data=request.data).is_valid(raise_exception=True)
        form = RateLimitedAuthenticationForm(request._request, data=request.data)
        if not form.is_valid():
            if form.has_error("__all__", RATE_LIMITED):
                raise exceptions.Throttled(form.retry_after, " ".join(form.non_field_errors()))
            raise exceptions.ValidationError(s.form_errors(form))
        token = Token.objects.get_or_create(user=form.get_user())[0]
        return Response({"token": token.key})


class DatasetViewSet(ById, viewsets.ReadOnlyModelViewSet):
    """The data sets the caller may see, as on the Data sets page."""

    serializer_class = s.DatasetSerializer

    def get_queryset(self):
        return Dataset.visible_to(self.request.user)


def _destroy(user, row, delete):
    """Delete ``row`` with the service ``delete``, for its owner or an admin. Someone who
    may only see it gets a 404, as someone who may not see it at all; a refusal is a 409
    with the reason."""
    if not may_delete(user, row):
        raise exceptions.NotFound()
    delete(row)


@extend_schema_view(
    create=extend_schema(request=s.NewTrainingJob),
    destroy=extend_schema(
        description=(
            "Delete a finished, failed or cancelled job of the caller's (admins: anyone's), with "
            "its model, evaluations and the predictions made with it. A job still queued or "
            "running, or one a course relies on (grading model, published, graded submissions), "
            "is kept: 409 with the reason."
        )
    ),
)
class TrainingJobViewSet(
    ById,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Training jobs: students see their own, instructors and admins everybody's."""

    serializer_class = s.TrainingJobSerializer

    def get_queryset(self):
        return TrainingJob.visible_to(self.request.user)

    def perform_destroy(self, instance):
        _destroy(self.request.user, instance, services.delete_training_job)

    def create(self, request):
        """Queue a training job, with the fields and checks of the New job form."""
        job_request = s.NewTrainingJob(
            data=request.data,
            context=self.get_serializer_context(),
            form_kwargs={"user": request.user},
        )
        job_request.is_valid(raise_exception=True)
        rates.check_work(request.user)
        job = services.create_training_job(owner=request.user, **job_request.form.job_fields())
        return _created(self, job, "api:job-detail")

    @extend_schema(request=None, responses={200: s.TrainingJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a queued job, or stop a running one after its current batch."""
        job = self.get_object()
        services.cancel_job(request.user, job)
        job.refresh_from_db()
        return Response(self.get_serializer(job).data)

    @extend_schema(responses={200: s.EpochMetricSerializer(many=True)})
    @action(detail=True, pagination_class=None)
    def metrics(self, request, pk=None):
        """The finished epochs: loss and accuracy, on the training and validation data."""
        job = self.get_object()
        return Response(s.EpochMetricSerializer(job.metrics.all(), many=True).data)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True)
    def model(self, request, pk=None):
        """The trained model as a ``.keras`` file (its characters and input size inside)."""
        job = self.get_object()
        services.check_may_act(request.user, job)
        return model_download(job)

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @action(detail=True)
    def tflite(self, request, pk=None):
        """The model as TensorFlow Lite, zipped with model.json (characters, input)."""
        job = self.get_object()
        services.check_may_act(request.user, job)
        return tflite_download(job)

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=s.JOB_FIGURES),
            OpenApiParameter(
                "epoch",
                int,
                OpenApiParameter.QUERY,
                required=False,
                description="For embedding: the epoch to map (the newest by default).",
            ),
        ],
        responses={(200, "image/png"): PNG},
    )
    @action(detail=True, url_path="figures/<str:kind>", url_name="figure")
    def figure(self, request, kind, pk=None):
        """A figure: ``curves`` and ``embedding`` (the validation samples on the last
        hidden layer after epoch ``?epoch=``, the newest by default) any time; the others
        once it succeeded."""
        job = self.get_object()
        if kind not in s.JOB_FIGURES:
            raise Http404(_("No such figure."))
        if kind == "embedding":
            epoch = request.query_params.get("epoch")
            if epoch is not None and not epoch.isdigit():
                raise Http404(_("No such epoch."))
            with refusal_as_404():
                return png_response(services.embedding_plot(job, int(epoch) if epoch else None))
        if kind != "curves" and job.status != JobStatus.SUCCEEDED:
            raise Http404(_("The job has not finished."))
        with refusal_as_404():  # what it is drawn from is gone
            return png_response(services.job_plot(job, kind))


@extend_schema_view(
    create=extend_schema(request=s.NewPrediction),
    destroy=extend_schema(
        description=(
            "Delete one of the caller's predictions (admins: anyone's) with its images. A "
            "submission to an assignment is kept as the course's record: 409 with the reason."
        )
    ),
)
class PredictionViewSet(
    ById,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Predictions: the caller's own (the list), and the submissions to an instructor's
    courses too (one by one), as on the pages."""

    serializer_class = s.PredictionSerializer

    def get_queryset(self):
        if self.action == "list":
            return Prediction.objects.filter(owner=self.request.user).select_related("model")
        if self.action == "verdict":  # only a submission has one
            return Prediction.visible_to(self.request.user).filter(assignment__isnull=False)
        return Prediction.visible_to(self.request.user)

    def perform_destroy(self, instance):
        _destroy(self.request.user, instance, services.delete_prediction)

    def create(self, request):
        """Classify an uploaded image (multipart ``image``) with a finished job's model.

        The answer waits briefly for the worker, as the Predict page does, so it usually
        holds the result; otherwise read the prediction again until its status is final.
        """
        models = services.usable_models(request.user)
        prediction_request = s.NewPrediction(
            data=request.data,
            context=self.get_serializer_context(),
            form_kwargs={"models": models},
        )
        prediction_request.is_valid(raise_exception=True)
        rates.check_work(request.user)
        form = prediction_request.form
        prediction = services.create_prediction(
            owner=request.user, wait=True, **form.prediction_fields()
        )
        return _created(self, prediction, "api:prediction-detail")

    @extend_schema(request=s.NewVerdict, responses={200: s.PredictionSerializer})
    @extend_schema(
        parameters=[
            OpenApiParameter("role", str, OpenApiParameter.PATH, enum=["predicted", "expected"])
        ],
        responses={(200, "image/png"): PNG},
    )
    @action(detail=True, url_path="saliency/<str:role>", url_name="saliency")
    def saliency(self, request, role, pk=None):
        """A saliency map (listed in the prediction's ``saliency``), once drawn."""
        prediction = self.get_object()
        if role not in dict(prediction.saliency_maps):
            raise Http404(_("No such map."))
        return file_response(prediction.saliency_path(role), "image/png")

    @action(
        detail=True,
        methods=["post"],
        permission_classes=[permissions.IsAuthenticated, TeachesCourse],
    )
    def verdict(self, request, pk=None):
        """The teacher's verdict on a submission to their course, which outranks the
        model's and survives regrades, and a comment the student sees."""
        submission = self.get_object()
        verdict_request = s.NewVerdict(data=request.data, context=self.get_serializer_context())
        verdict_request.is_valid(raise_exception=True)
        form = verdict_request.form
        submission = services.set_verdict(
            submission, request.user, form.cleaned_data["verdict"], form.cleaned_data["comment"]
        )
        context = self.get_serializer_context()
        return Response(s.PredictionSerializer(submission, context=context).data)


class AssignmentViewSet(ById, viewsets.ReadOnlyModelViewSet):
    """Assignments of the caller's courses; students submit, instructors read gradebooks."""

    serializer_class = s.AssignmentSerializer

    def get_queryset(self):
        return Assignment.visible_to(self.request.user).select_related("grader")

    @extend_schema(request=s.NewSubmission, responses={201: s.PredictionSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Hand in one image of one of the assignment's characters, to be graded."""
        assignment = self.get_object()
        submission_request = s.NewSubmission(
            data=request.data, context=self.get_serializer_context()
        )
        submission_request.is_valid(raise_exception=True)
        rates.check_work(request.user)
        form = submission_request.form
        submission = services.submit(
            assignment,
            request.user,
            form.cleaned_data["char"],
            again=form.cleaned_data["again"],
            wait=True,
            **form.image_fields(),
        )
        return Response(
            s.PredictionSerializer(submission, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": s.link(self, "api:prediction-detail", submission.pk)},
        )

    @extend_schema(responses={200: s.GradebookSerializer})
    @action(
        detail=True,
        permission_classes=[permissions.IsAuthenticated, TeachesCourse],
        pagination_class=None,
    )
    def gradebook(self, request, pk=None):
        """Students x characters: verdicts, confidences, attempts and scores (instructors)."""
        assignment = self.get_object()
        rates.check_work(request.user)
        return Response(s.GradebookSerializer(services.gradebook(assignment)).data)
