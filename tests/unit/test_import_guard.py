"""The web process stays light: the pages, the admin and the URL conf load neither
TensorFlow, Keras nor pyplot. Those cost seconds and hundreds of MiB a process, and are
imported inside the functions that train, predict or draw."""

import subprocess
import sys

HEAVY = ("tensorflow", "keras", "matplotlib.pyplot")

PROBE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labsite.settings")
import django
django.setup()
import labsite.urls, classifier.admin, classifier.views, classifier.api.views
heavy = %r
print(" ".join(sorted(m for m in sys.modules if m in heavy or m.split(".")[0] in heavy)))
"""


def test_importing_the_web_layer_loads_no_tensorflow_keras_or_pyplot():
    probe = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,)], capture_output=True, text=True, timeout=300
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == []
