"""`state mv` side by side with terraform 1.11 on the state it wrote: the same messages, the same
addresses afterwards, and the same refusal where a move would put two objects at one address."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output

FIXTURE = Path(__file__).parents[1] / "fixtures" / "state_mv_parity"

pytestmark = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="install terraform to compare with it"
)

MOVES = [
    ("terraform_data.c", "terraform_data.d"),
    ("terraform_data.c[1]", "terraform_data.c[5]"),
    ('module.e["pr"].terraform_data.x', 'module.e["pr"].terraform_data.y'),
    ("terraform_data.one", 'module.e["dr"].terraform_data.one'),
    ('module.e["dr"]', "module.f"),
    ('module.e["dr"]', 'module.g["dr"]'),
]


def _terraform(directory: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1", "NO_COLOR": "1"}
    return subprocess.run(["terraform", *argv], cwd=directory, env=env, capture_output=True, text=True)


def _vaultform(directory: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["-chdir=" + str(directory), *argv], output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def both(tmp_path) -> tuple[Path, Path]:
    theirs, ours = tmp_path / "tf", tmp_path / "vf"
    shutil.copytree(FIXTURE, theirs)
    shutil.copytree(FIXTURE, ours)
    assert _terraform(theirs, "init").returncode == 0
    return theirs, ours


@pytest.mark.parametrize("src, dst", MOVES, ids=[f"{s} -> {d}" for s, d in MOVES])
def test_state_mv_reads_and_moves_as_terraforms(both, src, dst):
    theirs, ours = both
    moved_t = _terraform(theirs, "state", "mv", "-state=terraform.tfstate", src, dst)
    code, out, err = _vaultform(ours, "state", "mv", "-state=terraform.tfstate", src, dst)
    assert (code, moved_t.returncode) == (0, 0), err + moved_t.stderr
    assert out == moved_t.stdout
    listed_t = _terraform(theirs, "state", "list", "-state=terraform.tfstate").stdout.split()
    code, listed, _ = _vaultform(ours, "state", "list", "-state=terraform.tfstate")
    assert code == 0 and sorted(listed.split()) == sorted(listed_t)


def test_a_module_call_with_instances_is_not_moved_under_one_address(both):
    """terraform finds nothing to move at module.e when its instances are keyed; moving them all to
    module.f would put two objects at module.f.terraform_data.x and lose one from state."""
    theirs, ours = both
    before = (ours / "terraform.tfstate").read_bytes()
    assert (
        _terraform(theirs, "state", "mv", "-state=terraform.tfstate", "module.e", "module.f").returncode == 1
    )
    code, _, err = _vaultform(ours, "state", "mv", "-state=terraform.tfstate", "module.e", "module.f")
    assert code == 1
    assert "Cannot move module.e: it names no one module instance" in err
    assert """vaultform state mv 'module.e["dr"]' 'module.f["dr"]'""" in err
    assert (ours / "terraform.tfstate").read_bytes() == before


REMOVALS = [
    ("terraform_data.one", "terraform_data.nope"),
    ("terraform_data.c", "terraform_data.c[7]", "module.zz"),
    ("terraform_data.nope",),
    ("terraform_data.nope", "module.zz"),
]


@pytest.mark.parametrize("dry_run", [False, True], ids=["rm", "rm -dry-run"])
@pytest.mark.parametrize("addresses", REMOVALS, ids=[" ".join(a) for a in REMOVALS])
def test_state_rm_removes_what_matches_as_terraform(both, addresses, dry_run):
    """terraform removes what any address matches and fails only when none matched anything;
    a dry run of nothing says so and succeeds."""
    theirs, ours = both
    argv = ("state", "rm", "-state=terraform.tfstate", *(["-dry-run"] if dry_run else []), *addresses)
    before = (ours / "terraform.tfstate").read_bytes()
    removed_t = _terraform(theirs, *argv)
    code, out, err = _vaultform(ours, *argv)
    assert code == removed_t.returncode, err + removed_t.stderr
    said = out.splitlines()
    said_t = removed_t.stdout.splitlines()
    if not dry_run and said_t:  # vaultform's closing line adds what became of the objects
        assert said[-1].startswith(said_t[-1] + " ")
        said, said_t = said[:-1], said_t[:-1]
    assert said == said_t
    if code:
        assert "Error: Invalid target address\n" in re.sub("\x1b\\[[0-9;]*m", "", removed_t.stderr)
        assert "Error: Invalid target address [state_no_match]" in err
    listed_t = _terraform(theirs, "state", "list", "-state=terraform.tfstate").stdout.split()
    code, listed, _ = _vaultform(ours, "state", "list", "-state=terraform.tfstate")
    assert sorted(listed.split()) == sorted(listed_t)
    if dry_run or code:
        assert (ours / "terraform.tfstate").read_bytes() == before


def test_state_push_of_another_state_with_the_same_serial_is_refused_as_terraform(both, tmp_path):
    """A pulled state edited without raising its serial would silently replace the stored one;
    the same state written otherwise is no conflict."""
    theirs, ours = both
    state = json.loads((ours / "terraform.tfstate").read_text())
    same = tmp_path / "same.json"
    same.write_text(json.dumps(state))
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**state, "resources": state["resources"][1:]}))
    sentence = (
        f"cannot overwrite existing state with serial {state['serial']} with a different state that "
        "has the same serial"
    )
    before = (ours / "terraform.tfstate").read_bytes()
    pushed_t = _terraform(theirs, "state", "push", str(edited))  # terraform's own terraform.tfstate
    code, _out, err = _vaultform(ours, "state", "push", "-state=terraform.tfstate", str(edited))
    assert (code, pushed_t.returncode) == (1, 1)
    assert sentence in pushed_t.stderr and sentence in err
    assert (ours / "terraform.tfstate").read_bytes() == before
    pushed_t = _terraform(theirs, "state", "push", str(same))
    code, _out, err = _vaultform(ours, "state", "push", "-state=terraform.tfstate", str(same))
    assert (code, pushed_t.returncode) == (0, 0), err + pushed_t.stderr


READS = [
    ("state", "list", "-state=terraform.tfstate"),
    ("state", "list", "-state=terraform.tfstate", "module.e"),
    ("state", "list", "-state=terraform.tfstate", 'module.e["dr"]'),
    ("state", "show", "-state=terraform.tfstate", 'module.e["dr"].terraform_data.x'),
    ("show", "-no-color", "terraform.tfstate"),
]


@pytest.mark.parametrize("argv", READS, ids=[" ".join(a) for a in READS])
def test_reading_the_state_prints_what_terraform_prints(both, argv):
    """Byte for byte; show sets each module's objects off by one more blank line, as terraform's."""
    theirs, ours = both
    read_t = _terraform(theirs, *argv)
    code, out, err = _vaultform(ours, *argv)
    assert (code, read_t.returncode) == (0, 0), err + read_t.stderr
    assert out == read_t.stdout


UNKNOWN = [
    ("nothing.here", "Unknown resource"),
    ("module.zz", "Unknown module"),
    ("terraform_data.c[7]", "Unknown resource instance"),
    ('module.e["zz"]', "Unknown module"),
]


@pytest.mark.parametrize("address, summary", UNKNOWN, ids=[a for a, _ in UNKNOWN])
def test_listing_what_state_lacks_is_an_error_as_in_terraform(both, address, summary):
    theirs, ours = both
    listed_t = _terraform(theirs, "state", "list", "-no-color", "-state=terraform.tfstate", address)
    code, out, err = _vaultform(ours, "state", "list", "-state=terraform.tfstate", address)
    assert (code, listed_t.returncode) == (1, 1)
    assert f"Error: {summary}\n" in listed_t.stderr
    assert f"Error: {summary} [state_no_match]" in err and not out


def test_taint_and_untaint_speak_and_mark_as_terraforms(both):
    theirs, ours = both
    target = 'module.e["dr"].terraform_data.x'
    for argv in (
        ("taint", "-state=terraform.tfstate", target),
        ("state", "show", "-state=terraform.tfstate", target),
        ("untaint", "-state=terraform.tfstate", target),
        ("state", "show", "-state=terraform.tfstate", target),
    ):
        done_t = _terraform(theirs, *argv)
        code, out, err = _vaultform(ours, *argv)
        assert (code, done_t.returncode) == (0, 0), err + done_t.stderr
        assert out == done_t.stdout
    code, _, err = _vaultform(ours, "untaint", "-state=terraform.tfstate", target)
    assert code == 1 and "is not currently tainted" in err
    assert _terraform(theirs, "untaint", "-state=terraform.tfstate", target).returncode == 1
