"""Every benchmark script explains itself: ``--help`` works (argparse formats each help
text with %, so a stray % crashes it)."""

import subprocess
import sys

import pytest

from tests.support.paths import REPO

SCRIPTS = sorted(path for path in (REPO / "bench").glob("*.py") if "argparse" in path.read_text())


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_help_works(script):
    answer = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert answer.returncode == 0, answer.stderr[-2000:]
    assert "usage:" in answer.stdout
