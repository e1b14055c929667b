"""The functions terraform 1.11 has beyond the basics: results the console test can't show
(plan-time behaviour, round trips) and their errors, each naming the function and the argument."""

from __future__ import annotations

import base64
import gzip
import hashlib

import pytest

from reconciler.config import functions_time
from reconciler.config.evaluator import EvalError, MapScope, evaluate
from reconciler.config.functions_spec import allow_impure_calls
from reconciler.config.loader import parse_text
from reconciler.values import UNKNOWN, Sensitive

SCOPE = {
    "var": {"u": UNKNOWN, "tpl": "Hi ${name}", "n": 5, "s": Sensitive("x")},
    "local": {"t": {"a": '${x}-${file("f")}'}},
}


def ev(text: str):
    file, diags = parse_text(f"x = {text}\n", "f.tf")
    assert file is not None, diags
    return evaluate(file.body.attributes[0].expr, MapScope(SCOPE))


@pytest.mark.parametrize(
    "text",
    [
        '"hello"',
        '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbb aaaaaaaaaa"',
        '""',
    ],
)
def test_base64gzip_is_a_gzip_of_the_text(text):
    plain = ev(text)
    assert gzip.decompress(base64.b64decode(ev(f"base64gzip({text})"))).decode() == plain


def test_file_hashes(tmp_path):
    f = tmp_path / "data.bin"
    f.write_bytes(b"\x00\x01binary")
    p = str(f).replace("\\", "/")
    assert ev(f'filesha1("{p}")') == hashlib.sha1(b"\x00\x01binary").hexdigest()
    assert ev(f'filesha512("{p}")') == hashlib.sha512(b"\x00\x01binary").hexdigest()
    digest = base64.b64encode(hashlib.sha256(b"\x00\x01binary").digest()).decode()
    assert ev(f'filebase64sha256("{p}")') == digest


def test_fileset_is_relative_sorted_and_skips_directories(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b" / "sub.txt").mkdir()  # a directory that matches the pattern
    p = str(tmp_path).replace("\\", "/")
    assert ev(f'fileset("{p}", "**/*.txt")') == ["a.txt", "b/z.txt"]
    assert ev(f'fileset("{p}", "*")') == ["a.txt"]
    assert ev(f'fileset("{p}", "b/*")') == ["b/z.txt"]


def test_plantimestamp_is_the_plans_time_and_unknown_without_a_plan():
    functions_time.set_plan_timestamp(None)
    assert ev("plantimestamp()") is UNKNOWN
    functions_time.set_plan_timestamp("2026-12-05T10:00:00Z")
    try:
        assert ev("plantimestamp()") == "2026-12-05T10:00:00Z"
        assert ev('timeadd(plantimestamp(), "1h")') == "2026-12-05T11:00:00Z"
    finally:
        functions_time.set_plan_timestamp(None)


def test_bcrypt_is_unknown_while_planning_and_computed_in_the_console():
    assert ev('bcrypt("x")') is UNKNOWN
    allow_impure_calls(True)
    try:
        assert ev('bcrypt("x", 4)').startswith("$2a$04$")
        for text, fragment in [
            ('bcrypt("x", 4, 5)', "no more than two arguments"),
            ('bcrypt("x", 40)', "(4,31)"),
        ]:
            with pytest.raises(EvalError) as info:
                ev(text)
            assert 'function "bcrypt"' in info.value.diagnostic.detail
            assert fragment in info.value.diagnostic.detail
    finally:
        allow_impure_calls(False)


def test_issensitive_and_ephemeralasnull_see_marks():
    assert ev("issensitive(var.s)") is True
    assert ev("issensitive(var.n)") is False
    assert ev("issensitive(var.u)") is UNKNOWN
    assert type(ev("ephemeralasnull(var.s)")) is Sensitive
    assert ev("ephemeralasnull(var.n)") == 5


def test_yamldecode_gives_terraform_types():
    assert ev('yamldecode("a: 1\\nb: 1.5\\nc: [x, yes, ~]\\nd: {e: f}")') == {
        "a": 1,
        "b": 1.5,
        "c": ["x", True, None],
        "d": {"e": "f"},
    }
    assert ev('yamlencode(yamldecode("k: [1, \\"2\\"]"))') == '"k":\n- 1\n- "2"\n'


def test_templatestring_renders_a_reference_with_its_vars():
    assert ev('templatestring(var.tpl, {name = "Ann"})') == "Hi Ann"
    assert ev("templatestring(var.u, {})") is UNKNOWN


ERRORS = [
    ("base64sha512({a = 1})", "string"),
    ('cidrsubnets("10.0.0.0/30", 1, 1, 1)', "not enough remaining address space"),
    ('cidrsubnets("10.0.0.0/16", 0)', "at least one bit"),
    ('cidrsubnets("10.0.0.0/16", 33)', "more than 32 bits"),
    ('cidrsubnets("10.0.0.0/24", 9)', "too long for an IPv4 address"),
    ('cidrsubnets("nope", 1)', "invalid CIDR"),
    ('csvdecode("a,b\\n1")', "wrong number of fields"),
    ('csvdecode("")', "missing header line"),
    ('csvdecode(["a"])', "string"),
    ('filesha1("/no/such/file")', "no file exists"),
    ('filebase64sha512(["x"])', "string"),
    ('fileset(".", "[")', "syntax error in pattern"),
    ('rsadecrypt("!!", "key")', "base64"),
    ('rsadecrypt("aGVsbG8=", "not a key")', "invalid private key"),
    ('textencodebase64("x", "no-such-charset")', "IANA encoding"),
    ('textencodebase64("✓", "ISO-8859-1")', "cannot be represented"),
    ('textencodebase64("x", "base64")', "IANA encoding"),
    ('textdecodebase64("!", "UTF-8")', "invalid base64 symbol at offset 0"),
    ('yamldecode("a: [")', "on line"),
    ('yamldecode("a: 1\\n---\\nb: 2")', "unexpected extra content after value"),
    ('yamldecode("a: .nan")', "NaN is not supported"),
    ('yamldecode("? [a]\\n: b")', "only strings are allowed as mapping keys"),
    ('yamldecode("a: !!int x")', "cannot parse"),
    ("yamlencode(var.u)", None),
    ('templatestring("x${1}", {})', "to render an inline template"),
    ('templatestring("literal", {})', "does not support providing a literal template"),
    ('templatestring("${var.tpl}", {})', "without any template interpolation syntax"),
    ("templatestring(upper(var.tpl), {})", "must be a direct reference"),
    ("templatestring(var.n, {})", "a string is required"),
    ("templatestring(var.tpl, 1)", "must be a map"),
    ("templatestring(var.tpl, {})", "name"),
    ('templatestring(local.t["a"], {x = 1})', "filesystem access functions like file"),
    ('templatestring(var.tpl, {"bad name" = 1})', "invalid template variable name"),
    ("templatestring(var.tpl)", "expects 2 argument(s)"),
]


@pytest.mark.parametrize("text,fragment", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_name_the_function(text, fragment):
    if fragment is None:  # unknown arguments make an unknown result, not an error
        assert ev(text) is UNKNOWN
        return
    with pytest.raises(EvalError) as info:
        ev(text)
    diag = info.value.diagnostic
    name = text.split("(", 1)[0]
    assert f'"{name}"' in diag.detail, diag.detail
    assert fragment in diag.detail, diag.detail
    assert diag.range is not None and diag.range.file == "f.tf"
