"""The Rasa launcher (runtime/rasa_run.py) keeps modules Rasa never uses out of the server."""

from __future__ import annotations

import subprocess
import sys

from devtools.local_bot import ROOT

PROBE = """
import sys
from runtime.rasa_run import keep_out_unused_modules
keep_out_unused_modules()
import rasa.core.agent, rasa.core.run  # what `rasa run` imports to serve
from tensorflow.lite.python import util as tflite_util
loaded = [
    name for name in sys.modules
    if (name == "jax" or name.startswith(("jax.", "jaxlib"))) and sys.modules[name] is not None
]
print("loaded:", loaded, "tflite jax hook:", tflite_util._xla_computation)
"""


def run_probe(source: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-c", source],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_the_server_runs_without_jax_and_tensorflow_accepts_that() -> None:
    result = run_probe(PROBE)
    assert "loaded: [] tflite jax hook: None" in result.stdout


def test_without_the_guard_jax_would_be_loaded() -> None:
    # The guard is only worth its place while TensorFlow does import jax when it can.
    probe = PROBE.replace("keep_out_unused_modules()\n", "")
    assert probe != PROBE
    result = run_probe(probe)
    assert "loaded: []" not in result.stdout
