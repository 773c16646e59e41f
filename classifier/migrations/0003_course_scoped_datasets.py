from django.db import migrations, models


def record_source_courses(apps, schema_editor):
    """The courses of the handwriting data sets made before: their assignments' courses."""
    Dataset = apps.get_model("classifier", "Dataset")
    Assignment = apps.get_model("classifier", "Assignment")
    for dataset in Dataset.objects.filter(source="handwriting"):
        pks = (dataset.params or {}).get("assignments", [])
        courses = Assignment.objects.filter(pk__in=pks).values_list("course_id", flat=True)
        dataset.source_courses.set(set(courses))


class Migration(migrations.Migration):
    dependencies = [
        ("classifier", "0002_split_holds_long_group_lists"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataset",
            name="hidden_for_leaderboard",
            field=models.BooleanField(default=False, verbose_name="hidden for a leaderboard"),
        ),
        migrations.AddField(
            model_name="dataset",
            name="source_courses",
            field=models.ManyToManyField(
                blank=True,
                related_name="handwriting_datasets",
                to="classifier.course",
                verbose_name="courses written in",
            ),
        ),
        migrations.RunPython(record_source_courses, migrations.RunPython.noop),
    ]
