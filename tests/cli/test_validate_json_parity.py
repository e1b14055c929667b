"""`validate -json`: each diagnostic's range (with byte offsets) and source snippet as terraform
writes them, side by side with the binary (summary and detail are vaultform's own words)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

CASES = sorted(p for p in (Path(__file__).parents[1] / "fixtures" / "validate_json").iterdir() if p.is_dir())


@pytest.mark.skipif(shutil.which("terraform") is None, reason="install terraform to compare with it")
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_ranges_and_snippets_are_terraforms(case, tmp_path, monkeypatch):
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    shutil.copytree(case, theirs)
    shutil.copytree(case, ours)
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    subprocess.run(["terraform", "init", "-backend=false"], cwd=theirs, env=env, capture_output=True)
    done = subprocess.run(
        ["terraform", "validate", "-json"], cwd=theirs, env=env, capture_output=True, text=True
    )
    expected = [
        {k: d[k] for k in ("severity", "range", "snippet")} for d in json.loads(done.stdout)["diagnostics"]
    ]
    monkeypatch.chdir(ours)
    out = io.StringIO()
    assert main(["validate", "-json"], output=Output(out=out, err=out)) == 1
    got = [
        {k: d[k] for k in ("severity", "range", "snippet")} for d in json.loads(out.getvalue())["diagnostics"]
    ]
    assert got == expected
    assert expected and all(d["range"]["start"]["byte"] > 0 for d in expected)


def test_a_long_line_that_is_no_block_header_has_no_context():
    """A word of sixty letters once took the header pattern exponential time (found by the fuzz test)."""
    from reconciler.diagnostic_source import SourceFile

    source = SourceFile(b"resource " + b"a" * 60 + b"\nlocals {\n  x = 1\n}\n")
    assert [b.header for b in source.blocks()] == ["locals"]
    assert source.context(len(b"resource ")) is None


REDUNDANT_IGNORE = """resource "terraform_data" "a" {
  input = 1
  lifecycle {
    ignore_changes = [
      input,
      output,
      id,
    ]
  }
}
"""


def test_ignoring_an_attribute_only_the_provider_sets_warns(tmp_path, monkeypatch):
    """As terraform 1.11: "Redundant ignore_changes element" for each attribute the configuration
    can't set (output, id), on the resource block; validate still succeeds."""
    (tmp_path / "main.tf").write_text(REDUNDANT_IGNORE)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert main(["validate", "-json"], output=Output(out=out, err=out)) == 0
    got = json.loads(out.getvalue())
    assert got["valid"] is True
    found = [
        (d["severity"], d["summary"], d["range"]["start"]["line"], d["detail"]) for d in got["diagnostics"]
    ]
    assert [f[:3] for f in found] == [("warning", "Redundant ignore_changes element", 1)] * 2
    assert "The attribute output is decided by the provider alone" in found[0][3]
    assert "The attribute id is decided by the provider alone" in found[1][3]
