from django.urls import path

from .views import accounts, courses, datasets, predictions, roster, training

app_name = "classifier"

urlpatterns = [
    path("", accounts.home, name="home"),
    path("datasets/", datasets.dataset_list, name="dataset-list"),
    path("datasets/import/", datasets.dataset_import, name="dataset-import"),
    path("datasets/import-images/", datasets.dataset_import_images, name="dataset-import-images"),
    path("datasets/render/", datasets.dataset_render, name="dataset-render"),
    path("datasets/handwriting/", courses.handwriting_dataset, name="dataset-handwriting"),
    path("datasets/<int:pk>/", datasets.dataset_detail, name="dataset-detail"),
    path("datasets/<int:pk>/status.json", datasets.dataset_status, name="dataset-status"),
    path("datasets/<int:pk>/grid.png", datasets.dataset_grid_png, name="dataset-grid"),
    path("datasets/<int:pk>/counts.png", datasets.dataset_counts_png, name="dataset-counts"),
    path(
        "datasets/<int:pk>/augmentation.png",
        datasets.dataset_augmentation_png,
        name="dataset-augmentation",
    ),
    path("datasets/render/preview.png", datasets.render_preview_png, name="render-preview"),
    path("datasets/<int:pk>/export.npz", datasets.dataset_export, name="dataset-export"),
    path(
        "datasets/<int:pk>/images.zip", datasets.dataset_export_images, name="dataset-export-images"
    ),
    path("datasets/<int:pk>/cancel/", datasets.dataset_cancel, name="dataset-cancel"),
    path("datasets/<int:pk>/delete/", datasets.dataset_delete, name="dataset-delete"),
    path("datasets/<int:pk>/leaderboard/", training.leaderboard, name="leaderboard"),
    path("jobs/", training.job_list, name="job-list"),
    path("jobs/new/", training.job_new, name="job-new"),
    path("jobs/model-summary.json", training.model_summary, name="model-summary"),
    path("jobs/compare/", training.job_compare, name="job-compare"),
    path("jobs/<int:pk>/", training.job_detail, name="job-detail"),
    path("jobs/<int:pk>/status.json", training.job_status, name="job-status"),
    path("jobs/<int:pk>/curves.png", training.job_curves_png, name="job-curves"),
    path("jobs/<int:pk>/embedding.png", training.job_embedding_png, name="job-embedding"),
    path(
        "jobs/<int:pk>/confusion.png",
        training.job_result_png,
        {"kind": "confusion"},
        name="job-confusion",
    ),
    path(
        "jobs/<int:pk>/mistakes.png",
        training.job_result_png,
        {"kind": "mistakes"},
        name="job-mistakes",
    ),
    path(
        "jobs/<int:pk>/mistake-maps.png",
        training.job_result_png,
        {"kind": "mistake-maps"},
        name="job-mistake-maps",
    ),
    path(
        "jobs/<int:pk>/filters.png",
        training.job_result_png,
        {"kind": "filters"},
        name="job-filters",
    ),
    path(
        "jobs/<int:pk>/jamo.png",
        training.job_result_png,
        {"kind": "jamo"},
        name="job-jamo",
    ),
    path(
        "jobs/<int:pk>/reliability.png",
        training.job_result_png,
        {"kind": "reliability"},
        name="job-reliability",
    ),
    path("jobs/<int:pk>/model.keras", training.job_model_download, name="job-model"),
    path("jobs/<int:pk>/model-tflite.zip", training.job_tflite_download, name="job-tflite"),
    path("jobs/<int:pk>/code.py", training.job_code, name="job-code"),
    path("jobs/<int:pk>/cancel/", training.job_cancel, name="job-cancel"),
    path("jobs/<int:pk>/evaluate/", training.job_evaluate, name="job-evaluate"),
    path("jobs/<int:pk>/delete/", training.job_delete, name="job-delete"),
    path("predict/", predictions.predict, name="predict"),
    path("predict/live/", predictions.predict_live, name="predict-live"),
    path("predictions/", predictions.prediction_list, name="prediction-list"),
    path("predictions/<int:pk>/", predictions.prediction_detail, name="prediction-detail"),
    path("predictions/<int:pk>/delete/", predictions.prediction_delete, name="prediction-delete"),
    path(
        "predictions/<int:pk>/status.json", predictions.prediction_status, name="prediction-status"
    ),
    path(
        "predictions/<int:pk>/original", predictions.prediction_original, name="prediction-original"
    ),
    path(
        "predictions/<int:pk>/steps/<slug:key>.png",
        predictions.prediction_step,
        name="prediction-step",
    ),
    path(
        "predictions/<int:pk>/saliency/<slug:role>.png",
        predictions.prediction_saliency,
        name="prediction-saliency",
    ),
    path("courses/", courses.course_list, name="course-list"),
    path("courses/join/", courses.course_join, name="course-join"),
    path("courses/<int:pk>/", courses.course_detail, name="course-detail"),
    path("courses/join/<str:code>/", roster.join_link, name="course-join-link"),
    path("courses/<int:pk>/publish/", courses.course_publish, name="course-publish"),
    path("courses/<int:pk>/qr.svg", roster.join_qr, name="course-qr"),
    path("courses/<int:pk>/code/", roster.regenerate_code, name="course-code"),
    path("courses/<int:pk>/roster/", roster.import_roster, name="course-roster"),
    path(
        "courses/<int:pk>/students/<int:user_pk>/remove/",
        roster.remove_student,
        name="course-remove-student",
    ),
    path(
        "courses/<int:pk>/students/<int:user_pk>/reset-link/",
        roster.reset_link,
        name="course-reset-link",
    ),
    path(
        "courses/<int:pk>/co-instructors/",
        roster.add_co_instructor,
        name="course-co-instructor-add",
    ),
    path(
        "courses/<int:pk>/co-instructors/<int:user_pk>/remove/",
        roster.remove_co_instructor,
        name="course-co-instructor-remove",
    ),
    path("courses/<int:pk>/assignments/new/", courses.assignment_new, name="assignment-new"),
    path("assignments/<int:pk>/", courses.assignment_detail, name="assignment-detail"),
    path("assignments/<int:pk>/submit/", courses.assignment_submit, name="assignment-submit"),
    path("assignments/<int:pk>/gradebook/", courses.gradebook, name="gradebook"),
    path("assignments/<int:pk>/gradebook.csv", courses.gradebook_csv, name="gradebook-csv"),
    path("assignments/<int:pk>/review/", courses.review_queue, name="review-queue"),
    path("submissions/<int:pk>/verdict/", courses.submission_verdict, name="submission-verdict"),
    path("assignments/<int:pk>/regrade/", courses.regrade, name="assignment-regrade"),
    path("assignments/<int:pk>/regrade/status.json", courses.regrade_status, name="regrade-status"),
]
