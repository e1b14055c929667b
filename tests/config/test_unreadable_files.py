"""A configuration file that can't be read is an error naming it, never skipped.

Skipping one made `validate` say valid and `apply` destroy what the file declared.
Tests run as root, for whom a chmod 000 file is readable, so unreadability is made
with what root can't read either: dangling links, link loops, named pipes, directories
named like a file, and bytes that aren't UTF-8.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.plan.planfile_crypto import KEY_ENV
from state.format import decode_state

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "unreadable"


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue() + err.getvalue()


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere.tf")


def _loop(path: Path) -> None:
    path.symlink_to(path.name)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _directory(path: Path) -> None:
    path.mkdir()


def _latin1(path: Path) -> None:
    path.write_bytes(b'resource "terraform_data" "x" {\n  input = "caf\xe9"\n}\n')


DAMAGE = {
    "dangling link": (_dangling, "does not exist"),
    "link loop": (_loop, "symbolic link loop"),
    "named pipe": (_fifo, "named pipe"),
    "directory": (_directory, "is a directory"),
    "not utf-8": (_latin1, "not valid UTF-8"),
}


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    shutil.copytree(FIXTURES / "two_files", tmp_path / "cfg")
    monkeypatch.chdir(tmp_path / "cfg")
    return tmp_path / "cfg"


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_validate_names_the_unreadable_file_and_why(work, kind):
    damage, reason = DAMAGE[kind]
    (work / "other.tf").unlink()
    damage(work / "other.tf")
    started = time.monotonic()
    code, text = run("validate", str(work))
    assert time.monotonic() - started < 10, "reading a named pipe must not wait for a writer"
    assert code == 1, text
    assert "other.tf" in text and reason in text, text
    assert "Success" not in text and "Traceback" not in text


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_apply_refuses_instead_of_destroying_what_the_file_declared(work, kind):
    code, text = run("apply", str(work), "-auto-approve")
    assert code == 0, text
    damage, reason = DAMAGE[kind]
    (work / "other.tf").unlink()
    damage(work / "other.tf")
    code, text = run("apply", str(work), "-auto-approve")
    assert code != 0, text
    assert "other.tf" in text and reason in text, text
    state = decode_state((work / "vaultform.tfstate").read_bytes())
    names = {r.name for r in state.resources}
    assert names == {"kept", "declared_elsewhere"}, names


def test_only_file_not_utf8_is_not_reported_as_no_files(work):
    for p in work.iterdir():
        p.unlink()
    _latin1(work / "only.tf")
    code, text = run("validate", str(work))
    assert code == 1
    assert "not valid UTF-8" in text and "only.tf" in text
    assert "No .tf files" not in text, text


@pytest.mark.parametrize("kind", ["dangling link", "named pipe", "not utf-8"])
def test_unreadable_file_in_a_module_is_an_error(tmp_path, monkeypatch, kind):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(FIXTURES / "module_call", tmp_path / "cfg")
    damage, reason = DAMAGE[kind]
    damage(tmp_path / "cfg" / "modules" / "inner" / "broken.tf")
    code, text = run("validate", str(tmp_path / "cfg"))
    assert code == 1, text
    assert "broken.tf" in text and reason in text, text


@pytest.mark.parametrize("name", ["terraform.tfvars", "x.auto.tfvars"])
@pytest.mark.parametrize("kind", ["dangling link", "named pipe", "directory", "not utf-8"])
def test_unreadable_variables_file_is_an_error(work, name, kind):
    (work / "vars.tf").write_text('variable "v" {\n  default = "d"\n}\n')
    damage, reason = DAMAGE[kind]
    damage(work / name)
    started = time.monotonic()
    code, text = run("plan", str(work))
    assert time.monotonic() - started < 10
    assert code == 1, text
    assert name in text and reason in text, text
    assert "Traceback" not in text
