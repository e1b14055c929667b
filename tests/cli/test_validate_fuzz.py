"""Damaged configurations never crash `vaultform validate`.

Each case takes a valid configuration, breaks it in a way that is always an error
(truncated inside a block, a brace or quote removed, stray bytes, absurd numbers,
absurd nesting), and checks: exit code 1, at least one diagnostic with a file and a
line, and no traceback or internal error.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli.main import main
from reconciler.cli.output import Output

SEED = Path(__file__).parent.parent.parent / "examples" / "quickstart"
TEXT = (SEED / "main.tf").read_text()
FIRST_RESOURCE = TEXT.index('resource "azurerm_resource_group"')
FIRST_OPEN = TEXT.index("{", FIRST_RESOURCE)
FIRST_CLOSE = TEXT.index("\n}", FIRST_OPEN) + 1
LINE_STARTS = [m.end() for m in re.finditer(r"\n", TEXT) if m.end() < len(TEXT)]
BRACES = [i for i, c in enumerate(TEXT) if c in "{}"]
QUOTES = [i for i, c in enumerate(TEXT) if c == '"']
CONSTRAINED_NUMBERS = ["soft_delete_retention_days = 90", "key_size     = 3072"]


def truncate_inside_block(data):
    cut = data.draw(st.integers(FIRST_OPEN + 1, FIRST_CLOSE - 1))
    return TEXT[:cut].encode()


def drop_brace(data):
    i = data.draw(st.sampled_from(BRACES))
    return (TEXT[:i] + TEXT[i + 1 :]).encode()


def drop_quote(data):
    i = data.draw(st.sampled_from(QUOTES))
    return (TEXT[:i] + TEXT[i + 1 :]).encode()


def stray_bytes(data):
    i = data.draw(st.sampled_from(LINE_STARTS))
    junk = data.draw(st.sampled_from([b"\x00", b"\xff\xfe", b"@", b"$$$(", b"\x80\x81", b"}}"]))
    tail = data.draw(st.binary(max_size=8))
    return TEXT[:i].encode() + junk + tail + TEXT[i:].encode()


def huge_number(data):
    target = data.draw(st.sampled_from(CONSTRAINED_NUMBERS))
    digits = data.draw(st.integers(20, 400))
    exponent = data.draw(st.sampled_from(["", "e999", ".5e308"]))
    name = target.split("=")[0]
    return TEXT.replace(target, f"{name}= {'9' * digits}{exponent}").encode()


def deep_nesting(data):
    depth = data.draw(st.integers(50, 5000))
    return TEXT.replace(
        'sku_name                   = "premium"', "sku_name = " + "[" * depth + "]" * depth
    ).encode()


DAMAGE = [truncate_inside_block, drop_brace, drop_quote, stray_bytes, huge_number, deep_nesting]


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_damaged_configuration_is_reported_not_crashed(tmp_path_factory, data):
    damage = data.draw(st.sampled_from(DAMAGE))
    broken = damage(data)
    work = tmp_path_factory.mktemp("fuzz")
    shutil.copy(SEED / "variables.tf", work / "variables.tf")
    (work / "main.tf").write_bytes(broken)
    out, err = io.StringIO(), io.StringIO()
    code = main(["validate", str(work), "-json"], output=Output(out=out, err=err))
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text and "internal error" not in text, text[-2000:]
    assert code == 1, f"{damage.__name__}: exit {code}\n{text[-2000:]}"
    doc = json.loads(out.getvalue())
    placed = [
        d
        for d in doc["diagnostics"]
        if d.get("range", {}).get("filename") and d["range"]["start"]["line"] >= 1
    ]
    assert placed, f"{damage.__name__}: no diagnostic with a file and line: {doc['diagnostics']}"
