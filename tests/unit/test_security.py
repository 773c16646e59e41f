"""Security outside the permission matrix: how user files are stored and served, server
import folders, CSRF, production settings, and that only the lab's own models load."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from classifier import services
from classifier.ml.sources import SourceError
from classifier.models import Dataset, JobStatus, Prediction
from tests.support.courses import make_grader
from tests.support.handwriting import drawing_of, photo_of
from tests.support.paths import REPO
from tests.support.phd08 import make_phd08_bytes, write_phd08_files

pytestmark = pytest.mark.django_db

RANDOM_NAME = re.compile(r"[0-9a-f]{16}")


@pytest.fixture
def grader(student_a, settings):
    """A finished job of student A whose model file holds only the lab's metadata."""
    settings.LAB_PREDICT_WAIT_SECONDS = 0
    return make_grader(student_a)


def _predict(client, job, **image):
    return client.post(reverse("classifier:predict"), {"model": job.pk, **image})


# --- Uploaded files: random names, safe content types, never run --------------------------


def test_uploads_are_stored_under_random_names(client, student_a, grader):
    client.force_login(student_a)
    for _ in range(2):
        photo = SimpleUploadedFile("../../evil name.html.jpg", photo_of("가"))
        assert _predict(client, grader, image=photo).status_code == 302
    first, second = Prediction.objects.order_by("pk")
    for prediction in (first, second):
        stem, _, extension = prediction.original_file.partition(".")
        assert RANDOM_NAME.fullmatch(stem) and extension == "jpg"
        assert prediction.original_path.read_bytes() == photo_of("가")
        # The name the user gave is only shown, never used as a path.
        assert prediction.original_name == "evil name.html.jpg"
        assert [p.name for p in prediction.file_dir.iterdir() if "step-" not in p.name] == [
            prediction.original_file
        ]
    assert first.original_file != second.original_file


def test_data_after_the_image_is_neither_read_nor_stored(client, student_a, grader):
    client.force_login(student_a)
    photo = photo_of("가")
    padded = SimpleUploadedFile("padded.jpg", photo + os.urandom(2 * 1024 * 1024))
    assert _predict(client, grader, image=padded).status_code == 302
    assert Prediction.objects.get().original_path.read_bytes() == photo


def test_data_set_uploads_go_to_random_folders(staff_client):
    files = [
        SimpleUploadedFile("가.txt", make_phd08_bytes(1)),
        SimpleUploadedFile("나.txt", make_phd08_bytes(1, seed=1)),
    ]
    response = staff_client.post(
        reverse("classifier:dataset-import"),
        {"name": "up", "size": "28x28", "sigma": "0.3", "files": files},
    )
    dataset = Dataset.objects.get(name="up")
    assert response["Location"] == dataset.get_absolute_url()
    folders = sorted(dataset.upload_dir.iterdir())
    assert len(folders) == 2 and all(RANDOM_NAME.fullmatch(f.name) for f in folders)
    assert sorted(p.name for f in folders for p in f.iterdir()) == ["가.txt", "나.txt"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.png", b"<html><script>alert(1)</script></html>"),
        ("photo.jpg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("photo.gif", b"GIF89a<script>alert(1)</script>"),
        ("model.keras", b"PK\x03\x04 not an image"),
    ],
)
def test_files_that_are_not_images_are_refused_and_not_stored(
    client, student_a, grader, name, data
):
    client.force_login(student_a)
    response = _predict(client, grader, image=SimpleUploadedFile(name, data))
    assert response.status_code == 400
    assert not Prediction.objects.exists()
    assert not (django_settings.MEDIA_ROOT / "predictions").exists()


