"""The lab's records. Every background job is a row; Celery only carries its primary key."""

from .base import TERMINAL_STATUSES, Job, JobStatus
from .courses import Assignment, Course, Enrollment
from .datasets import Dataset, dataset_name_validator
from .logins import LoginAddress, LoginFailure
from .predictions import ExplanationState, Prediction, Regrade, Verdict
from .profiles import Profile
from .training import EpochMetric, Evaluation, TrainingJob

__all__ = [
    "TERMINAL_STATUSES",
    "Assignment",
    "Course",
    "Dataset",
    "Enrollment",
    "EpochMetric",
    "Evaluation",
    "ExplanationState",
    "Job",
    "JobStatus",
    "LoginAddress",
    "LoginFailure",
    "Prediction",
    "Profile",
    "Regrade",
    "TrainingJob",
    "Verdict",
    "dataset_name_validator",
]
