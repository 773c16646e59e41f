"""Courses: grading models without weights, and graded submissions."""

from classifier.models import JobStatus, Prediction, TrainingJob
from tests.support.datasets import make_dataset
from tests.support.jobs import write_metadata_model


def make_grader(owner, chars="가나다", name="tiny") -> TrainingJob:
    """A finished job whose model file says which characters it knows (no weights):
    enough to preprocess a submission, which is all a request does."""
    dataset = make_dataset(name=name, chars=chars, per_char=2)
    job = TrainingJob.objects.create(
        owner=owner, dataset=dataset, model_spec="mlp", status=JobStatus.SUCCEEDED
    )
    write_metadata_model(job, chars)
    return job


def graded_submission(
    assignment, owner, expected, predicted, confidence=0.9, **fields
) -> Prediction:
    """A submission the worker has graded, written directly."""
    classes = list(assignment.grader.classes)
    rest = (1 - (confidence or 0)) / (len(classes) - 1)
    probabilities = [confidence if c == predicted else rest for c in classes] if predicted else []
    values = {
        "status": JobStatus.SUCCEEDED,
        "predicted": predicted,
        "confidence": confidence,
        "classes": classes if predicted else [],
        "probabilities": probabilities,
        "attempt": 1,
    }
    values.update(fields)
    return Prediction.objects.create(
        owner=owner,
        model=assignment.grader,
        source=Prediction.Source.CANVAS,
        original_file="original.png",
        expected=expected,
        assignment=assignment,
        **values,
    )
