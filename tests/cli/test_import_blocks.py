"""Mistakes in import blocks are diagnostics at the block's line (fixtures mark it with `# ERROR:`)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.diagnostics import DiagnosticsError
from reconciler.importing import resolve_import_blocks
from reconciler.session import open_session

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cli_state"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.name.startswith("import_"))


def expected(case: Path) -> tuple[Path, int, str]:
    for tf in sorted(case.rglob("*.tf")):
        for number, line in enumerate(tf.read_text().splitlines(), start=1):
            if "# ERROR: " in line:
                return tf, number, line.split("# ERROR: ", 1)[1].strip()
    raise AssertionError(f"{case} marks no line with # ERROR:")


@pytest.mark.parametrize("case", CASES)
def test_import_block_mistakes(case, tmp_path):
    case_dir = tmp_path / case  # a copy: a plan remembers its lineage beside the configuration
    shutil.copytree(FIXTURES / case, case_dir)
    tf, line, summary = expected(case_dir)
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["plan", str(case_dir), "-state", str(tmp_path / "s.tfstate")],
        output=Output(out=out, err=err, no_color=True),
    )
    assert code == 1
    text = err.getvalue() + out.getvalue()
    assert summary in text and "Traceback" not in text
    if case != "import_no_instance":  # found while planning; the others before it
        session = open_session(case_dir, state_path=str(tmp_path / "s.tfstate"))
        with pytest.raises(DiagnosticsError) as exc:
            resolve_import_blocks(session)
        diag = next(d for d in exc.value.diagnostics if summary in d.summary)
        assert Path(diag.range.file).resolve() == tf.resolve() and diag.range.line == line
