"""Two plans made before the first apply: the second is stale once the first is applied, and the
reason says so in the user's terms (the state was created since), not with lineage ids."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.plan.model import Plan
from reconciler.plan.planfile import SavedPlan, load_plan, stale_reasons
from reconciler.plan.planfile_crypto import KEY_ENV
from state.format import decode_state
from state.model import State

CONFIG = """
variable "word" {
  type    = string
  default = "one"
}

resource "terraform_data" "marker" {
  input = var.word
}
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "main.tf").write_text(CONFIG)
    return cfg


def test_the_second_plan_made_before_any_state_is_refused_in_plain_words(workdir, tmp_path):
    first, second = tmp_path / "one.plan", tmp_path / "two.plan"
    assert run("plan", str(workdir), "-out", str(first))[0] == 0
    assert run("plan", str(workdir), "-out", str(second), "-var", "word=two")[0] == 0
    assert not (workdir / "vaultform.tfstate").exists()
    code, out, err = run("apply", str(first))
    assert code == 0, out + err
    state = (workdir / "vaultform.tfstate").read_bytes()

    code, out, err = run("apply", str(second))
    assert code == 1
    assert "The saved plan is stale" in err
    assert "the state was created by another apply after this plan was made" in err
    assert "Run plan again" in err
    assert "lineage" not in err
    assert load_plan(second)[0].state_lineage not in err
    assert "Apply complete" not in out
    assert (workdir / "vaultform.tfstate").read_bytes() == state
    assert decode_state(state).instance("terraform_data.marker").attributes["input"] == "one"


def test_reasons_for_a_plan_made_without_state():
    saved = SavedPlan(
        Plan(changes=[], state_lineage="planned", state_serial=0), Path("."), config_fingerprint="F"
    )
    created = State.new(lineage="created").with_serial(1)
    assert stale_reasons(saved, state=created, state_exists=True, fingerprint="F") == [
        "the state was created by another apply after this plan was made"
    ]
    # its own lineage, written since (a partial apply of this very plan): the serial moved
    [reason] = stale_reasons(
        saved, state=State.new(lineage="planned").with_serial(2), state_exists=True, fingerprint="F"
    )
    assert "serial 2" in reason
    # a plan made with a state, applied to another one, still names both lineages
    with_state = SavedPlan(
        Plan(changes=[], state_lineage="L", state_serial=3), Path("."), config_fingerprint="F"
    )
    [reason] = stale_reasons(with_state, state=created, state_exists=True, fingerprint="F")
    assert "lineage created" in reason
