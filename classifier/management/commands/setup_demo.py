import os
import secrets

from django.conf import settings
from django.contrib.auth.models import User

from classifier import services
from classifier.management.base import LabCommand
from classifier.ml import charsets, fonts
from classifier.ml.render import RenderSettings
from classifier.models import Dataset, JobStatus
from classifier.services import DEMO_DATASET


class Command(LabCommand):
    help = (
        "Create the demo admin account (printing its login) and the demo data set, the "
        "tutorial's 8 characters rendered from the installed fonts. Safe to run again."
    )

    def handle(self, *args, **options):
        self.ensure_admin()
        self.ensure_demo_dataset()

    def ensure_admin(self):
        username = os.environ.get("LAB_ADMIN_USER", "admin")
        password_file = settings.VAR_DIR / "admin_password"
        user = User.objects.filter(username=username).first()
        if user is None:
            password = os.environ.get("LAB_ADMIN_PASSWORD") or secrets.token_urlsafe(9)
            User.objects.create_superuser(username, f"{username}@example.org", password)
            password_file.write_text(password)
            password_file.chmod(0o600)
        elif password_file.exists():
            password = password_file.read_text().strip()
        else:
            password = "(set earlier; change it with: python manage.py changepassword admin)"
        self.stdout.write(self.style.SUCCESS(f"Admin login: {username} / {password}"))

    def ensure_demo_dataset(self):
        existing = Dataset.objects.filter(name=DEMO_DATASET).first()
        if existing and existing.status == JobStatus.SUCCEEDED:
            self.stdout.write(f"Demo data set {DEMO_DATASET}: {existing.num_samples} samples.")
            return
        if existing:
            services.delete_dataset(existing)
        if not fonts.find_hangul_fonts():
            self.stderr.write(
                f"No Hangul fonts are installed, so there is no demo data set. "
                f"Install some with: {fonts.INSTALL_HINT}"
            )
            return
        dataset = services.create_font_dataset(
            name=DEMO_DATASET,
            chars=charsets.charset("tutorial8"),
            font_specs=[],
            rendering=RenderSettings(per_font=40, seed=0),
            dispatch=False,
        )
        services.run_dataset_build(dataset.pk)
        dataset.refresh_from_db()
        self.stdout.write(
            f"Demo data set {DEMO_DATASET}: {dataset.get_status_display()}, "
            f"{dataset.num_samples} samples. {dataset.error_text}"
        )
