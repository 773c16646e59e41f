"""Progress for management commands that run jobs in-process.

On a terminal, a tqdm bar redrawn in place. Written to a file or a pipe (CI logs, the log
of ``make run``), a redrawn bar is one line per update, 16,000 lines for one render of
every syllable; there, a plain line at most every ``LINE_SECONDS``, and the last one when
the work ends.
"""

import time
from contextlib import contextmanager

from tqdm import tqdm

LINE_SECONDS = 5.0


def is_terminal(stream) -> bool:
    """Whether ``stream`` is a terminal, where a bar can be redrawn in place."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class ProgressLines:
    """Plain progress lines for a log: the first at once, then at most one every
    ``every`` seconds; :meth:`close` writes the latest one if it is still unwritten."""

    def __init__(self, stream, *, every=LINE_SECONDS, clock=time.monotonic):
        self.stream = stream
        self.every = every
        self.clock = clock
        self.written_at = None
        self.pending = None

    def show(self, line: str):
        now = self.clock()
        if self.written_at is not None and now - self.written_at < self.every:
            self.pending = line
            return
        self._write(line)
        self.written_at = now

    def close(self):
        if self.pending is not None:
            self._write(self.pending)

    def _write(self, line):
        self.stream.write(line + "\n")
        self.stream.flush()
        self.pending = None


def progress_bar(stream, unit="file", verb="built", *, every=LINE_SECONDS, clock=time.monotonic):
    """A context yielding a callback for ``classifier.ml.build.Progress``: a tqdm bar on
    a terminal, else lines such as "rendered 1,234/16,450 files (3,456 samples, 1,200/s)"."""
    if is_terminal(stream):
        return _bar(stream, _draw_build, total=0, unit=unit)

    def line(progress):
        return (
            f"{verb} {progress.units_done:,}/{progress.units_total:,} {unit}s "
            f"({progress.samples_done:,} samples, {progress.samples_per_second:,.0f}/s)"
        )

    return _lines(stream, line, every, clock)


def count_bar(stream, unit, verb="done", *, every=LINE_SECONDS, clock=time.monotonic):
    """A context yielding a callback ``(done, total)``: a tqdm bar of ``unit``s on a
    terminal, else lines such as "scored 2,000/9,400 samples"."""
    if is_terminal(stream):
        return _bar(stream, _draw_count, total=0, unit=unit)
    return _lines(stream, lambda done, total: f"{verb} {done:,}/{total:,} {unit}s", every, clock)


def fraction_bar(stream, total, *, every=LINE_SECONDS, clock=time.monotonic):
    """A context yielding a callback ``(done, description)`` for work counted in
    fractions of ``total`` (a training's epochs): a tqdm bar with the description on a
    terminal, else lines such as "epoch 2/5, val_acc 93.10% (45%)"."""
    if is_terminal(stream):
        bar_format = "{percentage:3.0f}%|{bar}| {desc} [{elapsed}<{remaining}]"
        return _bar(stream, _draw_fraction, total=total, bar_format=bar_format)

    def line(done, description):
        return f"{description} ({100 * done / total if total else 100:.0f}%)"

    return _lines(stream, line, every, clock)


@contextmanager
def _lines(stream, line_of, every, clock):
    lines = ProgressLines(stream, every=every, clock=clock)
    try:
        yield lambda *args: lines.show(line_of(*args))
    finally:
        lines.close()


@contextmanager
def _bar(stream, draw, **options):
    bar = tqdm(file=stream, dynamic_ncols=True, **options)
    try:
        yield lambda *args: draw(bar, *args)
    finally:
        bar.close()


def _draw_build(bar, progress):
    bar.total = progress.units_total
    bar.n = progress.units_done
    bar.set_postfix(samples=progress.samples_done, rate=f"{progress.samples_per_second:,.0f}/s")
    bar.refresh()


def _draw_count(bar, done, total):
    bar.total = total
    bar.n = done
    bar.refresh()


def _draw_fraction(bar, done, description):
    bar.n = done
    bar.set_description_str(description, refresh=False)
    bar.refresh()
