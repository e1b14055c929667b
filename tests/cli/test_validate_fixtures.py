"""`vaultform validate` over fixture directories.

In ``tests/fixtures/validate/<case>/`` every line that must draw an error carries a
trailing ``# ERROR: <words from the summary>`` comment; the test checks that each
marked line gets such an error and that no unmarked error appears. Configurations in
``tests/fixtures/validate-ok/`` must validate with no error at all.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.validate import validate_directory

FIXTURES = Path(__file__).parent.parent / "fixtures"
BAD = sorted(p for p in (FIXTURES / "validate").iterdir() if p.is_dir())
GOOD = sorted(p for p in (FIXTURES / "validate-ok").iterdir() if p.is_dir())
MARK = re.compile(r"#\s*ERROR:\s*(.+?)\s*$")


def markers(case: Path) -> list[tuple[str, int, str]]:
    found = []
    for f in sorted(case.rglob("*.tf")):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            m = MARK.search(line)
            if m:
                found.append((str(f.resolve()), n, m.group(1)))
    return found


def _places(diag) -> set[tuple[str, int]]:
    places = set()
    if diag.range:
        places.add((str(Path(diag.range.file).resolve()), diag.range.line))
    for file, line in re.findall(r"([^\s(]+\.tf):(\d+)", diag.detail):
        places.add((str(Path(file).resolve()), int(line)))
    return places


@pytest.mark.parametrize("case", BAD, ids=[p.name for p in BAD])
def test_each_marked_line_gets_its_error(case: Path):
    expected = markers(case)
    assert expected, f"{case} has no # ERROR: marker"
    errors = validate_directory(case).diagnostics.errors
    unmatched = list(errors)
    for file, line, words in expected:
        hits = [d for d in errors if (file, line) in _places(d) and words.lower() in d.summary.lower()]
        assert hits, f"{Path(file).name}:{line}: expected an error containing {words!r}; got " + "; ".join(
            f"{d.range.line if d.range else '?'}: {d.summary}" for d in errors
        )
        for d in hits:
            if d in unmatched:
                unmatched.remove(d)
    assert not unmatched, "unexpected errors: " + "; ".join(
        f"{d.range.line if d.range else '?'}: {d.summary}" for d in unmatched
    )


@pytest.mark.parametrize("case", GOOD, ids=[p.name for p in GOOD])
def test_valid_configurations_have_no_errors(case: Path):
    errors = validate_directory(case).diagnostics.errors
    assert not errors, "; ".join(f"{d.range}: {d.summary}: {d.detail}" for d in errors)


@pytest.mark.parametrize("example", ["quickstart", "user-assigned-identity"])
def test_examples_validate(example: str):
    root = Path(__file__).parent.parent.parent / "examples" / example
    out = io.StringIO()
    code = main(["validate", str(root)], output=Output(out=out, err=out))
    assert code == 0, out.getvalue()
    assert "Success!" in out.getvalue()


def test_json_output_is_stable_and_complete():
    out = io.StringIO()
    code = main(
        ["validate", str(FIXTURES / "validate" / "wrong-type"), "-json"], output=Output(out=out, err=out)
    )
    assert code == 1
    doc = json.loads(out.getvalue())
    assert doc["format_version"] == "1.0" and doc["valid"] is False
    assert doc["error_count"] == 2
    first = doc["diagnostics"][0]
    assert set(first) >= {"severity", "code", "summary", "detail", "range"}
    assert first["range"]["filename"].endswith("main.tf") and first["range"]["start"]["line"] == 7


def test_text_output_names_file_line_and_shows_source():
    out = io.StringIO()
    code = main(["validate", str(FIXTURES / "validate" / "invalid-enum")], output=Output(out=out, err=out))
    text = out.getvalue()
    assert code == 1
    assert "main.tf line 5" in text and 'key_permissions = ["get"' in text
    assert 'Did you mean "Get"' in text


def test_missing_directory_is_a_clear_error(tmp_path):
    out = io.StringIO()
    code = main(["validate", str(tmp_path / "nope")], output=Output(out=out, err=out))
    assert code == 1 and "No configuration directory" in out.getvalue()
    assert "Traceback" not in out.getvalue()


def test_a_directory_without_tf_files_is_a_valid_empty_configuration(tmp_path):
    """As terraform 1.11 says of it: valid (plan is what refuses an empty configuration)."""
    out = io.StringIO()
    assert main(["validate", "-no-color", str(tmp_path)], output=Output(out=out, err=out)) == 0
    assert "Success! The configuration is valid." in out.getvalue()
    out = io.StringIO()
    assert main(["validate", "-json", str(tmp_path)], output=Output(out=out, err=out)) == 0
    assert '"valid": true' in out.getvalue()


def test_files_terraform_reads_beside_the_tf_files_are_read_never_skipped():
    """The files terraform reads beside the .tf files are read with them, never skipped (skipped,
    what they declare would be planned for destruction): the .tf.json file in terraform's JSON
    syntax, and the override file merged into the block it overrides."""
    case = FIXTURES / "loader" / "json-and-override-files"
    validated = validate_directory(case)
    assert validated.diagnostics.errors == []
    assert validated.tree is not None
    module = validated.tree.module
    assert sorted(module.resources) == ["terraform_data.a", "terraform_data.b"]
    assert sorted(Path(f).name for f in module.files) == ["extra.tf.json", "main.tf", "main_override.tf"]
    (merged,) = [a for a in module.resources["terraform_data.a"].body.attributes if a.name == "input"]
    assert merged.expr.value == "override"  # main_override.tf's, where it is written
    assert (Path(merged.pos.file).name, merged.pos.line) == ("main_override.tf", 2)
    assert Path(module.resources["terraform_data.a"].pos.file).name == "main.tf"
