"""Run `quizbot` as a user would: a subprocess in a folder of its own, nothing set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# settings a developer's shell may hold, which a newcomer's does not
_UNSET = ("QUESTIONS_DIR", "DATABASE_URL", "LOG_LEVEL", "LOG_FORMAT")


def quizbot(
    cwd: Path, *args: str, stdin: str = "", timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in `cwd` with only `env` set of quizbot's settings."""
    environ = {k: v for k, v in os.environ.items() if k not in _UNSET}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
