"""Verdicts on submissions: the model's, the doubtful ones the teacher reviews, the
teacher's overrides, and the gradebook they make.

A submission is *correct* when the model reads the target character. One read as
another character is *incorrect* only when the model is sure of it; when the target is
among its top ``REVIEW_TOP`` characters, or the reading's confidence is under the
assignment's threshold, it *needs review*: the teacher accepts or rejects it. A teacher's
verdict outranks the model's on any submission and no regrade touches it.
"""

import csv
import io
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from ..ml.messages import Refusal, _
from ..models import Assignment, JobStatus, Prediction, Profile, TrainingJob, Verdict

#: A wrong reading whose target is among this many of the model's best is doubtful.
REVIEW_TOP = 3
#: How a gradebook cell without any submission is shown.
MISSING_LABEL = gettext_lazy("missing")


def is_doubtful(expected: str, results: dict, threshold: float) -> bool:
    """Whether a reading (``classify``'s ``results``) of a submission meant to be
    ``expected`` is wrong but doubtful: the target among the top ``REVIEW_TOP``, or the
    top-1 confidence under ``threshold``."""
    if not expected or results["predicted"] == expected:
        return False
    ranked = sorted(zip(results["probabilities"], results["classes"], strict=True), reverse=True)
    if expected in [char for _p, char in ranked[:REVIEW_TOP]]:
        return True
    return results["confidence"] < threshold


def grade_fields(submission: Prediction, grader: TrainingJob, results: dict) -> dict:
    """The fields a submission's grading by ``grader`` writes beside ``results``."""
    if submission.assignment_id is None:
        return {}
    threshold = submission.assignment.review_threshold(grader)
    return {"doubtful": is_doubtful(submission.expected, results, threshold)}


def refresh_doubts(assignment: Assignment) -> int:
    """Judge the assignment's graded submissions again against its review threshold
    (after it changed); the number whose verdict moved."""
    thresholds = {}
    moved = 0
    graded = assignment.submissions.filter(status=JobStatus.SUCCEEDED).select_related("model")
    for submission in graded:
        if submission.model_id not in thresholds:
            thresholds[submission.model_id] = assignment.review_threshold(submission.model)
        results = {
            "predicted": submission.predicted,
            "classes": submission.classes,
            "probabilities": submission.probabilities,
            "confidence": submission.confidence,
        }
        doubtful = is_doubtful(submission.expected, results, thresholds[submission.model_id])
        if doubtful != submission.doubtful:
            Prediction.objects.filter(pk=submission.pk).update(doubtful=doubtful)
            moved += 1
    return moved


#: What a teacher may decide: accept, reject, or leave it to the model again.
TEACHER_VERDICTS = ("correct", "incorrect", "")


def set_verdict(submission: Prediction, user, verdict: str, comment: str = "") -> Prediction:
    """Record the teacher's ``verdict`` ("correct", "incorrect", or "" to go back to the
    model's) and ``comment`` on a graded submission, with who and when."""
    if submission.assignment_id is None:
        raise Refusal(_("Only a submission to an assignment has a verdict."))
    if verdict not in TEACHER_VERDICTS:
        raise Refusal(_("A verdict is correct or incorrect, not %(value)s.", value=verdict))
    if not submission.is_terminal:
        raise Refusal(_("This submission is still being graded; decide once it is."))
    fields = {
        "teacher_verdict": verdict,
        "teacher_comment": comment.strip(),
        "reviewed_by": user,
        "reviewed_at": timezone.now(),
    }
    Prediction.objects.filter(pk=submission.pk).update(**fields)
    submission.refresh_from_db()
    return submission


# --- Gradebook -----------------------------------------------------------------------

#: Which verdict the best-attempt policy counts first, when a character has several.
_BEST_FIRST = (Verdict.CORRECT, Verdict.REVIEW)


@dataclass
class GradeCell:
    """A student's attempts at one character, oldest first, and the one that counts
    (``submission``, chosen by the assignment's grade policy)."""

    char: str
    history: list[Prediction] = field(default_factory=list)
    policy: str = Assignment.GradePolicy.BEST

    @property
    def attempts(self) -> int:
        return len(self.history)

    @property
    def submission(self) -> Prediction | None:
        """The latest attempt; under the best-attempt policy the latest correct one if
        any, else the latest that needs review."""
        if self.policy == Assignment.GradePolicy.BEST:
            for verdict in _BEST_FIRST:
                matching = [sub for sub in self.history if sub.verdict == verdict]
                if matching:
                    return matching[-1]
        return self.history[-1] if self.history else None

    @property
    def pending(self) -> Prediction | None:
        """The latest attempt while it is being graded (under the best-attempt policy
        the verdict may already be a correct earlier one)."""
        latest = self.history[-1] if self.history else None
        return latest if latest is not None and not latest.is_terminal else None

    @property
    def verdict(self) -> str:
        """The counted submission's ``Verdict``, or "missing"."""
        return "missing" if self.submission is None else self.submission.verdict

    @property
    def verdict_label(self) -> str:
        return str(MISSING_LABEL if self.submission is None else self.submission.verdict_label)


