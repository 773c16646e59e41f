"""The New job page: where it starts, what it offers for the chosen data set, and
"Train again with changes"."""

import re

import pytest
from django.urls import reverse

from classifier import services
from classifier.models import TrainingJob
from tests.support.datasets import make_dataset
from tests.support.jobs import make_queued_job

pytestmark = pytest.mark.django_db

TUTORIAL8 = "라호댜밟자꺅갠아"


def _page(client, **query) -> str:
    response = client.get(reverse("classifier:job-new"), query)
    assert response.status_code == 200
    return response.content.decode()


def _selected_dataset(html) -> int:
    select = re.search(r'<select name="dataset".*?</select>', html, re.S).group(0)
    return int(re.search(r'<option value="(\d+)"[^>]*selected', select).group(1))


def test_the_form_starts_on_the_set_last_trained_on_else_the_demo(client, student_a):
    client.force_login(student_a)
    make_dataset("aaa-first-alphabetically")
    demo = make_dataset(services.DEMO_DATASET, chars=TUTORIAL8, per_char=2)
    other = make_dataset("other", chars="가나", per_char=2)
    assert _selected_dataset(_page(client)) == demo.pk
    make_queued_job(student_a, other)
    assert _selected_dataset(_page(client)) == other.pk
    assert _selected_dataset(_page(client, dataset=demo.pk)) == demo.pk


def test_the_tutorial_button_is_offered_for_sets_with_its_eight_characters(client, student_a):
    client.force_login(student_a)
    with_them = make_dataset("with-them", chars=TUTORIAL8, per_char=2)
    without = make_dataset("without", chars="가나다", per_char=2)
    html = _page(client)
    assert re.search(rf'<option value="{with_them.pk}"[^>]*data-tutorial8', html)
    option = re.search(rf'<option value="{without.pk}"[^>]*>', html).group(0)
    assert "data-tutorial8" not in option


def test_held_out_groups_are_a_checklist_of_each_sets_groups(client, student_a):
    client.force_login(student_a)
    fonts = make_dataset("fonts", groups=("NanumGothic", "UnBatang", "Baekmuk"), per_char=6)
    phd08 = make_dataset("phd08", groups=("S", "G"), per_char=4)
    html = _page(client)
    boxes = dict(re.findall(r'name="held_out" value="([^"]+)"[^>]*data-datasets="([^"]*)"', html))
    assert boxes["UnBatang"] == str(fonts.pk) and boxes["S"] == str(phd08.pk)
    response = client.post(
        reverse("classifier:job-new"),
        {
            "dataset": fonts.pk,
            "model": "mlp",
            "optimizer": "adam",
            "epochs": 1,
            "batch_size": 8,
            "seed": 0,
            "split_kind": "group",
            "held_out": ["UnBatang", "Baekmuk"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert TrainingJob.objects.get().split == "group:UnBatang,Baekmuk"


def test_holding_out_many_long_groups_fits_the_job_row(client, student_a):
    """A handwriting set's writers or a font set's faces can make a split of hundreds of
    characters; the row must hold it (PostgreSQL refused past 200 with a 500 error)."""
    writers = tuple(f"writer-{n:02d}-of-the-second-year-class" for n in range(20))
    dataset = make_dataset("writers", groups=writers, per_char=40)
    client.force_login(student_a)
    response = client.post(
        reverse("classifier:job-new"),
        {
            "dataset": dataset.pk,
            "model": "mlp",
            "optimizer": "adam",
            "epochs": 1,
            "batch_size": 8,
            "seed": 0,
            "split_kind": "group",
            "held_out": list(writers[:15]),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = TrainingJob.objects.get()
    assert len(job.split) > 500
    job.full_clean()  # the field's declared limit, which PostgreSQL enforces


def test_train_again_with_changes_fills_in_every_setting_of_the_job(client, student_a):
    client.force_login(student_a)
    dataset = make_dataset("fonts", groups=("NanumGothic", "UnBatang"), per_char=6)
    job = make_queued_job(
        student_a,
        dataset,
        chars=["가", "나"],
        model_spec="conv8-pool-dense16",
        optimizer="sgd",
        learning_rate=0.05,
        epochs=7,
        batch_size=16,
        seed=3,
        split="group:UnBatang",
    )
    detail = client.get(job.get_absolute_url()).content.decode()
    assert f"{reverse('classifier:job-new')}?from={job.pk}" in detail
    form = client.get(reverse("classifier:job-new"), {"from": job.pk}).context["form"]
    assert {name: form[name].value() for name in form.fields} == {
        "dataset": dataset.pk,
        "chars": "가나",
        "model": "custom",
        "spec": "conv8-pool-dense16",
        "optimizer": "sgd",
        "learning_rate": 0.05,
        "epochs": 7,
        "batch_size": 16,
        "seed": 3,
        "split_kind": "group",
        "val_fraction": 0.2,
        "held_out": "UnBatang",
        "tutorial_n": 3000,
    }
    html = _page(client, **{"from": job.pk})
    assert re.search(r'name="held_out" value="UnBatang"[^>]*checked', html)


def test_someone_elses_job_is_not_a_starting_point(client, student_a, student_b):
    dataset = make_dataset("tiny")
    job = make_queued_job(student_b, dataset, epochs=9)
    client.force_login(student_a)
    form = client.get(reverse("classifier:job-new"), {"from": job.pk}).context["form"]
    assert form["epochs"].value() == 5


def test_the_queued_message_is_marked_for_the_live_status_to_replace(client, student_a):
    client.force_login(student_a)
    dataset = make_dataset("tiny", per_char=4)
    fields = {"dataset": dataset.pk, "model": "mlp", "optimizer": "adam", "epochs": 1}
    fields |= {"batch_size": 8, "seed": 0, "split_kind": "stratified", "val_fraction": 0.25}
    page = client.post(reverse("classifier:job-new"), fields, follow=True).content.decode()
    # poll.js takes it away once the job moves on, or at once if it ended before the
    # page was drawn (static/js/poll.js: ".message.live").
    message = re.search(r'<p class="message ([^"]*)"[^>]*>Job #\d+ is queued\.</p>', page)
    assert message and "live" in message.group(1).split()


def test_a_batch_whose_activations_would_not_fit_is_refused_with_the_figure(
    client, student_a, settings
):
    """Two 512-filter convolutions pass the parameter and multiply-add limits, but at 4,096
    images a batch their activations need about 18 GiB: the worker would be killed."""
    settings.LAB_MAX_BATCH_ACTIVATIONS_MIB = 2048
    dataset = make_dataset("wide", chars="가나다라마바사아", per_char=4)
    client.force_login(student_a)
    post = {
        "dataset": dataset.pk,
        "model": "custom",
        "spec": "conv512x1-conv512x1",
        "optimizer": "adam",
        "epochs": 1,
        "batch_size": 4096,
        "seed": 0,
        "split_kind": "stratified",
        "val_fraction": 0.25,
    }
    refused = client.post(reverse("classifier:job-new"), post)
    errors = refused.context["form"].errors["batch_size"]
    assert "18.4 GiB" in errors[0] and "2.0 GiB" in errors[0], errors
    fits = int(re.search(r"at most (\d+) images", errors[0]).group(1))
    assert not TrainingJob.objects.exists()
    accepted = client.post(reverse("classifier:job-new"), {**post, "batch_size": fits})
    assert accepted.status_code == 302
    assert TrainingJob.objects.get().batch_size == fits
