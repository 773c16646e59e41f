"""A failed data set offers "Edit and retry": its form, filled in with its settings;
building replaces it, under the same name if wanted."""

import pytest
from django.urls import reverse

from classifier import services
from classifier.ml import fonts
from classifier.ml.messages import Refusal
from classifier.ml.render import RenderSettings
from classifier.models import Dataset, JobStatus

pytestmark = pytest.mark.django_db


def _failed_rendering(staff, **rendering) -> Dataset:
    font = fonts.find_hangul_fonts()[0]
    dataset = services.create_font_dataset(
        name="glyphs",
        chars=list("가나다"),
        font_specs=[font.name],
        rendering=RenderSettings(height=32, width=32, per_font=3, seed=4, **rendering),
        user=staff,
        dispatch=False,
    )
    Dataset.claim(dataset.pk)
    dataset.fail("the font file vanished")
    dataset.refresh_from_db()
    return dataset


def test_a_failed_rendering_offers_its_form_filled_in(staff_client, staff):
    dataset = _failed_rendering(staff, style="print")
    page = staff_client.get(dataset.get_absolute_url()).content.decode()
    assert f'href="{reverse("classifier:dataset-render")}?retry={dataset.pk}"' in page
    response = staff_client.get(dataset.retry_url)
    form = response.context["form"]
    assert form.retrying == dataset
    assert {name: form[name].value() for name in ("name", "size", "charset", "chars")} == {
        "name": "glyphs",
        "size": "32x32",
        "charset": "custom",
        "chars": "가나다",
    }
    assert form["per_font"].value() == 3 and form["seed"].value() == 4
    assert form["style"].value() == "print" and form["fonts"].value() == dataset.params["fonts"]
    assert "whose build did not finish" in response.content.decode()


def test_building_again_replaces_the_failed_set_under_its_name(staff_client, staff):
    dataset = _failed_rendering(staff)
    form = staff_client.get(dataset.retry_url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data.update(per_font=2, augment="", hidden="")
    response = staff_client.post(dataset.retry_url, data)
    assert response.status_code == 302, response.context["form"].errors
    again = Dataset.objects.get()
    assert again.pk != dataset.pk and again.name == "glyphs"
    assert again.status == JobStatus.QUEUED and again.params["rendering"]["per_font"] == 2


def test_only_a_failed_or_cancelled_set_is_replaced(staff_client, staff):
    dataset = _failed_rendering(staff)
    data = {
        name: value
        for name, value in staff_client.get(dataset.retry_url).context["form"].initial.items()
    }
    Dataset.objects.filter(pk=dataset.pk).update(status=JobStatus.SUCCEEDED)
    assert Dataset.objects.get(pk=dataset.pk).retry_url == ""
    # A form still open on the old page: the name is taken again, nothing is replaced.
    response = staff_client.post(f"{reverse('classifier:dataset-render')}?retry={dataset.pk}", data)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert list(Dataset.objects.all()) == [dataset]
    with pytest.raises(Refusal, match="failed or was cancelled"):
        services.retry_dataset(dataset, lambda: None)
