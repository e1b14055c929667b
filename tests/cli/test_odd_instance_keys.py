"""Instance keys with any characters round-trip through plan, apply, state, -target and graph.

The fixture's for_each keys hold "#", quotes, dots, brackets, spaces and non-ASCII, and
instances depend on each other across them.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.format import decode_state

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "addresses" / "odd_keys"
KEYS = ["a#b", 'say "hi"', "x.y", "[0]", "two words", "grüße", "end]"]


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), output=Output(out=out, err=out))
    return code, out.getvalue()


def address(resource: str, key: str) -> str:
    return f"terraform_data.{resource}[{json.dumps(key, ensure_ascii=False)}]"


def applied(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "cfg")
    cfg = tmp_path / "cfg"
    code, text = run("apply", "-auto-approve", str(cfg))
    assert code == 0, text
    assert "Resources: 15 added, 0 changed, 0 destroyed." in text
    return cfg


def test_odd_keys_apply_then_plan_no_changes(tmp_path):
    cfg = applied(tmp_path)
    code, text = run("plan", "-detailed-exitcode", str(cfg))
    assert code == 0, text
    assert "No changes." in text
    text = (cfg / "vaultform.tfstate").read_text()
    # the file names resources as terraform does; the exact instances read back, odd keys and all
    written = {
        tuple(i.get("dependencies", [])) for r in json.loads(text)["resources"] for i in r["instances"]
    }
    assert written == {(), ("terraform_data.first",), ("terraform_data.second",)}
    recorded = {str(a): inst for a, _, inst in decode_state(text).instances()}
    for key in KEYS:
        second = recorded[address("second", key)]
        assert address("first", key) in [str(d) for d in second.dependencies]
    assert sorted(str(d) for d in recorded["terraform_data.last"].dependencies) == sorted(
        address("second", k) for k in KEYS
    )


def test_odd_keys_target_one_instance(tmp_path):
    cfg = applied(tmp_path)
    main_tf = cfg / "main.tf"
    main_tf.write_text(main_tf.read_text().replace("input    = each.key", 'input    = "${each.key}!"'))
    target = address("first", "a#b")
    code, text = run("apply", "-auto-approve", f"-target={target}", str(cfg))
    assert code == 0, text
    assert "Resources: 0 added, 1 changed, 0 destroyed." in text
    assert f"{target}: Modifications complete" in text
    doc = json.loads((cfg / "vaultform.tfstate").read_text())
    first = next(r for r in doc["resources"] if r["name"] == "first")
    inputs = {i["index_key"]: i["attributes"]["input"]["value"] for i in first["instances"]}
    assert inputs["a#b"] == "a#b!"
    assert all(inputs[k] == k for k in KEYS if k != "a#b")


def test_odd_keys_graph_draws_every_instance(tmp_path):
    cfg = applied(tmp_path)
    code, text = run("graph", str(cfg))
    assert code == 0, text
    for key in KEYS:
        assert f"{address('second', key)} [no change]" in text
        assert f"    after {address('first', key)}" in text

    code, dot = run("graph", "-format", "dot", str(cfg))
    assert code == 0, dot
    for key in KEYS:
        quoted = '"' + address("first", key).replace("\\", "\\\\").replace('"', '\\"') + '"'
        assert f"  {quoted} [label = " in dot

    code, mermaid = run("graph", "-format", "mermaid", str(cfg))
    assert code == 0, mermaid
    declared = [line.split("[", 1)[0].strip() for line in mermaid.splitlines()[1:] if '["' in line]
    assert len(declared) == 15 and len(set(declared)) == 15  # one distinct id per instance
    assert "terraform_data.first[#quot;a#35;b#quot;] [no change]" in mermaid


def test_odd_keys_through_a_saved_plan(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "cfg")
    cfg, planfile = tmp_path / "cfg", tmp_path / "odd.plan"
    code, text = run("plan", "-out", str(planfile), str(cfg))
    assert code == 0, text
    code, text = run("apply", str(planfile))
    assert code == 0, text
    assert "Resources: 15 added, 0 changed, 0 destroyed." in text
    code, text = run("plan", "-detailed-exitcode", str(cfg))
    assert code == 0, text