def test_user_files_are_served_with_explicit_types_and_nosniff(client, student_a, grader):
    assert "django.middleware.security.SecurityMiddleware" in django_settings.MIDDLEWARE
    assert django_settings.SECURE_CONTENT_TYPE_NOSNIFF
    client.force_login(student_a)
    # An image with HTML after its end: still a PNG to a browser that is told so.
    polyglot = SimpleUploadedFile("x.png", _png_bytes() + b"<html><script>alert(1)</script>")
    _predict(client, grader, canvas=drawing_of("가"))
    _predict(client, grader, image=polyglot)
    drawing, upload = Prediction.objects.order_by("pk")

    original = client.get(reverse("classifier:prediction-original", args=[upload.pk]))
    assert original["Content-Type"] == "image/png"
    assert original["X-Content-Type-Options"] == "nosniff"
    assert original["Content-Disposition"] == f'attachment; filename="prediction-{upload.pk}.png"'
    assert "sandbox" in original["Content-Security-Policy"]
    step = client.get(reverse("classifier:prediction-step", args=[drawing.pk, "input"]))
    assert step["Content-Type"] == "image/png" and step["X-Content-Type-Options"] == "nosniff"

    for url, content_type in (
        (reverse("classifier:job-model", args=[grader.pk]), "application/octet-stream"),
        (
            reverse("classifier:dataset-export", args=[grader.dataset.pk]),
            "application/octet-stream",
        ),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == content_type, url
        assert response["Content-Disposition"].startswith("attachment;"), url
        assert response["X-Content-Type-Options"] == "nosniff", url


def _png_bytes() -> bytes:
    import base64

    return base64.b64decode(drawing_of("가").partition(",")[2])


def test_only_the_labs_own_model_files_are_loaded_and_in_safe_mode():
    """No form takes a model file, and every Keras load is in safe mode."""
    sources = {path: path.read_text() for path in (REPO / "classifier").rglob("*.py")}
    loads = [
        (path, match.group(0))
        for path, text in sources.items()
        for match in re.finditer(r"keras\.(?:saving|models)\.load_model\([^)]*\)", text)
    ]
    assert loads, "no Keras loads found: has the loader moved?"
    for path, call in loads:
        assert "safe_mode=True" in call, f"{path}: {call}"
    for path, text in sources.items():
        if "forms" in path.parts:
            assert ".keras" not in text and ".h5" not in text, path


# --- Server folders the web import may read ------------------------------------------------


@pytest.fixture
def import_root(tmp_path, settings):
    root = tmp_path / "imports"
    root.mkdir()
    settings.LAB_IMPORT_ROOTS = [root]
    return root


def _import(client, server_path, name="served"):
    return client.post(
        reverse("classifier:dataset-import"),
        {"name": name, "size": "28x28", "sigma": "0.3", "server_path": server_path},
    )


def test_web_import_reads_a_folder_inside_the_import_roots(staff_client, import_root):
    write_phd08_files(import_root / "phd08", chars="가나")
    response = _import(staff_client, str(import_root / "phd08"))
    dataset = Dataset.objects.get(name="served")
    assert response["Location"] == dataset.get_absolute_url()
    assert dataset.params["paths"] == [str((import_root / "phd08").resolve())]
    assert dataset.files_total == 2
    # A relative path is taken inside the first root.
    _import(staff_client, "phd08", name="relative")
    assert Dataset.objects.get(name="relative").params["paths"] == dataset.params["paths"]


@pytest.mark.parametrize("planted", ["symlinked file", "symlinked folder"])
def test_a_link_planted_after_the_import_was_made_is_not_followed(
    staff_client, import_root, tmp_path, planted
):
    """The web form checked the folder; by the time the worker reads it, a file (or a
    folder on the way) may have become a link to private files. The worker checks every
    file again and the build fails with the reason, reading nothing outside."""
    write_phd08_files(import_root / "phd08", chars="가나")
    _import(staff_client, str(import_root / "phd08"))
    dataset = Dataset.objects.get(name="served")
    outside = tmp_path / "private"
    write_phd08_files(outside / "phd08", chars="가나")
    if planted == "symlinked file":
        (import_root / "phd08" / "가.txt").unlink()
        (import_root / "phd08" / "가.txt").symlink_to(outside / "phd08" / "가.txt")
    else:
        (import_root / "phd08").rename(tmp_path / "moved")
        (import_root / "phd08").symlink_to(outside / "phd08", target_is_directory=True)
    services.run_dataset_build(dataset.pk)
    dataset.refresh_from_db()
    assert dataset.status == JobStatus.FAILED
    expected = "symbolic link" if planted == "symlinked file" else "outside the folders"
    assert expected in dataset.error_text, dataset.error_text
    assert not dataset.store_dir.exists() or not any(dataset.store_dir.glob("*.npz"))


@pytest.mark.parametrize("escape", ["dotdot", "absolute", "symlinked folder", "symlinked file"])
def test_web_import_cannot_leave_the_import_roots(staff_client, import_root, tmp_path, escape):
    outside = tmp_path / "private"
    write_phd08_files(outside, chars="가")
    path = {
        "dotdot": str(import_root / ".." / "private"),
        "absolute": str(outside),
        "symlinked folder": "link",
        "symlinked file": "folder",
    }[escape]
    (import_root / "link").symlink_to(outside, target_is_directory=True)
    (import_root / "folder").mkdir()
    (import_root / "folder" / "가.txt").symlink_to(outside / "가.txt")
    response = _import(staff_client, path)
    assert response.status_code == 200
    error = " ".join(response.context["form"].errors["server_path"])
    assert "outside the folders the lab imports from" in error
    assert str(import_root) in error
    assert not Dataset.objects.exists()


def test_web_import_from_server_folders_can_be_turned_off(staff_client, settings, tmp_path):
    settings.LAB_IMPORT_ROOTS = []
    write_phd08_files(tmp_path / "phd08", chars="가")
    response = _import(staff_client, str(tmp_path / "phd08"))
    assert "turned off" in " ".join(response.context["form"].errors["server_path"])
    assert not Dataset.objects.exists()


def _import_roots(**env) -> tuple[list[str], str]:
    base = {k: v for k, v in os.environ.items() if k != "LAB_IMPORT_ROOTS"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'labsite.settings'; "
            "django.setup(); from django.conf import settings as s; "
            "print(json.dumps([[str(p) for p in s.LAB_IMPORT_ROOTS], str(s.VAR_DIR)]))",
        ],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_import_roots_default_to_var_imports_only():
    roots, var_dir = _import_roots()
    assert roots == [str(Path(var_dir) / "imports")]
    assert _import_roots(LAB_IMPORT_ROOTS="/data/phd08:/srv/imports")[0] == [
        "/data/phd08",
        "/srv/imports",
    ]
    assert _import_roots(LAB_IMPORT_ROOTS="")[0] == []


def test_the_import_command_reads_any_path(tmp_path, settings):
    """Run on the server's shell by someone who can read the files anyway."""
    settings.LAB_IMPORT_ROOTS = []
    paths = write_phd08_files(tmp_path / "anywhere", chars="가나")
    dataset = services.create_phd08_dataset(
        name="cli", paths=paths, conversion=_conversion(), dispatch=False
    )
    assert dataset.files_total == 2
    with pytest.raises(SourceError, match="turned off"):
        services.create_phd08_dataset(
            name="web", paths=paths, conversion=_conversion(), dispatch=False, allowed_roots=[]
        )


def _conversion():
    from classifier.ml.convert import ConversionSettings

    return ConversionSettings()


# --- CSRF ------------------------------------------------------------------------------------


def test_every_post_form_in_the_templates_carries_a_csrf_token():
    forms = 0
    for path in (REPO / "templates").rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<form\b[^>]*>(.*?)</form>", text, re.S | re.I):
            if re.search(r'method="post"', match.group(0)[:200], re.I):
                forms += 1
                assert "{% csrf_token %}" in match.group(1), path
    assert forms >= 15


def test_posts_without_a_csrf_token_are_refused(student_a, staff, grader):
    dataset = grader.dataset
    student, admin = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    student.force_login(student_a)
    admin.force_login(staff)
    posts = [
        (
            Client(enforce_csrf_checks=True),
            "login",
            [],
            {"username": "student_a", "password": "pw-student_a"},
        ),
        (
            Client(enforce_csrf_checks=True),
            "signup",
            [],
            {"username": "x", "password1": "hangul-lab-pw-1", "password2": "hangul-lab-pw-1"},
        ),
        (student, "classifier:predict", [], {"model": grader.pk, "canvas": drawing_of("가")}),
        (student, "classifier:course-join", [], {"code": "ABCDEFGH"}),
        (student, "classifier:job-cancel", [grader.pk], {}),
        (admin, "classifier:dataset-delete", [dataset.pk], {}),
        (admin, "logout", [], {}),
    ]
    for client, name, args, data in posts:
        response = client.post(reverse(name, args=args), data)
        assert response.status_code == 403, name
        assert b"The form expired" in response.content, name  # the CSRF refusal, in words
    assert not Prediction.objects.exists() and Dataset.objects.filter(pk=dataset.pk).exists()
    # With the token from the page, the same log-in goes through.
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("login"))
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        reverse("login"),
        {"username": "student_a", "password": "pw-student_a", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


# --- Production settings ------------------------------------------------------------------

_PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({name: getattr(s, name, None) for name in ("
    "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
    "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_SSL_REDIRECT', "
    "'SECURE_CONTENT_TYPE_NOSNIFF', 'SECURE_PROXY_SSL_HEADER', 'X_FRAME_OPTIONS')}))"
)


def _settings_with(**env):
    drop = ("DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT", "SECURE_COOKIES")
    base = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "-c", _PRINT_SETTINGS],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**base, "DJANGO_SETTINGS_MODULE": "labsite.settings", **env},
        check=False,
    )


