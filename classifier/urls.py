from django.urls import path

from . import views

app_name = "classifier"

urlpatterns = [
    path("", views.home, name="home"),
    path("datasets/", views.dataset_list, name="dataset-list"),
    path("datasets/import/", views.dataset_import, name="dataset-import"),
    path("datasets/render/", views.dataset_render, name="dataset-render"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset-detail"),
    path("datasets/<int:pk>/status.json", views.dataset_status, name="dataset-status"),
    path("datasets/<int:pk>/grid.png", views.dataset_grid_png, name="dataset-grid"),
    path("datasets/<int:pk>/counts.png", views.dataset_counts_png, name="dataset-counts"),
    path("datasets/<int:pk>/export.npz", views.dataset_export, name="dataset-export"),
    path("datasets/<int:pk>/cancel/", views.dataset_cancel, name="dataset-cancel"),
    path("datasets/<int:pk>/delete/", views.dataset_delete, name="dataset-delete"),
]
