"""Forms. Parsers in ``classifier.ml`` and the services refuse with a Refusal; the forms
turn it into field errors in the reader's language."""

from .accounts import ProfileForm, SignUpForm
from .courses import (
    AssignmentForm,
    CoInstructorForm,
    CourseForm,
    HandwritingDatasetForm,
    JoinCourseForm,
    PublishModelForm,
    RegradeForm,
    RosterForm,
    VerdictForm,
)
from .datasets import LabelledImagesForm, Phd08ImportForm, RenderDatasetForm, parse_size
from .handwriting import HandwritingInputForm, PredictForm, SubmissionForm
from .training import EvaluateForm, HiddenTestForm, TrainingJobForm, compatible_datasets

__all__ = [
    "AssignmentForm",
    "CoInstructorForm",
    "CourseForm",
    "EvaluateForm",
    "HandwritingDatasetForm",
    "HandwritingInputForm",
    "HiddenTestForm",
    "JoinCourseForm",
    "LabelledImagesForm",
    "Phd08ImportForm",
    "PredictForm",
    "ProfileForm",
    "PublishModelForm",
    "RegradeForm",
    "RenderDatasetForm",
    "RosterForm",
    "SignUpForm",
    "SubmissionForm",
    "TrainingJobForm",
    "VerdictForm",
    "compatible_datasets",
    "parse_size",
]
