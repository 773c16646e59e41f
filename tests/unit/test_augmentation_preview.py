"""What augmentation means: the preview on the render form and a font data set's page."""

from dataclasses import asdict

import pytest
from django.urls import reverse

from classifier.ml import fonts
from classifier.ml.render import RenderSettings
from classifier.models import Dataset
from tests.support.datasets import make_dataset

PNG = b"\x89PNG\r\n\x1a\n"


def font_dataset(style="handwriting", font_names=None):
    """A ready data set recorded as rendered from fonts (its arrays are random)."""
    names = font_names or [fonts.plot_font().name]
    dataset = make_dataset(name=f"fonts-{style}", chars="밟가")
    dataset.source = Dataset.Source.FONTS
    dataset.params = {
        "chars": ["밟", "가"],
        "fonts": names,
        "rendering": asdict(RenderSettings(style=style)),
    }
    dataset.save()
    return dataset


def test_the_render_form_previews_the_chosen_style(staff_client):
    page = staff_client.get(reverse("classifier:dataset-render")).content.decode()
    assert 'id="style-preview"' in page and "?style=handwriting" in page
    url = reverse("classifier:render-preview")
    pictures = {}
    for style in ("handwriting", "print"):
        response = staff_client.get(url, {"style": style})
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        pictures[style] = response.content
        assert response.content.startswith(PNG)
    # The print style has no jamo or pen rows: a smaller picture of other samples.
    assert pictures["handwriting"] != pictures["print"]
    assert staff_client.get(url, {"style": "cursive"}).status_code == 404


def test_only_admins_see_the_render_preview(client, student_a):
    client.force_login(student_a)
    response = client.get(reverse("classifier:render-preview"))
    assert response.status_code in (302, 403)


@pytest.mark.korean
def test_a_font_data_set_shows_what_its_augmentation_does(client, student_a):
    dataset = font_dataset()
    client.force_login(student_a)
    page = client.get(dataset.get_absolute_url()).content.decode()
    url = reverse("classifier:dataset-augmentation", args=[dataset.pk])
    assert url in page
    response = client.get(url)
    assert response.status_code == 200 and response.content.startswith(PNG)
    # Kept once per language: the rows are named in the reader's.
    english = client.get(url, headers={"accept-language": "en"})
    assert english.status_code == 200 and english.content != response.content
    kept = sorted(path.name for path in dataset.store_dir.glob("preview-augmentation-*.png"))
    assert kept == ["preview-augmentation-en.png", "preview-augmentation-ko.png"]


def test_other_data_sets_have_no_augmentation_to_show(client, student_a):
    dataset = make_dataset(name="scans")
    client.force_login(student_a)
    assert "augmentation.png" not in client.get(dataset.get_absolute_url()).content.decode()
    url = reverse("classifier:dataset-augmentation", args=[dataset.pk])
    assert client.get(url).status_code == 404


def test_a_font_that_is_gone_is_said_rather_than_a_server_error(client, student_a):
    dataset = font_dataset(font_names=["NoSuchFont"])
    client.force_login(student_a)
    response = client.get(reverse("classifier:dataset-augmentation", args=[dataset.pk]))
    assert response.status_code == 404


def test_the_render_form_keeps_the_chosen_style_and_defaults_to_handwriting(staff_client):
    url = reverse("classifier:dataset-render")
    common = {"size": "28x28", "charset": "custom", "chars": "가나", "per_font": "1", "seed": "0"}
    for name, extra, style in [("hand", {}, "handwriting"), ("print", {"style": "print"}, "print")]:
        response = staff_client.post(url, {"name": name, **common, **extra})
        assert response.status_code == 302, response.content.decode()
        assert Dataset.objects.get(name=name).params["rendering"]["style"] == style
    response = staff_client.post(url, {"name": "odd", **common, "style": "cursive"})
    assert response.status_code == 200 and not Dataset.objects.filter(name="odd").exists()
