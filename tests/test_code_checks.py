"""The code checks CI runs, as tests: the import layering (``lint-imports``), ruff's lint and
format, and mypy. Each runs as its own process from the repository root with the configuration
in pyproject.toml, so ``python -m pytest`` is the one command CI and a contributor run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

CHECKS = {
    "lint-imports": [str(BIN / "lint-imports")],
    "ruff check": [sys.executable, "-m", "ruff", "check", "."],
    "ruff format --check": [sys.executable, "-m", "ruff", "format", "--check", "."],
    # the packages mypy checks are pyproject.toml's [tool.mypy] files
    "mypy": [sys.executable, "-m", "mypy"],
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_code_check_passes(name: str) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(CHECKS[name], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"`{name}` failed (exit {done.returncode}):\n{done.stdout}{done.stderr}"