def test_behind_a_tls_proxy_the_settings_use_secure_cookies_and_hsts():
    result = _settings_with(SECRET_KEY="k7-Qz!p2" * 8, SECURE_SSL_REDIRECT="1", SECURE_COOKIES="1")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_HTTPONLY"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["SECURE_SSL_REDIRECT"] and values["SECURE_CONTENT_TYPE_NOSNIFF"]
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["X_FRAME_OPTIONS"] == "DENY"


def test_debug_is_off_unless_asked_for_and_make_run_serves_plain_http(tmp_path):
    """`make run` sets nothing: DEBUG off (no debug pages for a classroom), cookies over
    plain HTTP, no trust in a proxy header anyone could send, a key kept in var/."""
    values = json.loads(_settings_with(VAR_DIR=str(tmp_path)).stdout)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is False and values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0 and values["SECURE_PROXY_SSL_HEADER"] is None
    key = tmp_path / "secret_key"
    first = key.read_text()
    assert len(first) >= 50 and key.stat().st_mode & 0o777 == 0o600
    assert _settings_with(VAR_DIR=str(tmp_path)).returncode == 0
    assert key.read_text() == first, "a restart must keep the key (and the sessions)"
    assert json.loads(_settings_with(DEBUG="1").stdout)["DEBUG"] is True


