"""Stopping the server subprocesses tests start (knotd, unbound), by PID, never by name.

Owns the one way to end such a process: SIGTERM, then SIGKILL past a bound. Must not touch a
process the caller did not start.
"""

from __future__ import annotations

import os
import signal
import subprocess

# How long a server gets to exit after SIGTERM (and after SIGKILL) before the test fails.
STOP_TIMEOUT_S = 10.0


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """End ``process`` if it still runs: SIGTERM, then SIGKILL after ``STOP_TIMEOUT_S``."""
    if process is None or process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
