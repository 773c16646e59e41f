from django.contrib import admin

from .models import Dataset


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
