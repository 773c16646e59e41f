"""Builders for handwriting tests: a real model trained on rendered Hangul, and photos of
characters written in a handwriting-like font it never saw, on uneven, off-white paper."""

import base64
import io
import shutil
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from classifier import services
from classifier.ml import fonts
from classifier.ml.render import RenderSettings, render_samples
from classifier.ml.store import StoreBuilder
from classifier.models import Dataset, JobStatus, TrainingJob
from tests.support.jobs import make_queued_job

TUTORIAL_CHARS = "라호댜밟자꺅갠아"
# The photos are written in these (handwriting-like) families; the model trains on every
# other installed font.
PHOTO_FAMILIES = ("UnPilgi", "UnGungseo")
_MODEL_CACHE = Path(tempfile.mkdtemp(prefix="lab-test-models-"))


def _font(name):
    return next(f for f in fonts.find_hangul_fonts() if f.name == name)


def training_fonts():
    return [f for f in fonts.find_hangul_fonts() if f.family not in PHOTO_FAMILIES]


def make_font_dataset(name="fonts", chars=TUTORIAL_CHARS, per_font=6, size=(28, 28)) -> Dataset:
    """A finished data set rendered (augmented) from the training fonts, built in-process."""
    dataset = Dataset.objects.create(
        name=name,
        source=Dataset.Source.FONTS,
        height=size[0],
        width=size[1],
        status=JobStatus.SUCCEEDED,
    )
    settings = RenderSettings(height=size[0], width=size[1], per_font=per_font, seed=1)
    builder = StoreBuilder(dataset.store_dir, size[0], size[1], {"test": name})
    for char in chars:
        for number, font in enumerate(training_fonts()):
            images = render_samples(char, font, settings)
            builder.write_part(
                f"{ord(char):05x}-{number:03d}", char, images, [font.name] * len(images)
            )
    arrays = builder.finish(list(chars))
    dataset.classes = arrays.manifest.classes
    dataset.counts = arrays.manifest.counts
    dataset.group_names = arrays.manifest.group_names
    dataset.num_samples = len(arrays)
    dataset.save()
    return dataset


def make_trained_job(owner, dataset=None, *, model_spec="mlp", epochs=8) -> TrainingJob:
    """A finished training job with a real model that reads Hangul.

    The first job for a (characters, spec) pair is trained in-process; later ones (in
    other tests, with other rows) get a copy of its model file.
    """
    dataset = dataset or make_font_dataset()
    job = make_queued_job(
        owner,
        dataset,
        model_spec=model_spec,
        learning_rate=0.003,
        epochs=epochs,
        batch_size=32,
        split="stratified:0.2",
    )
    cached = _MODEL_CACHE / f"{''.join(dataset.classes)}-{model_spec}-{epochs}.keras"
    if cached.exists():
        job.artifact_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(cached, job.model_path)
        TrainingJob.claim(job.pk)
        job.succeed()
    else:
        services.run_training_job(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error_text
        shutil.copy(job.model_path, cached)
    return job


def _draw(char, font_name, size, ink, paper, offset=(0, 0)) -> Image.Image:
    font = _font(font_name)
    height, width = size
    image = Image.new("RGB", (width, height), paper)
    pil_font = ImageFont.truetype(str(font.path), int(min(size) * 0.55), index=font.index)
    draw = ImageDraw.Draw(image)
    centre = (width / 2 + offset[0], height / 2 + offset[1])
    draw.text(centre, char, font=pil_font, fill=ink, anchor="mm", stroke_width=2, stroke_fill=ink)
    return image


def photo_of(
    char, *, font_name="UnPilgi", size=(640, 480), fmt="JPEG", offset=(0, 0), shadow=True
) -> bytes:
    """A phone-like photo of ``char``: dark ink on off-white paper, lit unevenly."""
    image = _draw(char, font_name, size, ink=(35, 35, 50), paper=(236, 231, 214), offset=offset)
    pixels = np.asarray(image, dtype=np.float32)
    if shadow:
        # Light falls off towards one corner, as under a desk lamp.
        rows = np.linspace(1.0, 0.72, size[0])[:, None, None]
        cols = np.linspace(1.0, 0.85, size[1])[None, :, None]
        pixels = pixels * rows * cols
    noisy = pixels + np.random.default_rng(0).normal(0, 3, pixels.shape)
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(1)
    )
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def drawing_of(char, *, font_name="UnPilgi") -> str:
    """A canvas drawing of ``char`` (black strokes on white) as the browser sends it."""
    image = _draw(char, font_name, (280, 280), ink=(0, 0, 0), paper=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@cache
def blank_canvas() -> str:
    """An empty canvas, as sent when the student pressed Submit without drawing."""
    buffer = io.BytesIO()
    Image.new("RGB", (280, 280), "white").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
