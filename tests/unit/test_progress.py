"""Command progress: a bar on a terminal, a few plain lines in a log."""

import io
import time

from classifier.management import progress
from classifier.ml.build import Progress


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def _render(stream, clock, total=16_450, seconds_each=0.001):
    started = time.monotonic()
    with progress.progress_bar(stream, verb="rendered", clock=clock) as update:
        for done in range(1, total + 1):
            clock.now += seconds_each
            update(Progress(done, total, 2 * done, started))


def test_a_build_logged_to_a_file_writes_a_line_every_few_seconds_and_the_total_last():
    log, clock = io.StringIO(), FakeClock()
    _render(log, clock)  # 16,450 updates over 16.45 s
    lines = log.getvalue().splitlines()
    assert 3 <= len(lines) <= 6, lines
    assert lines[0].startswith("rendered 1/16,450 files (2 samples, ")
    assert lines[-1].startswith("rendered 16,450/16,450 files (32,900 samples, ")
    assert lines[-1].endswith("/s)")
    assert "\r" not in log.getvalue()


def test_a_quick_build_logs_its_first_and_last_update_only():
    log, clock = io.StringIO(), FakeClock()
    _render(log, clock, total=4, seconds_each=0.01)
    assert [line.split(" (")[0] for line in log.getvalue().splitlines()] == [
        "rendered 1/4 files",
        "rendered 4/4 files",
    ]


def test_counts_and_epochs_logged_to_a_file_are_throttled_too():
    log, clock = io.StringIO(), FakeClock()
    with progress.count_bar(log, "sample", "scored", clock=clock) as update:
        for done in range(0, 10_001, 10):
            clock.now += 0.01
            update(done, 10_000)
    first, middle, last = log.getvalue().splitlines()
    assert first == "scored 0/10,000 samples" and last == "scored 10,000/10,000 samples"
    assert middle.startswith("scored 5,0")  # five seconds in
    log, clock = io.StringIO(), FakeClock()
    with progress.fraction_bar(log, 2, clock=clock) as update:
        for step in range(1, 201):
            clock.now += 0.02
            update(step / 100, f"epoch {step // 100}/2")
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and lines[-1] == "epoch 2/2 (100%)"


def test_a_terminal_keeps_the_bar():
    terminal, clock = Terminal(), FakeClock()
    _render(terminal, clock, total=50)
    drawn = terminal.getvalue()
    assert "\r" in drawn and "100%|" in drawn and "50/50" in drawn
    assert not progress.is_terminal(io.StringIO()) and progress.is_terminal(terminal)
