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


def test_no_collections_while_a_plan_loads_and_walks_and_collections_resume_after(tmp_path, monkeypatch):
    """Reading the configuration and the state, and the plan's walk, run with the collector off
    (they make next to no garbage cycles); what they built is frozen before it is back on."""
    from reconciler import importing, session

    (tmp_path / "main.tf").write_text(CONFIG)
    monkeypatch.setenv("VAULTFORM_CACHE_DIR", str(tmp_path / "cache"))
    assert _run(tmp_path, "apply", "-auto-approve", "-no-color") == 0
    seen: dict[str, tuple[bool, int]] = {}
    real_open, real_plan = session.open_session, importing.plan_with_imports

    def open_session(*args, **kwargs):
        seen["load"] = (gc.isenabled(), gc.get_freeze_count())
        return real_open(*args, **kwargs)

    def plan_with_imports(*args, **kwargs):
        seen["walk"] = (gc.isenabled(), gc.get_freeze_count())
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(session, "open_session", open_session)
    monkeypatch.setattr(importing, "plan_with_imports", plan_with_imports)
    assert gc.isenabled()
    assert _run(tmp_path, "plan", "-no-color", "-detailed-exitcode") == 0
    assert seen["load"] == (False, 0)  # off while loading, nothing frozen yet
    assert seen["walk"][0] is False and seen["walk"][1] > 0  # off while walking, the load frozen
    assert gc.isenabled() and gc.get_freeze_count() == 0  # on again, everything handed back


def test_paused_outside_a_command_changes_nothing_and_a_failure_turns_collections_back_on():
    from reconciler.cli import collector

    with collector.paused(keep=True):
        assert gc.isenabled()  # no command is running: left alone
    assert gc.get_freeze_count() == 0
    with collector.running():
        try:
            with collector.paused(keep=True):
                assert not gc.isenabled()
                raise RuntimeError("the load failed")
        except RuntimeError:
            pass
        assert gc.isenabled()
        assert gc.get_freeze_count() == 0  # a failed load keeps nothing
    assert gc.isenabled()


def test_a_process_forked_while_paused_collects():
    from reconciler.cli import collector

    with collector.running(), collector.paused():
        assert not gc.isenabled()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report whether its collector is on
            os.write(write, b"1" if gc.isenabled() else b"0")
            os._exit(0)
        os.close(write)
        answer = os.read(read, 1)
        os.close(read)
        os.waitpid(pid, 0)
    assert answer == b"1"
    assert gc.isenabled()
