"""plan -generate-config-out: the resource blocks it writes and terraform's refusals.

The blocks: tests/fixtures/generate_config/blocks/<case>/ holds an object as a provider read
it (object.json) and the block vaultform must write for it (expected.tf), against the schema
below, which has one attribute of each kind terraform treats apart.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from providers.schema import Attribute, BlockSchema, Kind, NestedBlock, Nesting, Type, list_of, map_of
from reconciler import genconfig
from reconciler.cli.main import main
from reconciler.cli.output import Output
from reconciler.fmt import format_source

FIXTURES = Path(__file__).parent.parent / "fixtures" / "generate_config"
BLOCKS = sorted(p.name for p in (FIXTURES / "blocks").iterdir())
TERRAFORM = shutil.which("terraform")
STRING, NUMBER, BOOL = Type(Kind.STRING), Type(Kind.NUMBER), Type(Kind.BOOL)

SCHEMA = BlockSchema(
    attributes=(
        Attribute("id", STRING, optional=True, computed=True),
        Attribute("name", STRING, required=True),
        Attribute("count", NUMBER, optional=True),
        Attribute("ratio", NUMBER, optional=True),
        Attribute("whole", NUMBER, optional=True),
        Attribute("enabled", BOOL, optional=True),
        Attribute("zones", list_of(STRING), optional=True),
        Attribute("tags", map_of(STRING), optional=True),
        Attribute("empty_list", list_of(STRING), optional=True),
        Attribute("note", STRING, optional=True),
        Attribute("password", STRING, optional=True, sensitive=True),
        Attribute("fingerprint", STRING, computed=True),
        Attribute("region", STRING, optional=True, computed=True),
        Attribute("sku", STRING, optional=True, computed=True),
        Attribute("old_name", STRING, optional=True, deprecated="use name"),
    ),
    blocks=(
        NestedBlock(
            "rule",
            BlockSchema(
                attributes=(
                    Attribute("name", STRING, required=True),
                    Attribute("ports", list_of(NUMBER), optional=True),
                )
            ),
        ),
        NestedBlock(
            "settings",
            BlockSchema(
                attributes=(
                    Attribute("mode", STRING, optional=True),
                    Attribute("level", STRING, optional=True),
                )
            ),
            nesting=Nesting.SINGLE,
        ),
    ),
)


@pytest.mark.parametrize("case", BLOCKS)
def test_generated_block(case):
    here = FIXTURES / "blocks" / case
    state = json.loads((here / "object.json").read_text())
    want = (here / "expected.tf").read_text()
    assert format_source(want) == want, "expected.tf must be as fmt leaves it"
    assert genconfig.resource_block("test_thing", case, SCHEMA, state) == want


def test_file_has_terraforms_header_and_a_comment_per_object():
    block = genconfig.resource_block("test_thing", "a", SCHEMA, {"name": "a"})
    text = genconfig.file_text([("/things/a", block), ("", block.replace('"a"', '"b"', 1))])
    assert text == (
        "# __generated__ by Terraform\n"
        "# Please review these resources and move them into your main configuration files.\n"
        "\n"
        '# __generated__ by Terraform from "/things/a"\n'
        f"{block}"
        "\n"
        "# __generated__ by Terraform\n"
        f"{block.replace(chr(34) + 'a' + chr(34), chr(34) + 'b' + chr(34), 1)}"
    )


# --------------------------------------------------------------------------- the command


def _plan(directory: Path, *args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["plan", str(directory), "-state", str(directory / "s.tfstate"), *args],
        output=Output(out=out, err=err, no_color=True),
    )
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text
    return code, text


def _config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "main.tf").write_text(text)
    return tmp_path


IMPORT_DATA = 'import {\n  to = terraform_data.x\n  id = "abc"\n}\n'


def test_generates_plans_and_writes_the_file(tmp_path):
    conf = _config(tmp_path, IMPORT_DATA)
    code, text = _plan(conf, "-generate-config-out", str(tmp_path / "gen.tf"))
    assert code == 0, text
    assert "# terraform_data.x will be imported\n  # (config will be generated)" in text
    assert "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy." in text
    assert "Config generation is experimental" in text
    assert f"vaultform has generated configuration and written it to {tmp_path / 'gen.tf'}." in text
    assert (tmp_path / "gen.tf").read_text() == (
        "# __generated__ by Terraform\n"
        "# Please review these resources and move them into your main configuration files.\n\n"
        '# __generated__ by Terraform from "abc"\n'
        'resource "terraform_data" "x" {\n'
        "  input            = null\n"
        "  triggers_replace = null\n"
        "}\n"
    )
    code, text = _plan(conf)  # the file kept: an ordinary import
    assert code == 0 and "1 to import" in text and "config will be generated" not in text, text


def test_a_relative_path_is_in_the_configuration_directory(tmp_path, monkeypatch):
    (tmp_path / "cfg").mkdir()
    conf = _config(tmp_path / "cfg", IMPORT_DATA)
    monkeypatch.chdir(tmp_path)
    code, text = _plan(Path("cfg"), "-generate-config-out=gen.tf")
    assert code == 0, text
    assert not (tmp_path / "gen.tf").exists(), "written outside the configuration it was planned with"
    assert 'resource "terraform_data" "x"' in (conf / "gen.tf").read_text()
    assert f"written it to {Path('cfg', 'gen.tf')}." in text
    code, text = _plan(Path("cfg"))  # the next plan of the directory has the generated block
    assert code == 0 and "1 to import" in text and "config will be generated" not in text, text
    code, text = _plan(Path("cfg"), "-generate-config-out=gen.tf")  # and a second one won't overwrite it
    assert code == 1 and "Target generated file already exists" in text


def test_existing_target_is_refused_and_left_alone(tmp_path):
    conf = _config(tmp_path, IMPORT_DATA)
    (tmp_path / "gen.tf").write_text("# mine\n")
    code, text = _plan(conf, f"-generate-config-out={tmp_path / 'gen.tf'}")
    assert code == 1 and "Target generated file already exists" in text
    assert (tmp_path / "gen.tf").read_text() == "# mine\n"


def test_nothing_to_generate_writes_nothing(tmp_path):
    conf = _config(tmp_path, 'resource "terraform_data" "x" {}\n' + IMPORT_DATA)
    code, text = _plan(conf, f"-generate-config-out={tmp_path / 'gen.tf'}")
    assert code == 0 and "1 to import" in text, text
    assert not (tmp_path / "gen.tf").exists() and "has generated configuration" not in text


@pytest.mark.parametrize("mode", ["-destroy", "-refresh-only"])
def test_only_a_normal_plan_generates(tmp_path, mode):
    conf = _config(tmp_path, IMPORT_DATA)
    code, text = _plan(conf, mode, f"-generate-config-out={tmp_path / 'gen.tf'}")
    assert code == 1 and "Invalid generate-config-out flag" in text
    assert not (tmp_path / "gen.tf").exists()


@pytest.mark.parametrize(
    ("imports", "detail"),
    [
        (
            'import {\n  to = module.m.terraform_data.x\n  id = "a"\n}\n',
            "Only resources within the root module",
        ),
        (
            'import {\n  to = terraform_data.x[0]\n  id = "a"\n}\n',
            "cannot be used with import blocks which use",
        ),
        (
            'import {\n  for_each = toset(["a"])\n  to = terraform_data.x\n  id = each.key\n}\n',
            "cannot be used with import blocks which use",
        ),
    ],
)
def test_targets_terraform_cannot_generate(tmp_path, imports, detail):
    conf = _config(tmp_path, imports)
    code, text = _plan(conf, f"-generate-config-out={tmp_path / 'gen.tf'}")
    assert code == 1 and detail in text, text
    assert not (tmp_path / "gen.tf").exists()


def test_apply_does_not_take_the_flag(tmp_path):
    conf = _config(tmp_path, IMPORT_DATA)
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["apply", str(conf), f"-generate-config-out={tmp_path / 'gen.tf'}"],
        output=Output(out=out, err=err, no_color=True),
    )
    assert code == 1 and "flag provided but not defined: -generate-config-out" in err.getvalue()
    assert not (tmp_path / "gen.tf").exists()


def test_without_the_flag_the_error_points_to_it(tmp_path):
    conf = _config(tmp_path, IMPORT_DATA)
    code, text = _plan(conf)
    assert code == 1 and "vaultform plan -generate-config-out=generated.tf" in text, text


@pytest.mark.skipif(TERRAFORM is None, reason="install terraform to compare the generated file with it")
def test_same_file_as_terraform(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for d in (ours, theirs):
        d.mkdir()
        (d / "main.tf").write_text(IMPORT_DATA)
    assert _plan(ours, "-generate-config-out=" + str(ours / "gen.tf"))[0] == 0
    env = {"PATH": shutil.os.environ["PATH"], "HOME": str(tmp_path), "TF_IN_AUTOMATION": "1"}
    for argv in (["init", "-input=false"], ["plan", "-input=false", "-generate-config-out=gen.tf"]):
        done = subprocess.run([TERRAFORM, *argv], cwd=theirs, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    assert (ours / "gen.tf").read_text() == (theirs / "gen.tf").read_text()
