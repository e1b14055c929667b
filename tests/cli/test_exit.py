"""A run of the vaultform command leaves its objects to the process's end instead of the collector."""

from __future__ import annotations

import gc
import io
import sys

from reconciler.cli.main import main
from reconciler.cli.output import Output


def test_the_commands_own_process_freezes_its_objects_before_exiting(monkeypatch):
    gc.unfreeze()
    try:
        assert main(["version"], output=Output(out=io.StringIO(), err=io.StringIO())) == 0
        assert gc.get_freeze_count() == 0  # called in-process (tests, tools): nothing frozen
        monkeypatch.setattr(sys, "argv", ["vaultform", "version"])
        assert main(output=Output(out=io.StringIO(), err=io.StringIO())) == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
