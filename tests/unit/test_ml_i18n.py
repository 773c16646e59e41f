"""What ``classifier.ml`` says, and its figures' labels, in the reader's language.

The Korean expected here is looked up in the compiled catalogue and checked to differ
from the English (``korean()``), so a missing translation fails rather than passing on
English text. Tests marked ``korean`` keep the lab's default language (Korean).
"""

import io
import json
from types import SimpleNamespace

import matplotlib.text
import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from classifier import services
from classifier.i18n import message_of, stored, translate, translate_stored
from classifier.ml import (
    networks,
    phd08,
    plots,
    preprocess,
    sources,
    training_plots,
)
from classifier.ml.convert import ConversionSettings
from classifier.ml.messages import Refusal
from classifier.models import Dataset, JobStatus, Prediction, TrainingJob
from classifier.services.failures import describe_os_error
from tests.support.datasets import make_dataset
from tests.support.handwriting import photo_of
from tests.support.i18n import HANGUL, korean
from tests.support.jobs import make_queued_job, make_running_job, write_metadata_model
from tests.support.phd08 import upload_badly_named_file, write_phd08_files

pytestmark = pytest.mark.django_db


def in_korean(message) -> str:
    """``message`` (an ml Message) in Korean, each part checked to be translated."""
    korean(message.template)
    for value in message.params.values():
        if hasattr(value, "template"):
            korean(value.template)
    with translation.override("ko"):
        return translate(message)


def _finished_job(owner, dataset):
    """A job queued as the form queues it, then finished through the lifecycle, whose
    model file holds only the lab's metadata: enough for everything that happens before
    a model runs (checking and preprocessing images)."""
    job = make_queued_job(owner, dataset)
    write_metadata_model(job, dataset.classes)
    TrainingJob.claim(job.pk)
    job.succeed()
    return job


# --- Messages and how they are kept ------------------------------------------------


def test_a_nested_message_is_kept_as_json_and_read_in_either_language():
    with pytest.raises(phd08.Phd08Error) as caught:
        phd08.parse_phd08(b"S_0_0_0_0_0\n2 2\n01\n", "가.txt")
    message = message_of(caught.value)
    assert message.template == "%(name)s line %(line)d (sample %(header)s): %(problem)s"

    template, params = stored(message)
    problem = params["problem"]
    assert json.loads(json.dumps(params)) == params
    assert problem["template"] == message.params["problem"].template

    with translation.override("en"):
        assert translate_stored(template, params) == str(message)
    with translation.override("ko"):
        expected = korean(template) % {
            **params,
            "problem": korean(problem["template"]) % problem["params"],
        }
        assert translate_stored(template, params) == expected
    assert expected == in_korean(message) and HANGUL.search(expected)


def test_a_badly_named_file_found_on_disk_keeps_its_message(tmp_path):
    """SourceError wraps the reader's Phd08Error: the message must survive, not its text."""
    bad = tmp_path / "hello.txt"
    bad.write_text("S_0_0_0_0_0\n1 1\n1\n")
    with pytest.raises(sources.SourceError) as wrapped:
        sources.collect_phd08_inputs(
            [bad], max_zip_bytes=10**6, max_zip_members=10, max_member_bytes=10**6
        )
    with pytest.raises(phd08.Phd08Error) as original:
        phd08.label_from_filename("hello.txt")
    message = message_of(wrapped.value)
    assert message.template == message_of(original.value).template
    assert message.params == {"name": "hello.txt"}


# --- Shown at once: forms, JSON, pages -------------------------------------------


