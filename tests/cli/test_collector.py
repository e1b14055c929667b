"""The garbage collector around a command (``reconciler.cli.collector``): what a plan loads is
frozen out of collections while the command runs and handed back when it ends; and a plan whose
files all come from the parse cache never loads the parser (python-hcl2, lark)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from reconciler.cli.main import main
from reconciler.cli.output import Output

CONFIG = """
resource "terraform_data" "a" {
  input = "one"
}

resource "terraform_data" "b" {
  input = "${terraform_data.a.output}-two"
}
"""


def _run(directory: Path, *argv: str) -> int:
    from io import StringIO

    out = StringIO()
    return main([argv[0], *argv[1:], str(directory)], output=Output(out=out, err=out, no_color=True))


def test_a_plan_freezes_what_it_loaded_and_hands_it_back(tmp_path, monkeypatch):
    (tmp_path / "main.tf").write_text(CONFIG)
    monkeypatch.setenv("VAULTFORM_CACHE_DIR", str(tmp_path / "cache"))
    assert _run(tmp_path, "apply", "-auto-approve", "-no-color") == 0
    seen: list[int] = []
    real_freeze = gc.freeze

    def freeze() -> None:
        real_freeze()
        seen.append(gc.get_freeze_count())

    monkeypatch.setattr(gc, "freeze", freeze)
    thresholds = gc.get_threshold()
    assert _run(tmp_path, "plan", "-no-color", "-detailed-exitcode") == 0
    assert seen and seen[0] > 0  # the configuration and the state were frozen during the plan
    assert gc.get_freeze_count() == 0  # ... and are collectable again after it
    assert gc.get_threshold() == thresholds  # the caller's thresholds are back


def test_a_plan_from_a_warm_parse_cache_does_not_load_the_parser(tmp_path):
    (tmp_path / "main.tf").write_text(CONFIG)
    env = {**os.environ, "VAULTFORM_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("VAULTFORM_NO_PARSE_CACHE", None)
    script = textwrap.dedent(
        f"""
        import sys
        from reconciler.cli.main import main
        code = main(["plan", "-no-color", {str(tmp_path)!r}])
        print("loaded:", sorted(m for m in ("hcl2", "lark") if m in sys.modules))
        sys.exit(code)
        """
    )
    cold = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert cold.returncode == 0, cold.stderr
    assert "loaded: ['hcl2', 'lark']" in cold.stdout  # an empty cache parses
    warm = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert warm.returncode == 0, warm.stderr
    assert "loaded: []" in warm.stdout, warm.stdout