@dataclass
class GradeRow:
    student: object
    cells: list[GradeCell] = field(default_factory=list)

    @property
    def profile(self) -> Profile:
        """The student's real name and number (empty if they gave none)."""
        return Profile.of(self.student)

    @property
    def score(self) -> int:
        return sum(cell.verdict == Verdict.CORRECT for cell in self.cells)

    @property
    def late(self) -> bool:
        return any(cell.submission is not None and cell.submission.late for cell in self.cells)


@dataclass
class Gradebook:
    assignment: Assignment
    rows: list[GradeRow]

    @property
    def chars(self) -> list[str]:
        return self.assignment.chars

    @property
    def correct_per_char(self) -> list[int]:
        return [
            sum(row.cells[i].verdict == Verdict.CORRECT for row in self.rows)
            for i in range(len(self.chars))
        ]

    @property
    def to_review(self) -> list[tuple[GradeRow, GradeCell]]:
        """The counted answers that need the teacher's review, student by student."""
        return [
            (row, cell) for row in self.rows for cell in row.cells if cell.verdict == Verdict.REVIEW
        ]


def gradebook(assignment: Assignment, *, student=None) -> Gradebook:
    """Every student of the course (or just ``student``) x the assignment's characters."""
    enrolled = assignment.course.enrollments.select_related("student__profile")
    if student is not None:
        enrolled = enrolled.filter(student=student)
    policy = assignment.grade_policy
    rows = {
        e.student_id: GradeRow(e.student, [GradeCell(c, policy=policy) for c in assignment.chars])
        for e in enrolled
    }
    index = {char: i for i, char in enumerate(assignment.chars)}
    submissions = assignment.submissions.filter(owner_id__in=rows).select_related("reviewed_by")
    # Oldest first: each cell's history is in the order the attempts were made.
    for submission in submissions.order_by("created_at", "pk"):
        if submission.expected in index:
            rows[submission.owner_id].cells[index[submission.expected]].history.append(submission)
    return Gradebook(assignment, list(rows.values()))


def grade_cell(assignment: Assignment, student, char: str) -> GradeCell:
    """``student``'s attempts at ``char`` and the one that counts."""
    attempts = assignment.submissions.filter(owner=student, expected=char)
    return GradeCell(char, list(attempts.order_by("created_at", "pk")), assignment.grade_policy)


# What a spreadsheet takes for the start of a formula (OWASP's list for CSV injection):
# usernames may start with + - @, and names and student numbers with anything.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_text(value) -> str:
    """``value`` as a cell a spreadsheet shows as text, never runs: a leading apostrophe
    where it would start a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def gradebook_csv(book: Gradebook) -> str:
    """The gradebook as CSV in the active language: one row a student (username, real
    name, student number); per character the verdict, its confidence, attempts,
    lateness and who reviewed it. No cell starts a formula in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = [gettext("student"), gettext("name"), gettext("student number")]
    for char in book.chars:
        names = {"char": char}
        header += [
            gettext("%(char)s verdict") % names,
            gettext("%(char)s confidence") % names,
            gettext("%(char)s attempts") % names,
            gettext("%(char)s late") % names,
            gettext("%(char)s reviewed by") % names,
        ]
    writer.writerow([*header, gettext("score"), gettext("out of")])
    for row in book.rows:
        values = [row.student.username, row.profile.real_name, row.profile.student_number]
        for cell in row.cells:
            sub = cell.submission
            confidence = f"{sub.confidence:.4f}" if sub and sub.confidence is not None else ""
            reviewer = sub.reviewed_by.username if sub and sub.reviewed_by else ""
            values += [
                cell.verdict_label,
                confidence,
                cell.attempts,
                gettext("yes") if sub and sub.late else "",
                reviewer,
            ]
        writer.writerow([_spreadsheet_text(v) for v in (*values, row.score, len(book.chars))])
    return out.getvalue()


# --- The handwriting corpus ------------------------------------------------------------


@dataclass
class Corpus:
    """What a handwriting data set of some assignments would hold: the verified
    submissions (``samples``: each with its writer's pseudonym) and how many others
    were left out, by verdict."""

    samples: list[tuple[Prediction, str]]
    left_out: dict[str, int]

    @property
    def left_out_total(self) -> int:
        return sum(self.left_out.values())


def corpus(assignments) -> Corpus:
    """The verified submissions to ``assignments``: those whose verdict is correct (read
    right by the model, or accepted by the teacher), so that every label is the character
    written. Writers are ``writer-1``, ``writer-2`` ... in the order of their first
    sample: never a user id."""
    submissions = Prediction.objects.filter(assignment__in=list(assignments)).order_by("pk")
    samples, left_out, pseudonyms = [], {}, {}
    for submission in submissions.select_related("owner"):
        verdict = submission.verdict
        if verdict != Verdict.CORRECT:
            left_out[verdict] = left_out.get(verdict, 0) + 1
            continue
        writer = pseudonyms.setdefault(submission.owner_id, f"writer-{len(pseudonyms) + 1}")
        samples.append((submission, writer))
    return Corpus(samples, left_out)