@pytest.mark.korean
def test_a_malformed_layer_spec_is_explained_in_korean(client, student_a):
    dataset = make_dataset(chars="가나다")
    client.force_login(student_a)
    response = client.post(
        reverse("classifier:job-new"),
        {
            "dataset": dataset.pk,
            "model": "custom",
            "spec": "conv9999-dense8",
            "optimizer": "adam",
            "learning_rate": "0.001",
            "epochs": "1",
            "batch_size": "8",
            "seed": "0",
            "split_kind": "stratified",
            "val_fraction": "0.2",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    with pytest.raises(Refusal) as caught:
        networks.parse_spec("conv9999-dense8")
    message = message_of(caught.value)
    assert escape(in_korean(message)) in html
    assert str(message) not in html


@pytest.mark.korean
def test_the_model_summary_json_says_what_is_wrong_in_korean(client, student_a):
    dataset = make_dataset(chars="가나다", size=(8, 8))
    client.force_login(student_a)
    response = client.get(
        reverse("classifier:model-summary"), {"dataset": dataset.pk, "spec": "pool-pool-pool-pool"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    with translation.override("ko"):
        expected = translate_stored(
            "Too many pool layers for %(height)dx%(width)d images: "
            "the image is %(rows)dx%(columns)d by then.",
            {"height": 8, "width": 8, "rows": 1, "columns": 1},
        )
    assert error == expected and HANGUL.search(error)


@pytest.mark.korean
def test_a_file_that_is_not_an_image_is_refused_in_korean(client, student_a, settings):
    settings.LAB_PREDICT_WAIT_SECONDS = 0
    job = _finished_job(student_a, make_dataset(chars="가나다"))
    client.force_login(student_a)
    upload = io.BytesIO(b"plain text, not a picture")
    upload.name = "notes.png"
    response = client.post(reverse("classifier:predict"), {"model": job.pk, "image": upload})
    assert response.status_code == 400
    with pytest.raises(preprocess.ImageRejected) as caught:
        preprocess.open_image(b"plain text, not a picture")
    html = response.content.decode()
    assert escape(in_korean(message_of(caught.value))) in html
    assert not Prediction.objects.exists()


@pytest.mark.korean
def test_a_badly_named_phd08_upload_is_refused_in_korean(staff_client, tmp_path):
    response = upload_badly_named_file(staff_client, tmp_path)
    with pytest.raises(phd08.Phd08Error) as caught:
        phd08.label_from_filename("hello.txt")
    html = response.content.decode()
    assert escape(in_korean(message_of(caught.value))) in html
    assert str(message_of(caught.value)) not in html
    assert not Dataset.objects.exists()


@pytest.mark.korean
def test_the_preprocessing_steps_are_titled_in_the_readers_language(client, student_a, settings):
    settings.LAB_PREDICT_WAIT_SECONDS = 0
    job = _finished_job(student_a, make_dataset(chars="가나다"))
    client.force_login(student_a)
    photo = io.BytesIO(photo_of("가"))
    photo.name = "photo.jpg"
    response = client.post(reverse("classifier:predict"), {"model": job.pk, "image": photo})
    prediction = Prediction.objects.get()
    assert response.status_code == 302

    steps = dict(prediction.steps)
    assert steps["input"] == {
        "template": "Model input, %(height)d × %(width)d",
        "params": {"height": 28, "width": 28},
    }
    html = client.get(prediction.get_absolute_url()).content.decode()
    assert escape(korean("Grayscale")) in html
    assert escape(korean(steps["input"]["template"]) % {"height": 28, "width": 28}) in html
    english = client.get(prediction.get_absolute_url(), headers={"accept-language": "en"})
    assert "Model input, 28 × 28" in english.content.decode()


# --- Stored by the worker, read later ----------------------------------------------


@pytest.mark.korean
def test_a_phd08_import_failure_is_stored_for_every_language(staff_client, tmp_path):
    files = write_phd08_files(tmp_path / "bad", chars="가나", per_group=1)
    lines = files[1].read_text().splitlines()
    lines[3] += "0"  # one pixel row too long
    files[1].write_text("\n".join(lines) + "\n")
    dataset = services.create_phd08_dataset(
        name="bad-set",
        paths=[str(f) for f in files],
        conversion=ConversionSettings(),
        dispatch=False,
    )
    dataset = services.run_dataset_build(dataset.pk)
    assert dataset.status == JobStatus.FAILED
    assert dataset.error == "%(name)s line %(line)d (sample %(header)s): %(problem)s"
    problem = dataset.error_params["problem"]
    assert problem["template"] == "row %(row)d has %(length)d characters, expected %(width)d."

    with translation.override("en"):
        english = dataset.error_text
    assert english.startswith(f"{files[1].name} line 4 (sample ")
    assert "characters, expected" in english
    with translation.override("ko"):
        in_ko = dataset.error_text
    assert in_ko == korean(dataset.error) % {
        **dataset.error_params,
        "problem": korean(problem["template"]) % problem["params"],
    }
    assert escape(in_ko) in staff_client.get(dataset.get_absolute_url()).content.decode()


@pytest.mark.korean
def test_an_os_error_reason_is_stored_as_a_template(student_a):
    job = make_queued_job(student_a, make_dataset())
    TrainingJob.claim(job.pk)
    job.fail(describe_os_error(PermissionError(13, "no", "/media")))
    job.refresh_from_db()
    assert job.error == "The media folder is not writable (%(path)s). Check its permissions."
    assert job.error_params == {"path": "/media"}
    with translation.override("ko"):
        assert job.error_text == korean(job.error) % {"path": "/media"}
    with translation.override("en"):
        assert job.error_text == "The media folder is not writable (/media). Check its permissions."


# --- Figures ---------------------------------------------------------------------------


@pytest.fixture
def drawn_texts(monkeypatch):
    """Every text of every figure drawn from now on, as the figure holds it when saved."""
    texts, save = [], plots.figure_png

    def recording(fig):
        texts.extend(t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text())
        return save(fig)

    for module in (training_plots, plots):
        monkeypatch.setattr(module, "figure_png", recording)
    return texts


def test_job_figures_are_kept_per_language_and_labelled_in_it(student_a, drawn_texts):
    dataset = make_dataset(chars="가나")
    job = make_running_job(student_a, dataset)

    with translation.override("en"):
        english = services.job_plot(job, "curves")
    assert {"Loss", "Accuracy", "epoch", "train", "validation"} <= set(drawn_texts)
    drawn_texts.clear()
    with translation.override("ko"):
        in_korean_png = services.job_plot(job, "curves")
    labels = [korean(text) for text in ("Loss", "Accuracy", "epoch", "train", "validation")]
    assert set(labels) <= set(drawn_texts) and "Loss" not in drawn_texts

    folder = job.artifact_dir / "plots"
    assert sorted(p.name for p in folder.iterdir()) == ["curves-1-1-en.png", "curves-1-1-ko.png"]
    assert english != in_korean_png
    assert (folder / "curves-1-1-ko.png").read_bytes() == in_korean_png
    # A new epoch is a new version: both languages' old figures go.
    job.update_progress(epochs_done=2)
    with translation.override("ko"):
        services.job_plot(job, "curves")
    assert sorted(p.name for p in folder.iterdir()) == ["curves-1-2-ko.png"]


def test_the_bar_graph_is_titled_in_the_readers_language():
    many = SimpleNamespace(classes=list("가나다라") * 6, probabilities=[1 / 24] * 24, expected="")
    template = Template("{% load lab %}{% probability_bars prediction %}")
    for language, title in (
        ("en", "Top 10 of 24 characters"),
        ("ko", korean("Top %(shown)d of %(total)d characters") % {"shown": 10, "total": 24}),
    ):
        with translation.override(language):
            svg = template.render(Context({"prediction": many}))
        assert f">{escape(title)}</text>" in svg


def test_the_samples_chart_is_kept_per_language(student_a, drawn_texts):
    dataset = make_dataset(chars="가나")
    for language in ("en", "ko"):
        with translation.override(language):
            dataset.preview_png("counts")
    assert (dataset.store_dir / "preview-counts-en.png").exists()
    assert (dataset.store_dir / "preview-counts-ko.png").exists()
    assert "samples" in drawn_texts and korean("samples") in drawn_texts


def test_without_a_translator_the_figures_keep_english_labels(drawn_texts):
    training_plots.confusion_png([[1, 0], [0, 1]], ["가", "나"], translate=str.upper)
    assert {"PREDICTED", "TRUE", "FRACTION OF THE ROW"} <= set(drawn_texts)
