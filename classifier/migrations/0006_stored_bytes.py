# What each prediction's and training job's files take, for the storage quota; rows made
# before are measured from their folders on disk.

from pathlib import Path

from django.conf import settings
from django.db import migrations, models


# A copy of classifier.ml.store.folder_bytes: a migration keeps working as the app changes.
def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def measure(apps, schema_editor):
    media = Path(settings.MEDIA_ROOT)
    for model, folder in (("Prediction", "predictions"), ("TrainingJob", "jobs")):
        rows = apps.get_model("classifier", model).objects
        for pk in rows.values_list("pk", flat=True).iterator():
            size = _folder_bytes(media / folder / str(pk))
            if size:
                rows.filter(pk=pk).update(stored_bytes=size)


class Migration(migrations.Migration):
    dependencies = [
        ("classifier", "0005_login_addresses"),
    ]

    operations = [
        migrations.AddField(
            model_name="prediction",
            name="stored_bytes",
            field=models.PositiveBigIntegerField(default=0, verbose_name="stored bytes"),
        ),
        migrations.AddField(
            model_name="trainingjob",
            name="stored_bytes",
            field=models.PositiveBigIntegerField(default=0, verbose_name="stored bytes"),
        ),
        migrations.RunPython(measure, migrations.RunPython.noop),
    ]
