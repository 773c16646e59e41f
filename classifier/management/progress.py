"""Progress bars for management commands that run jobs in-process."""

from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(stream, unit="file"):
    """Yield a callback for ``classifier.ml.build.Progress`` that draws a tqdm bar."""
    bar = tqdm(total=0, unit=unit, file=stream, dynamic_ncols=True)

    def update(progress):
        bar.total = progress.units_total
        bar.n = progress.units_done
        bar.set_postfix(samples=progress.samples_done, rate=f"{progress.samples_per_second:,.0f}/s")
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


@contextmanager
def count_bar(stream, unit):
    """Yield a callback ``(done, total)`` that draws a tqdm bar of ``unit``s."""
    bar = tqdm(total=0, unit=unit, file=stream, dynamic_ncols=True)

    def update(done, total):
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
