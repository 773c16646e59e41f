# Failures are counted per username and address in one row (they were a row per kind);
# the rows only live for the log-in window, so the old ones are dropped, not converted.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("classifier", "0004_runs_that_die_before_an_epoch"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.DeleteModel(name="LoginFailure"),
        migrations.CreateModel(
            name="LoginFailure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("username", models.CharField(max_length=150, verbose_name="username")),
                ("address", models.CharField(blank=True, max_length=45, verbose_name="address")),
                (
                    "at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="time"
                    ),
                ),
            ],
            options={
                "verbose_name": "failed log-in",
                "verbose_name_plural": "failed log-ins",
                "ordering": ("-at",),
                "indexes": [
                    models.Index(
                        fields=["username", "address", "at"], name="classifier__usernam_2907e2_idx"
                    ),
                    models.Index(fields=["address", "at"], name="classifier__address_de1db9_idx"),
                ],
            },
        ),
        migrations.CreateModel(
            name="LoginAddress",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("address", models.CharField(max_length=45, verbose_name="address")),
                (
                    "last_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="last log-in"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="login_addresses",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "known log-in address",
                "verbose_name_plural": "known log-in addresses",
                "ordering": ("-last_at",),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "address"), name="one_row_per_login_address"
                    )
                ],
            },
        ),
    ]
