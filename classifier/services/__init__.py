"""Multi-step writes: creating jobs, and running them in a worker or in-process.

Views, management commands and Celery tasks all come through here (as
``services.create_training_job`` and so on), so a data set made from the web form and
one made from the command line are built by the same code. The modules:

- ``datasets``: PHD08 imports and font renderings, and building their arrays;
- ``labelled_images``: data sets of labelled images (an archive of scans), and the
  handwriting corpus exported in that layout;
- ``training``: training jobs, run by the ``train`` worker or the ``train`` command;
- ``training_pages``: what the job pages show (queue state, context, figures);
- ``evaluation``: scoring finished jobs on other data sets, and the leaderboard;
- ``predictions``: handwriting photos and drawings, preprocessed and classified;
- ``explanations``: what the model looked at in a prediction (saliency maps);
- ``courses``: courses, assignments, submissions and regrades;
- ``roster``: who is who in a course: names, rosters, join codes, co-instructors,
  instructors and password reset links;
- ``grading``: verdicts (the model's, doubtful ones, the teacher's) and gradebooks.
"""

from .courses import (
    active_regrade,
    check_submission,
    graders_for,
    join_course,
    may_manage,
    publish_model,
    run_regrade,
    start_regrade,
    submission_counts,
    submit,
)
from .datasets import (
    DEMO_DATASET,
    collect_phd08_inputs,
    create_font_dataset,
    create_handwriting_dataset,
    create_phd08_dataset,
    create_uploaded_phd08_dataset,
    delete_dataset,
    rebuild_dataset,
    retry_dataset,
    run_dataset_build,
)
from .evaluation import (
    create_evaluation,
    evaluate_job_on,
    leaderboard_pending,
    leaderboard_rows,
    may_choose_hidden_test,
    run_evaluation,
    set_hidden_test,
)
from .grading import corpus, gradebook, gradebook_csv, refresh_doubts, set_verdict
from .labelled_images import (
    create_image_dataset,
    create_uploaded_image_dataset,
    export_images,
    may_export_images,
    may_see_files,
)
from .predictions import (
    create_prediction,
    delete_prediction,
    model_input,
    predict_image,
    prediction_bars,
    prediction_deletion_refusal,
    prediction_summary,
    read_live,
    run_live_reading,
    run_prediction,
    usable_models,
    waited_for,
    write_steps,
)
from .queue_limits import queue_limit_refusal
from .roster import (
    add_co_instructor,
    import_roster,
    join_url,
    regenerate_join_code,
    remove_co_instructor,
    remove_student,
    reset_link,
    save_profile,
    set_instructor,
    signup_refusal,
)
from .storage import storage_quota, storage_used
from .training import (
    cancel_job,
    check_may_act,
    check_split,
    chosen_characters,
    create_training_job,
    delete_training_job,
    job_deletion_refusal,
    make_split,
    may_act,
    rerun_training_job,
    run_training_job,
)
from .training_pages import (
    compare_context,
    compare_plot,
    embedding_plot,
    jamo_report,
    job_page_context,
    job_plot,
    queue_has_worker,
    take_home,
)

__all__ = [
    "DEMO_DATASET",
    "active_regrade",
    "add_co_instructor",
    "cancel_job",
    "check_may_act",
    "check_split",
    "check_submission",
    "chosen_characters",
    "collect_phd08_inputs",
    "compare_context",
    "compare_plot",
    "corpus",
    "create_evaluation",
    "create_font_dataset",
    "create_handwriting_dataset",
    "create_image_dataset",
    "create_phd08_dataset",
    "create_prediction",
    "create_training_job",
    "create_uploaded_image_dataset",
    "create_uploaded_phd08_dataset",
    "delete_dataset",
    "delete_prediction",
    "delete_training_job",
    "embedding_plot",
    "evaluate_job_on",
    "export_images",
    "gradebook",
    "gradebook_csv",
    "graders_for",
    "import_roster",
    "jamo_report",
    "job_deletion_refusal",
    "job_page_context",
    "job_plot",
    "join_course",
    "join_url",
    "leaderboard_pending",
    "leaderboard_rows",
    "make_split",
    "may_act",
    "may_choose_hidden_test",
    "may_export_images",
    "may_manage",
    "may_see_files",
    "model_input",
    "predict_image",
    "prediction_bars",
    "prediction_deletion_refusal",
    "prediction_summary",
    "publish_model",
    "queue_has_worker",
    "queue_limit_refusal",
    "read_live",
    "rebuild_dataset",
    "refresh_doubts",
    "regenerate_join_code",
    "remove_co_instructor",
    "remove_student",
    "rerun_training_job",
    "reset_link",
    "retry_dataset",
    "run_dataset_build",
    "run_evaluation",
    "run_live_reading",
    "run_prediction",
    "run_regrade",
    "run_training_job",
    "save_profile",
    "set_hidden_test",
    "set_instructor",
    "set_verdict",
    "signup_refusal",
    "start_regrade",
    "storage_quota",
    "storage_used",
    "submission_counts",
    "submit",
    "take_home",
    "usable_models",
    "waited_for",
    "write_steps",
]
