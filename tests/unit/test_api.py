"""The REST API: tokens and sessions, each endpoint, refusals in words, pages of results,
and the OpenAPI schema and docs. Who may call what is in test_permissions.py's matrix.

The world (users, data sets, jobs, a course with an assignment, predictions) is the
permission matrix's; no worker runs here, so queued work stays queued (the integration
test ``tests/integration/test_api_queue.py`` runs it through real workers).
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from classifier.models import JobStatus, Prediction, TrainingJob
from tests.support.clients import token_client
from tests.support.handwriting import drawing_of, photo_of
from tests.support.jobs import make_evaluated_job
from tests.support.predictions import make_stored_prediction
from tests.support.schema import SchemaCheck
from tests.support.world import PNG_STUB

pytestmark = pytest.mark.django_db


def _photo(char="가", name="photo.jpg"):
    return SimpleUploadedFile(name, photo_of(char), content_type="image/jpeg")


# --- Authentication ----------------------------------------------------------------------


def test_a_token_is_traded_for_username_and_password_and_authenticates(world):
    client = APIClient()
    answer = client.post("/api/token/", {"username": "student_a", "password": "pw-student_a"})
    assert answer.status_code == 200
    token = answer.json()["token"]
    assert token == Token.objects.get(user=world.users["student_a"]).key
    again = client.post(
        "/api/token/", {"username": "student_a", "password": "pw-student_a"}, format="json"
    )
    assert again.json() == {"token": token}

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    jobs = client.get("/api/jobs/").json()["results"]
    assert {job["id"] for job in jobs} == {world.job.pk, world.queued_job.pk}

    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    refused = client.get("/api/jobs/")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid token."}


def test_a_new_password_ends_the_tokens_given_for_the_old_one(client, student_a, settings):
    settings.PASSWORD_HASHERS = [  # the lab's: a log-in upgrades this old hash to Argon2id
        "labsite.passwords.Argon2idHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    token = Token.objects.create(user=student_a).key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    # A log-in that rehashes the same password with a newer hasher keeps the token.
    client.post(reverse("login"), {"username": "student_a", "password": "pw-student_a"})
    student_a.refresh_from_db()
    assert student_a.password.startswith("argon2")
    assert api.get("/api/jobs/").status_code == 200

    page = client.post(
        reverse("password_change"),
        {
            "old_password": "pw-student_a",
            "new_password1": "a-new-pass-phrase-9",
            "new_password2": "a-new-pass-phrase-9",
        },
    )
    assert page.status_code == 302
    assert api.get("/api/jobs/").status_code == 401
    assert not Token.objects.filter(user=student_a).exists()


def test_wrong_passwords_are_refused_and_then_rate_limited_like_the_log_in_page(world, settings):
    settings.LAB_LOGIN_MAX_FAILURES = 3
    client = APIClient()
    for _ in range(3):
        wrong = client.post("/api/token/", {"username": "student_a", "password": "nope"})
        assert wrong.status_code == 400
        assert "correct username and password" in wrong.json()["non_field_errors"][0]
    refused = client.post("/api/token/", {"username": "student_a", "password": "pw-student_a"})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= settings.LAB_LOGIN_FIRST_DELAY_SECONDS
    assert "Too many failed log-ins" in refused.json()["detail"]
    assert not Token.objects.exists()
    missing = client.post("/api/token/", {"username": "student_b"})
    assert missing.json() == {"password": ["This field is required."]}


def test_anonymous_calls_get_a_401_in_json_not_the_log_in_page(world):
    for url in ("/api/jobs/", f"/api/jobs/{world.job.pk}/", "/api/schema/?format=json"):
        answer = APIClient().get(url)
        assert answer.status_code == 401, url
        assert answer["WWW-Authenticate"] == "Token"
        assert json.loads(answer.content) == {
            "detail": "Authentication credentials were not provided."
        }


def test_the_log_in_session_of_the_pages_works_too(client, world):
    client.force_login(world.users["student_b"])
    answer = client.get("/api/datasets/", HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    names = [d["name"] for d in answer.json()["results"]]
    assert names == ["spare", "tiny", "tiny-again"]  # no hidden test set, nothing building
    # The browsable API, for people.
    page = client.get("/api/datasets/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and "tiny-again" in page.content.decode()


def test_requests_beyond_the_api_rate_are_slowed_down(world, settings, shared_rates):
    settings.LAB_API_RATE = "3/minute"
    client = token_client(world.users["student_a"])
    assert [client.get("/api/datasets/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert int(client.get("/api/datasets/")["Retry-After"]) > 0
    other = token_client(world.users["student_b"])
    assert other.get("/api/datasets/").status_code == 200  # per user


# --- Data sets ---------------------------------------------------------------------------


def test_a_data_set_lists_its_characters_and_size(world):
    answer = token_client(world.users["student_a"]).get(f"/api/datasets/{world.ds.pk}/").json()
    assert answer["name"] == "tiny" and answer["status"] == "SUCCEEDED"
    assert answer["classes"] == ["가", "나", "다"] and answer["num_samples"] == 12
    assert (answer["height"], answer["width"]) == (28, 28)
    assert answer["page"] == f"http://testserver/datasets/{world.ds.pk}/"


# --- Training jobs -----------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["multipart", "json"])
def test_a_job_is_created_with_the_forms_defaults_and_queued_on_commit(
    world, django_capture_on_commit_callbacks, encoding
):
    client = token_client(world.users["student_b"])
    with django_capture_on_commit_callbacks() as dispatches:
        answer = client.post(
            "/api/jobs/", {"dataset": world.ds.pk, "epochs": 2, "chars": "가나"}, format=encoding
        )
    assert answer.status_code == 201, answer.json()
    job = TrainingJob.objects.get(pk=answer.json()["id"])
    assert answer["Location"] == f"http://testserver/api/jobs/{job.pk}/"
    assert (job.owner, job.dataset, job.chars) == (world.users["student_b"], world.ds, ["가", "나"])
    # What the New job form starts with: the Tutorial MLP, adam, batches of 32, 20% held out.
    assert (job.model_spec, job.optimizer, job.batch_size, job.epochs, job.split) == (
        "mlp",
        "adam",
        32,
        2,
        "stratified:0.2",
    )
    assert job.param_count > 0 and job.status == JobStatus.QUEUED
    assert len(dispatches) == 1  # sent to the train queue once the row is committed
    assert answer.json()["status"] == "QUEUED" and answer.json()["classes"] == ["가", "나"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"epochs": 0}, "epochs", "Ensure this value is greater than or equal to 1."),
        ({"epochs": "many"}, "epochs", "Enter a whole number."),
        ({"chars": "가하"}, "chars", "Not in tiny: 하"),
        ({"model": "custom", "spec": "conv32-wobble"}, "spec", "wobble"),
        (
            {"split_kind": "group", "held_out": "S,G"},
            "held_out",
            "Keep at least one group for training.",
        ),
        ({"dataset": None}, "dataset", "This field is required."),
        ({"optimizer": "magic"}, "optimizer", "Select a valid choice."),
    ],
)
def test_bad_job_input_gets_a_400_with_the_forms_message_and_nothing_is_made(
    world, fields, field, message
):
    data = {
        key: value
        for key, value in ({"dataset": world.ds.pk} | fields).items()
        if value is not None
    }
    answer = token_client(world.users["student_a"]).post("/api/jobs/", data)
    assert answer.status_code == 400
    assert message in " ".join(answer.json()[field])
    assert TrainingJob.objects.count() == 3


def test_a_body_that_is_not_an_object_is_refused(world):
    answer = token_client(world.users["student_a"]).post("/api/jobs/", [1, 2], format="json")
    assert answer.status_code == 400
    assert answer.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


def test_students_cannot_train_on_a_hidden_test_set_nor_beyond_their_job_limit(world, settings):
    client = token_client(world.users["student_a"])
    hidden = client.post("/api/jobs/", {"dataset": world.hidden.pk})
    assert hidden.status_code == 400
    assert "Select a valid choice" in hidden.json()["dataset"][0]
    settings.LAB_MAX_ACTIVE_JOBS = 1  # student A already has a queued job
    limited = client.post("/api/jobs/", {"dataset": world.ds.pk})
    assert limited.json() == {
        "non_field_errors": [
            "You already have 1 jobs or evaluations queued or running; wait for one to finish."
        ]
    }


def test_refusals_speak_the_callers_language(world):
    client = token_client(world.users["student_a"])
    english = client.post("/api/jobs/", {"dataset": world.ds.pk, "epochs": 0})
    korean = client.post(
        "/api/jobs/", {"dataset": world.ds.pk, "epochs": 0}, HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert korean.status_code == 400
    assert korean.json()["epochs"] != english.json()["epochs"]
    assert any("가" <= ch <= "힣" for ch in korean.json()["epochs"][0])
    anonymous = APIClient().get("/api/jobs/", HTTP_ACCEPT_LANGUAGE="ko")
    assert any("가" <= ch <= "힣" for ch in anonymous.json()["detail"])


def test_a_job_shows_its_status_epochs_and_artifacts(world):
    client = token_client(world.users["student_a"])
    job = client.get(f"/api/jobs/{world.job.pk}/").json()
    assert (job["status"], job["epochs_done"], job["percent_done"]) == ("SUCCEEDED", 2, 100)
    base = f"http://testserver/api/jobs/{world.job.pk}"
    assert job["artifacts"] == {
        "model": f"{base}/model/",
        "tflite": f"{base}/tflite/",
        "curves": f"{base}/figures/curves/",
        "embedding": None,  # trained before the lab mapped epochs
        "confusion": f"{base}/figures/confusion/",
        "mistakes": f"{base}/figures/mistakes/",
        "mistake_maps": f"{base}/figures/mistake-maps/",
        "reliability": f"{base}/figures/reliability/",
        "jamo": f"{base}/figures/jamo/",
        "filters": None,  # an MLP has no convolution
    }
    metrics = client.get(f"{base}/metrics/").json()
    assert [(m["epoch"], m["loss"]) for m in metrics] == [(1, 1.0), (2, 0.5)]

    model = client.get(job["artifacts"]["model"])
    assert model.status_code == 200
    assert b"".join(model.streaming_content) == world.job.model_path.read_bytes()
    assert f"hangul-lab-job{world.job.pk}.keras" in model["Content-Disposition"]
    figure = client.get(job["artifacts"]["confusion"])
    assert (figure["Content-Type"], figure.content) == ("image/png", PNG_STUB)
    assert client.get(f"{base}/figures/landscape/").status_code == 404


def test_a_queued_job_has_no_model_or_result_figures_yet(world):
    client = token_client(world.users["student_a"])
    job = client.get(f"/api/jobs/{world.queued_job.pk}/").json()
    assert job["status"] == "QUEUED" and job["epochs_done"] == 0
    assert job["artifacts"]["model"] is None and job["artifacts"]["confusion"] is None
    assert client.get(job["artifacts"]["curves"]).status_code == 200
    confusion = client.get(f"/api/jobs/{world.queued_job.pk}/figures/confusion/")
    assert confusion.status_code == 404
    assert confusion.json() == {"detail": "The job has not finished."}
    assert client.get(f"/api/jobs/{world.queued_job.pk}/model/").status_code == 404


def test_a_finished_job_whose_evaluation_is_gone_has_no_result_figures(world, client):
    job = TrainingJob.objects.create(
        owner=world.users["student_a"],
        dataset=world.ds,
        model_spec="mlp",
        status=JobStatus.SUCCEEDED,
    )
    reason = f"Job #{job.pk} has no evaluation to draw this figure from."
    answer = token_client(world.users["student_a"]).get(f"/api/jobs/{job.pk}/figures/mistakes/")
    assert (answer.status_code, answer.json()) == (404, {"detail": reason})
    client.force_login(world.users["student_a"])
    assert client.get(f"/jobs/{job.pk}/confusion.png").status_code == 404  # was a 500


def test_cancelling_a_job_and_cancelling_it_again(world):
    client = token_client(world.users["student_a"])
    cancelled = client.post(f"/api/jobs/{world.queued_job.pk}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    again = client.post(f"/api/jobs/{world.queued_job.pk}/cancel/")
    assert again.status_code == 409  # well formed; the job's state forbids it
    assert again.json() == {"detail": f"Job #{world.queued_job.pk} has already ended (Cancelled)."}


def test_job_lists_come_in_pages_of_25(world):
    student = world.users["student_a"]
    TrainingJob.objects.bulk_create(
        TrainingJob(owner=student, dataset=world.ds, model_spec="mlp") for _ in range(28)
    )
    client = token_client(student)
    first = client.get("/api/jobs/").json()
    assert first["count"] == 30 and len(first["results"]) == 25 and first["previous"] is None
    assert first["next"] == "http://testserver/api/jobs/?page=2"
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5 and second["next"] is None
    seen = {job["id"] for job in first["results"] + second["results"]}
    assert seen == set(TrainingJob.objects.filter(owner=student).values_list("pk", flat=True))


# --- Predictions -------------------------------------------------------------------------


def test_an_uploaded_photo_is_preprocessed_stored_and_queued(
    world, django_capture_on_commit_callbacks
):
    client = token_client(world.users["student_a"])
    with django_capture_on_commit_callbacks() as dispatches:
        answer = client.post(
            "/api/predictions/", {"model": world.job.pk, "image": _photo(), "expected": "가"}
        )
    assert answer.status_code == 201, answer.json()
    prediction = Prediction.objects.get(pk=answer.json()["id"])
    assert answer["Location"] == f"http://testserver/api/predictions/{prediction.pk}/"
    assert (prediction.owner, prediction.model, prediction.expected, prediction.source) == (
        world.users["student_a"],
        world.job,
        "가",
        "upload",
    )
    assert prediction.original_path.read_bytes() == photo_of("가")
    assert prediction.input_path.exists()
    assert len(dispatches) == 1
    assert answer.json()["status"] == "QUEUED" and answer.json()["char"] == ""


def test_a_predictions_result(world):
    answer = token_client(world.users["student_a"]).get(f"/api/predictions/{world.prediction.pk}/")
    result = answer.json()
    assert (result["status"], result["char"], result["confidence"]) == ("SUCCEEDED", "가", 0.4)
    assert result["top5"] == [["가", 1 / 3], ["나", 1 / 3], ["다", 1 / 3]]
    assert result["model"] == world.job.pk and result["correct"] is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({}, "non_field_errors", "Upload a photo or draw the character first."),
        (
            {"image": SimpleUploadedFile("notes.jpg", b"not an image at all")},
            "non_field_errors",
            "not an image",
        ),
        (
            {"canvas": drawing_of("가"), "image": "photo"},
            "non_field_errors",
            "either a photo or a drawing",
        ),
        ({"expected": "밟", "image": "photo"}, "expected", "does not know 밟"),
        ({"model": "grader", "image": "photo"}, "model", "You cannot use this model here"),
    ],
)
def test_bad_prediction_input_gets_a_400_with_its_reason_and_nothing_is_stored(
    world, fields, field, message
):
    data = {"model": world.job.pk} | fields
    if data.get("image") == "photo":
        data["image"] = _photo()
    if data["model"] == "grader":  # published to a course student B is not in
        data["model"] = world.grader.pk
    user = world.users["student_b" if fields.get("model") == "grader" else "student_a"]
    answer = token_client(user).post("/api/predictions/", data)
    assert answer.status_code == 400
    assert message in " ".join(answer.json()[field]), answer.json()
    assert Prediction.objects.count() == 2


def test_the_prediction_list_holds_only_the_callers_own(world):
    mine = token_client(world.users["student_a"]).get("/api/predictions/").json()["results"]
    assert {p["id"] for p in mine} == {world.prediction.pk, world.submission.pk}
    assert token_client(world.users["instructor"]).get("/api/predictions/").json()["count"] == 0


# --- Assignments -------------------------------------------------------------------------


def test_a_student_lists_assignments_and_submits_a_drawing(
    world, django_capture_on_commit_callbacks
):
    client = token_client(world.users["student_a"])
    (listed,) = client.get("/api/assignments/").json()["results"]
    assert (listed["id"], listed["title"], listed["chars"]) == (
        world.assignment.pk,
        "Week 1",
        ["가", "나"],
    )
    assert listed["course"] == "Hangul 101" and listed["is_past_due"] is False
    url = f"/api/assignments/{world.assignment.pk}/submit/"
    with django_capture_on_commit_callbacks() as dispatches:
        answer = client.post(url, {"char": "나", "canvas": drawing_of("나")}, format="json")
    assert answer.status_code == 201, answer.json()
    submission = Prediction.objects.get(pk=answer.json()["id"])
    assert (submission.assignment, submission.expected, submission.attempt) == (
        world.assignment,
        "나",
        1,
    )
    assert submission.model == world.grader and len(dispatches) == 1
    assert answer.json()["status"] == "QUEUED" and answer.json()["expected"] == "나"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"char": "다"}, "다 is not one of this assignment's characters."),
        ({"char": "가", "attempts": 1}, "You have used all 1 attempts for 가."),
        ({"char": "가", "past_due": True}, "it takes no more submissions."),
    ],
)
def test_a_refused_submission_says_why_and_stores_nothing(world, fields, message):
    if fields.get("attempts"):
        world.assignment.attempts_allowed = fields["attempts"]
    if fields.get("past_due"):
        world.assignment.due_at = world.assignment.created_at
    world.assignment.save()
    answer = token_client(world.users["student_a"]).post(
        f"/api/assignments/{world.assignment.pk}/submit/",
        {"char": fields["char"], "image": _photo(fields["char"])},
    )
    assert answer.status_code == 400
    assert message in answer.json()["non_field_errors"][0]
    assert Prediction.objects.count() == 2


def test_the_instructor_reads_the_gradebook_as_json(world):
    book = (
        token_client(world.users["instructor"])
        .get(f"/api/assignments/{world.assignment.pk}/gradebook/")
        .json()
    )
    assert book["assignment"] == world.assignment.pk and book["chars"] == ["가", "나"]
    assert book["correct_per_char"] == [1, 0]
    (row,) = book["rows"]
    assert (row["student"], row["score"], row["late"]) == ("student_a", 1, False)
    assert (row["name"], row["student_number"]) == ("", "")
    assert row["cells"] == [
        {
            "char": "가",
            "verdict": "correct",
            "teacher_verdict": "",
            "comment": "",
            "attempts": 1,
            "submission": world.submission.pk,
            "confidence": 0.4,
            "late": False,
        },
        {
            "char": "나",
            "verdict": "missing",
            "teacher_verdict": "",
            "comment": "",
            "attempts": 0,
            "submission": None,
            "confidence": None,
            "late": False,
        },
    ]
    refused = token_client(world.users["student_a"]).get(
        f"/api/assignments/{world.assignment.pk}/gradebook/"
    )
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only the course's instructor may do this."}


# --- Schema and docs ---------------------------------------------------------------------

PATHS = {
    "/api/token/",
    "/api/datasets/",
    "/api/datasets/{id}/",
    "/api/jobs/",
    "/api/jobs/{id}/",
    "/api/jobs/{id}/cancel/",
    "/api/jobs/{id}/metrics/",
    "/api/jobs/{id}/model/",
    "/api/jobs/{id}/tflite/",
    "/api/jobs/{id}/figures/{kind}/",
    "/api/predictions/",
    "/api/predictions/{id}/",
    "/api/predictions/{id}/verdict/",
    "/api/predictions/{id}/saliency/{role}/",
    "/api/assignments/",
    "/api/assignments/{id}/",
    "/api/assignments/{id}/submit/",
    "/api/assignments/{id}/gradebook/",
}


def test_the_schema_is_valid_openapi_with_every_endpoint(world):
    answer = token_client(world.users["student_a"]).get("/api/schema/", {"format": "json"})
    assert answer.status_code == 200
    schema = json.loads(answer.content)
    validate_schema(schema)  # raises on anything that is not OpenAPI 3
    assert set(schema["paths"]) == PATHS
    job_fields = schema["components"]["schemas"]["NewTrainingJobRequest"]["properties"]
    assert {"dataset", "chars", "model", "spec", "epochs", "split_kind"} <= set(job_fields)
    assert job_fields["epochs"]["minimum"] == 1 and job_fields["epochs"]["default"] == 5
    upload = schema["paths"]["/api/predictions/"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["$ref"].endswith("/NewPredictionRequest")
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}


def test_every_answer_the_api_gives_is_one_its_schema_documents(world, settings, shared_rates):
    """Each operation, as it succeeds and as it fails (400, 401, 403, 404, 429): the
    status is documented for that operation, and a JSON body fits its documented schema."""
    users = world.users
    schema = token_client(users["student_a"]).get("/api/schema/", {"format": "json"})
    check = SchemaCheck(json.loads(schema.content))
    student, other, teacher = (
        token_client(users[name]) for name in ("student_a", "student_b", "instructor")
    )

    def call(client, method, path, data=None, **kwargs):
        response = getattr(client, method.lower())(path, data, **kwargs)
        check.check(method, path, response)
        return response

    job, queued, ds = world.job.pk, world.queued_job.pk, world.ds.pk
    # Reading, and what cannot be read.
    call(student, "GET", "/api/datasets/")
    call(student, "GET", f"/api/datasets/{ds}/")
    call(student, "GET", f"/api/datasets/{world.hidden.pk}/")  # a hidden test set: 404
    call(token_client(), "GET", "/api/jobs/")  # 401
    call(student, "GET", "/api/jobs/?page=99")  # Invalid page: 404
    call(student, "GET", "/api/jobs/?page=x")
    call(student, "GET", f"/api/jobs/{job}/")
    call(student, "GET", f"/api/jobs/{job}/metrics/")
    call(student, "GET", f"/api/jobs/{job}/model/")
    call(student, "GET", f"/api/jobs/{queued}/model/")  # no model yet: 404
    call(student, "GET", f"/api/jobs/{job}/tflite/")
    call(student, "GET", f"/api/jobs/{queued}/tflite/")  # none yet: 404
    for kind in ("curves", "confusion"):
        call(student, "GET", f"/api/jobs/{job}/figures/{kind}/")
    unevaluated = TrainingJob.objects.create(
        owner=users["student_a"], dataset=world.ds, model_spec="mlp", status=JobStatus.SUCCEEDED
    )
    call(student, "GET", f"/api/jobs/{unevaluated.pk}/figures/confusion/")  # nothing to draw: 404
    call(student, "GET", "/api/jobs/null,null/")  # not an id: a JSON 404, not Django's page
    call(student, "DELETE", "/api/predictions/1.5/")
    call(other, "GET", f"/api/jobs/{job}/")  # someone else's: 404
    call(student, "GET", "/api/predictions/")
    call(student, "GET", f"/api/predictions/{world.prediction.pk}/")
    call(student, "GET", f"/api/predictions/{world.prediction.pk}/saliency/predicted/")
    call(student, "GET", f"/api/predictions/{world.prediction.pk}/saliency/expected/")  # none: 404
    call(student, "GET", "/api/assignments/")
    call(student, "GET", f"/api/assignments/{world.assignment.pk}/")
    call(teacher, "GET", f"/api/assignments/{world.assignment.pk}/gradebook/")
    call(student, "GET", f"/api/assignments/{world.assignment.pk}/gradebook/")  # not theirs
    # Making things, and refusals.
    call(APIClient(), "POST", "/api/token/", {"username": "student_a", "password": "pw-student_a"})
    call(APIClient(), "POST", "/api/token/", {"username": "student_a", "password": "wrong"})
    call(APIClient(), "POST", "/api/token/", [None, None], format="json")  # not an object
    call(other, "POST", "/api/jobs/", b"\x00", content_type="application/json")  # not JSON
    call(other, "POST", "/api/jobs/", _job_fields(world))
    call(other, "POST", "/api/jobs/", {"epochs": 0})
    call(student, "POST", "/api/predictions/", {"model": job, "image": _photo()})
    call(student, "POST", "/api/predictions/", {"model": job})
    call(
        student,
        "POST",
        f"/api/assignments/{world.assignment.pk}/submit/",
        {"char": "나", "image": _photo("나")},
    )
    call(student, "POST", f"/api/assignments/{world.assignment.pk}/submit/", {"char": "가"})
    not_in_course = call(
        teacher,
        "POST",
        f"/api/assignments/{world.assignment.pk}/submit/",
        {"char": "가", "image": _photo()},
    )
    assert not_in_course.status_code == 403  # may see the assignment, may not hand in
    call(
        teacher, "POST", f"/api/predictions/{world.submission.pk}/verdict/", {"verdict": "correct"}
    )
    call(
        student, "POST", f"/api/predictions/{world.submission.pk}/verdict/", {"verdict": "correct"}
    )
    call(student, "POST", f"/api/jobs/{job}/cancel/")  # finished already: 409
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(users["student_a"])
    call(session, "POST", f"/api/jobs/{queued}/cancel/")  # no CSRF token: 403
    call(student, "POST", f"/api/jobs/{queued}/cancel/")
    # Deleting, and what is kept.
    call(student, "DELETE", f"/api/jobs/{make_evaluated_job(users['student_a'], world.ds).pk}/")
    running = TrainingJob.objects.create(
        owner=users["student_a"], dataset=world.ds, model_spec="mlp", status=JobStatus.RUNNING
    )
    call(student, "DELETE", f"/api/jobs/{running.pk}/")  # still running: 409
    mine = make_stored_prediction(users["student_a"], world.job)
    call(student, "DELETE", f"/api/predictions/{mine.pk}/")
    call(student, "DELETE", f"/api/predictions/{world.submission.pk}/")  # the course's: 409
    # Past the rate limit.
    settings.LAB_API_RATE = "1/minute"
    for _ in range(2):
        answer = call(other, "GET", "/api/datasets/")
    assert answer.status_code == 429

    assert check.operations - check.seen == set(), "operations this test does not try"


def _job_fields(world) -> dict:
    return {
        "dataset": world.ds.pk,
        "model": "mlp",
        "epochs": 2,
        "split_kind": "stratified",
        "val_fraction": 0.25,
    }


def test_the_docs_page_loads_with_its_scripts(client, world):
    client.force_login(world.users["student_a"])
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui-bundle.js" in html and "<script>" not in html  # no inline script
    sources = [part.split('"')[0] for part in html.split('src="')[1:]]
    bundle = next(src for src in sources if "swagger-ui-bundle.js" in src)
    assert client.get(bundle).status_code == 200  # served by the lab: no internet needed
    # The page's own script, which names the schema, comes from the lab too.
    setup = client.get(next(src for src in sources if "script=" in src))
    assert setup.status_code == 200 and "/api/schema/" in setup.content.decode()
    policy = page["Content-Security-Policy"]
    assert "script-src" not in policy and "default-src 'self'" in policy
