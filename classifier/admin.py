from django.contrib import admin

from .models import Dataset
from .ratelimit import RateLimitedAdminAuthenticationForm

# The admin's own log-in page counts failures with the lab's page, so it is no way
# around the login rate limits.
admin.site.login_form = RateLimitedAdminAuthenticationForm


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "status", "size_label", "num_samples", "created_at")
    list_filter = ("status", "source")
    search_fields = ("name",)
    readonly_fields = (
        "status", "error", "attempts", "classes", "counts", "group_names", "num_samples",
        "files_total", "files_done", "samples_done", "samples_per_second", "started_at",
        "finished_at", "heartbeat_at", "params",
    )  # fmt: skip