def test_every_page_says_where_its_scripts_styles_and_pictures_may_come_from(client, student_a):
    """An injected script would not run: nothing inline, only the lab's own files."""
    client.force_login(student_a)
    for url in (reverse("classifier:home"), reverse("classifier:predict"), "/no-such-page/"):
        header = client.get(url)["Content-Security-Policy"]
        policy = {d.split()[0]: d.split()[1:] for d in header.split("; ")}
        assert policy == {"default-src": ["'self'"], "img-src": ["'self'", "data:"]}, url


# --- Odd input in query strings ----------------------------------------------------------

ODD_VALUES = ["9" * 30, "9" * 5000, "²", "-1", "1e3", "", "\x00", "1 OR 1=1", "%", "١٢"]


def test_odd_ids_in_query_strings_are_refused_or_ignored_never_errors(client, staff, grader):
    client.raise_request_exception = False
    for user in (grader.owner, staff):
        client.force_login(user)
        for value in ODD_VALUES:
            for name, parameter in (
                ("classifier:job-compare", "jobs"),
                ("classifier:model-summary", "dataset"),
                ("classifier:job-new", "dataset"),
                ("classifier:predict", "model"),
                ("classifier:dataset-handwriting", "assignment"),
                ("classifier:job-list", "page"),
                ("classifier:dataset-list", "page"),
                ("classifier:prediction-list", "page"),
            ):
                response = client.get(reverse(name), {parameter: value})
                assert response.status_code in (200, 400, 403), (user, name, value)
