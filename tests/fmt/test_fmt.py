"""`vaultform fmt`: Terraform's layout byte for byte, its flags and exit codes.

Each case in tests/fixtures/fmt/<case>/ holds input.tf and expected.tf, the latter written by
`terraform fmt`. The differential tests run the terraform binary itself, side by side, on
every .tf file of the repository, on these cases and on whitespace-scrambled variants of
them; without terraform on the PATH they skip and say so.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.fmt import FormatSyntaxError, format_source
from reconciler.fmt.tokens import T, scan

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "tests/fixtures/fmt").iterdir())
TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="install terraform to compare fmt with it")


def _terraform_fmt(src: bytes, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(
        [TERRAFORM, "fmt", *args], input=src, capture_output=True, cwd=cwd, env=env, timeout=60
    )


def _run(args: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(args, output=Output(out=out, err=err, no_color=True))
    finally:
        os.chdir(previous)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_formats_each_case_as_terraform_wrote_it(case):
    src = (case / "input.tf").read_bytes().decode("utf-8")
    expected = (case / "expected.tf").read_bytes().decode("utf-8")
    assert format_source(src) == expected


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_formatting_is_idempotent(case):
    once = format_source((case / "input.tf").read_text())
    assert format_source(once) == once


def _repository_tf_files() -> list[Path]:
    skip = {".git", ".venv", "venv", "node_modules"}
    return sorted(
        p for p in ROOT.rglob("*.tf") if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)
    )


@needs_terraform
def test_every_tf_file_in_the_repository_formats_as_terraform_does():
    compared = 0
    for path in _repository_tf_files():
        data = path.read_bytes()
        theirs = _terraform_fmt(data, "-")
        if theirs.returncode != 0:  # files that are broken on purpose
            continue
        ours = format_source(data.decode("utf-8"))
        shown = (ours[:-1] if ours.endswith("\n") else ours) + "\n"  # terraform's stdout adds one
        assert shown.encode() == theirs.stdout, path
        compared += 1
    assert compared >= 100


_UNTOUCHABLE = {
    T.QUOTED_LIT,
    T.STRING_LIT,
    T.C_HEREDOC,
    T.C_QUOTE,
    T.QUOTED_NEWLINE,
    T.TEMPLATE_SEQ_END,
    T.EOF,
}
_IN_TEMPLATE = {T.O_QUOTE, T.QUOTED_LIT, T.O_HEREDOC, T.STRING_LIT}


def _scramble(text: str, rnd: random.Random) -> str:
    """The same tokens with other spaces, tabs and indentation between them."""
    out, prev = [], None
    for tok in scan(text):
        spaces = " " * tok.spaces_before
        if tok.type not in _UNTOUCHABLE and not (prev is not None and prev.type in _IN_TEMPLATE):
            line_start = prev is None or prev.type is T.NEWLINE or prev.text.endswith("\n")
            if line_start:
                spaces = rnd.choice(["", " ", "     ", "\t"])
            elif tok.spaces_before:
                spaces = rnd.choice([" ", "   ", "\t", " \t "])
            elif rnd.random() < 0.3:
                spaces = " "
        out.append(spaces + tok.text)
        prev = tok
    return "".join(out)


@needs_terraform
def test_scrambled_layouts_format_as_terraform_does():
    rnd = random.Random(20261204)
    sources = [p.read_text() for p in _repository_tf_files() if "fixtures/fmt" in p.as_posix()]
    sources += [(ROOT / "examples/quickstart/main.tf").read_text()]
    compared = 0
    for src in sources:
        for _ in range(4):
            variant = _scramble(src, rnd)
            theirs = _terraform_fmt(variant.encode(), "-")
            if theirs.returncode != 0:
                continue
            ours = format_source(variant)
            assert ((ours[:-1] if ours.endswith("\n") else ours) + "\n").encode() == theirs.stdout, variant
            compared += 1
    assert compared >= 20


def _tree(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    (root / "sub").mkdir(parents=True)
    (root / "main.tf").write_text(
        'resource "terraform_data" "a" {\ninput="x"\n  triggers_replace = [1,2]\n}\n'
    )
    (root / "ok.tf").write_text("locals {\n  a = 1\n}\n")
    (root / "vars.tfvars").write_text('region="westeurope"\nname = "x"\n')
    (root / "sub" / "nested.tf").write_text('output "o" {\nvalue = "${local.a}"\n}\n')
    (root / ".hidden.tf").write_text("a=1\n")
    (root / "notes.txt").write_text("a=1\n")
    return root


@needs_terraform
@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-check"],
        ["-check", "-recursive"],
        ["-check", "-list=false"],
        ["-list=false", "-write=false"],
        ["-diff", "-write=false", "main.tf"],
        ["-write=false", "main.tf", "vars.tfvars"],
        ["-recursive"],
        ["notes.txt"],
        ["missing-dir"],
    ],
    ids=lambda a: " ".join(a) or "(none)",
)
def test_flags_files_and_exit_codes_match_terraform(tmp_path, args):
    theirs_dir, ours_dir = _tree(tmp_path, "tf"), _tree(tmp_path, "vf")
    theirs = _terraform_fmt(b"", *args, cwd=theirs_dir)
    code, out, _err = _run(["fmt", *args], ours_dir)
    assert code == theirs.returncode
    assert out == theirs.stdout.decode()
    for path in sorted(p.relative_to(theirs_dir) for p in theirs_dir.rglob("*") if p.is_file()):
        assert (ours_dir / path).read_bytes() == (theirs_dir / path).read_bytes(), path


def test_check_exits_3_and_lists_the_file_without_writing_it(tmp_path):
    (tmp_path / "main.tf").write_text("a=1\n")
    code, out, _err = _run(["fmt", "-check"], tmp_path)
    assert (code, out) == (3, "main.tf\n")
    assert (tmp_path / "main.tf").read_text() == "a=1\n"
    assert _run(["fmt"], tmp_path)[:2] == (0, "main.tf\n")
    assert (tmp_path / "main.tf").read_text() == "a = 1\n"
    assert _run(["fmt", "-check"], tmp_path)[:2] == (0, "")


def test_a_file_that_does_not_parse_is_named_with_its_line_and_left_alone(tmp_path):
    broken = 'resource "terraform_data" "a" {\n  input = \n}\n'
    (tmp_path / "main.tf").write_text(broken)
    (tmp_path / "other.tf").write_text("b=2\n")
    code, _out, err = _run(["fmt"], tmp_path)
    assert code == 2
    assert "main.tf line 2" in err and "Missing expression" in err
    assert (tmp_path / "main.tf").read_text() == broken
    assert (tmp_path / "other.tf").read_text() == "b = 2\n"  # the others are still formatted


@pytest.mark.parametrize(
    "src, summary",
    [
        ('a = "x\n', "Unterminated template string"),
        ("a = [1, 2\n", "Unclosed ["),
        ("a = <<EOT\nnever ends\n", "Unclosed <<EOT"),
        ("a = (1]\n", 'Unexpected "]"'),
        ("a = 1 ; b = 2\n", "Invalid character ';'"),
    ],
)
def test_syntax_problems_are_reported_not_formatted(src, summary):
    with pytest.raises(FormatSyntaxError) as info:
        format_source(src)
    assert info.value.problem.summary.startswith(summary)


def test_file_mode_is_kept_when_rewriting(tmp_path):
    path = tmp_path / "main.tf"
    path.write_text("a=1\n")
    path.chmod(0o640)
    assert _run(["fmt"], tmp_path)[0] == 0
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["main.tf"]


STDIN_DIFF = "--- old/<stdin>\n+++ new/<stdin>\n@@ -1,2 +1,2 @@\n-a=1\n+a = 1\n b = 2\n"


@pytest.mark.parametrize(
    ("src", "args", "expected"),
    [  # what terraform 1.11 prints and exits with, standard input piped in
        ("a = 1\n", ["-check"], (0, "")),
        ("", ["-check"], (0, "")),
        ("a = 1", ["-check", "-diff"], (0, "")),
        ("a=1\nb = 2\n", ["-check"], (3, "")),
        ("a=1\nb = 2\n", ["-check", "-diff"], (3, "")),  # -check keeps the diff to itself on stdin
        ("a = 1\n", ["-diff"], (0, "")),
        ("a=1\nb = 2\n", ["-diff"], (0, STDIN_DIFF)),
        ("a=1\nb = 2\n", [], (0, "a = 1\nb = 2\n")),
        ("", [], (0, "\n")),
    ],
    ids=lambda v: repr(v) if isinstance(v, str) else " ".join(v) if isinstance(v, list) else None,
)
def test_standard_input_is_checked_diffed_and_formatted_as_terraform_does(
    tmp_path, monkeypatch, src, args, expected
):
    monkeypatch.setattr("sys.stdin", io.StringIO(src))
    code, out, _err = _run(["fmt", *args, "-"], tmp_path)
    assert (code, out) == expected
    if TERRAFORM is not None:
        theirs = _terraform_fmt(src.encode(), *args, "-", cwd=tmp_path)
        assert (theirs.returncode, theirs.stdout.decode()) == expected
