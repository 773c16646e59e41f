"""Multi-step writes: creating jobs, and running them in a worker or in-process.

Views, management commands and Celery tasks all come through here (as
``services.create_training_job`` and so on), so a data set made from the web form and
one made from the command line are built by the same code. The modules:

- ``datasets``: PHD08 imports and font renderings, and building their arrays;
- ``jobs``: training jobs, run by the ``train`` worker or the ``train`` command;
- ``job_pages``: what the job pages show (queue state, context, figures);
- ``evaluation``: scoring finished jobs on other data sets, and the leaderboard.
"""

from .datasets import (
    collect_phd08_inputs,
    create_font_dataset,
    create_phd08_dataset,
    create_uploaded_phd08_dataset,
    delete_dataset,
    run_dataset_build,
)
from .evaluation import (
    create_evaluation,
    evaluate_job_on,
    leaderboard_rows,
    run_evaluation,
    set_hidden_test,
)
from .job_pages import compare_plot, job_page_context, job_plot, queue_has_worker
from .jobs import (
    check_split,
    chosen_characters,
    create_training_job,
    make_split,
    run_training_job,
)

__all__ = [
    "check_split", "chosen_characters", "collect_phd08_inputs", "compare_plot",
    "create_evaluation", "create_font_dataset", "create_phd08_dataset",
    "create_training_job", "create_uploaded_phd08_dataset", "delete_dataset",
    "evaluate_job_on", "job_page_context", "job_plot", "leaderboard_rows", "make_split",
    "queue_has_worker", "run_dataset_build", "run_evaluation", "run_training_job",
    "set_hidden_test",
]  # fmt: skip
