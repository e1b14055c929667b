"""Built-in functions: results, unknown propagation and argument diagnostics."""

from __future__ import annotations

import hashlib
import warnings

import pytest

from reconciler.config.evaluator import EvalError, MapScope, evaluate
from reconciler.config.functions import BUILTINS, function_names
from reconciler.config.functions_spec import invoke
from reconciler.config.loader import parse_text
from reconciler.values import UNKNOWN, strip

SCOPE = {"var": {"u": UNKNOWN, "l": ["a", "b", "c"], "m": {"b": 2, "a": 1}}}


def ev(text: str):
    file, diags = parse_text(f"x = {text}\n", "f.tf")
    assert file is not None, diags
    return evaluate(file.body.attributes[0].expr, MapScope(SCOPE))


CASES = [
    # numeric
    ("abs(-3)", 3),
    ("abs(2.5)", 2.5),
    ("ceil(1.2)", 2),
    ("floor(-1.2)", -2),
    ("max(1, 7, 3)", 7),
    ("min(4, -1)", -1),
    ("max([3, 9]...)", 9),
    ("signum(-4)", -1),
    ("pow(2, 10)", 1024),
    ("pow(4, 0.5)", 2),
    ("log(8, 2)", 3),
    ('parseint("ff", 16)', 255),
    ("sum([1, 2.5])", 3.5),
    # strings
    ('lower("AbC")', "abc"),
    ('upper("kv")', "KV"),
    ('title("key vault")', "Key Vault"),
    ('title("hELLO wORLD")', "HELLO WORLD"),
    ('title("key-vault_name it\'s")', "Key-Vault_name It'S"),
    ('trimspace("  x \\n")', "x"),
    ('trim("?!hi!?", "!?")', "hi"),
    ('trimprefix("rg-main", "rg-")', "main"),
    ('trimsuffix("kv.vault", ".vault")', "kv"),
    ('replace("a.b.c", ".", "-")', "a-b-c"),
    ('replace("kv-001", "/[0-9]+/", "N")', "kv-N"),
    ('replace("key-3", "/(?P<n>\\\\d)/", "<$${n}>")', "key-<3>"),
    ('join(", ", ["a", 1, true])', "a, 1, true"),
    ('join("-", ["a"], ["b"])', "a-b"),
    ('split(",", "a,b,,c")', ["a", "b", "", "c"]),
    ('split(",", "")', [""]),
    ('substr("hello", 1, 3)', "ell"),
    ('substr("hello", -3, -1)', "llo"),
    ('regex("[a-z]+", "123abc456")', "abc"),
    ('regex("(\\\\d+)-(\\\\d+)", "v12-34")', ["12", "34"]),
    ('regex("(?P<major>\\\\d+)\\\\.(?P<minor>\\\\d+)", "1.2")', {"major": "1", "minor": "2"}),
    ('regexall("\\\\d", "a1b2")', ["1", "2"]),
    ('startswith("azurerm_kv", "azurerm_")', True),
    ('endswith("a.tf", ".json")', False),
    ('strrev("abc")', "cba"),
    ('chomp("x\\n\\n")', "x"),
    ('strcontains("vault", "ul")', True),
    ('indent(2, "a\\nb")', "a\n  b"),
    # format
    ('format("%s-%03d", "kv", 7)', "kv-007"),
    ('format("%.2f", 3.14159)', "3.14"),
    ('format("%q", "x")', '"x"'),
    ('format("%v|%v", [1], true)', "[1]|true"),
    ('format("%5s|%-5s|", "ab", "cd")', "   ab|cd   |"),
    ('format("100%%")', "100%"),
    ('format("%[2]s %[1]s", "a", "b")', "b a"),
    ('format("%x %t %e", 255, false, 1500)', "ff false 1.500000e+03"),
    ('format("%d", "12")', "12"),
    ('format("%+d", 5)', "+5"),
    ('formatlist("%s=%s", ["a", "b"], "x")', ["a=x", "b=x"]),
    # collections
    ('coalesce(null, "", "kv")', "kv"),
    ('coalesce(1, "x")', "1"),
    ("coalesce(null, 2)", 2),
    ("coalescelist([], [1])", [1]),
    ("concat([1], [2, 3])", [1, 2, 3]),
    ('contains(["a"], "a")', True),
    ('contains([1], "1")', False),
    ("distinct([1, 2, 1])", [1, 2]),
    ('element(["a", "b"], 3)', "b"),
    ('element(["a", "b", "c"], -1)', "c"),
    ("flatten([[1, [2]], [], 3])", [1, 2, 3]),
    ("keys(var.m)", ["a", "b"]),
    ("values(var.m)", [1, 2]),
    ('length("héllo")', 5),
    ("length(var.m)", 2),
    ("length(var.l)", 3),
    ('lookup(var.m, "a", 0)', 1),
    ('lookup(var.m, "z", 0)', 0),
    ("merge({a = 1}, null, {a = 2, b = 3})", {"a": 2, "b": 3}),
    ("range(3)", [0, 1, 2]),
    ("range(1, 4)", [1, 2, 3]),
    ("range(5, 0, -2)", [5, 3, 1]),
    ("range(-3)", [0, -1, -2]),
    ("range(3, 1)", [3, 2]),
    ("range(0, 1, 0.5)", [0, 0.5]),
    ("reverse([1, 2])", [2, 1]),
    ("slice(var.l, 1, 3)", ["b", "c"]),
    ('sort(["b", "a", "10", "9"])', ["10", "9", "a", "b"]),
    ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}),
    ("one([])", None),
    ("one([5])", 5),
    ('compact(["a", "", null])', ["a"]),
    ('index(["a", "b"], "b")', 1),
    ('setunion(["b"], ["a", "b"])', ["a", "b"]),
    ("setintersection([1, 2], [2, 3])", [2]),
    ("setsubtract([1, 2, 3], [2])", [1, 3]),
    ("chunklist([1, 2, 3], 2)", [[1, 2], [3]]),
    ('alltrue([true, "true"])', True),
    ("anytrue([])", False),
    # conversion
    ("tostring(1.0)", "1"),
    ("tostring(true)", "true"),
    ("tostring(null)", None),
    ('tonumber("2.5")', 2.5),
    ('tobool("false")', False),
    ('tolist([1, "a"])', ["1", "a"]),
    ('toset(["b", "a", "b"])', ["a", "b"]),
    ('tomap({a = 1, b = "x"})', {"a": "1", "b": "x"}),
    # encoding and hashing
    ('jsonencode({b = [1, true, null], a = "<x>"})', '{"a":"\\u003cx\\u003e","b":[1,true,null]}'),
    ('jsondecode("{\\"a\\": [1, 2.0, 2.5]}")', {"a": [1, 2, 2.5]}),
    ('base64encode("kv")', "a3Y="),
    ('base64decode("a3Y=")', "kv"),
    ('sha256("abc")', hashlib.sha256(b"abc").hexdigest()),
    ('sha1("abc")', hashlib.sha1(b"abc").hexdigest()),
    ('md5("abc")', hashlib.md5(b"abc").hexdigest()),
    ('urlencode("a b&c")', "a+b%26c"),
    ('cidrsubnet("10.0.0.0/16", 8, 2)', "10.0.2.0/24"),
    ('cidrhost("10.0.0.0/24", 5)', "10.0.0.5"),
    ('cidrhost("10.0.0.0/24", -1)', "10.0.0.255"),
    ('uuidv5("dns", "example.com")', "cfbff0d1-9375-5685-968c-48ce8b15ae17"),
    # time
    ('timeadd("2026-01-01T00:00:00Z", "8760h")', "2027-01-01T00:00:00Z"),
    ('timeadd("2026-03-01T10:00:00+01:00", "-1h30m")', "2026-03-01T08:30:00+01:00"),
    ('timecmp("2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00")', 0),
    ('formatdate("DD MMM YYYY hh:mm ZZZ", "2026-02-03T04:05:06Z")', "03 Feb 2026 04:05 UTC"),
    ('formatdate("EEEE, h\'h\'mm AA", "2026-02-03T16:05:06Z")', "Tuesday, 16h05 PM"),
    # more collections
    ('setproduct(["a", "b"], [1, 2])', [["a", 1], ["a", 2], ["b", 1], ["b", 2]]),
    ('matchkeys(["i1", "i2"], ["eu", "us"], ["us"])', ["i2"]),
    ('transpose({a = ["1", "2"], b = ["2"]})', {"1": ["a"], "2": ["a", "b"]}),
    # paths
    ('basename("keys/policy.json")', "policy.json"),
    ('basename("dir/")', "dir"),
    ('dirname("a/b/c.txt")', "a/b"),
    ('dirname("a/")', "a"),
    ('dirname("c.txt")', "."),
    ('nonsensitive(sensitive("s"))', "s"),
    ("nonsensitive([1])", [1]),
    ('cidrnetmask("10.0.0.0/12")', "255.240.0.0"),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[c[0] for c in CASES])
def test_function_results(text, expected):
    value = ev(text)
    assert value == expected
    assert type(value) is type(expected) or (
        isinstance(value, (int, float)) and isinstance(expected, (int, float)) and not isinstance(value, bool)
    )


@pytest.fixture
def no_plan_running():
    """plantimestamp() is the running plan's clock: with no plan (an earlier test's plan in this
    process set it), it is unknown."""
    from reconciler.config.functions_time import set_plan_timestamp

    set_plan_timestamp(None)
    yield


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_function_is_unknown_when_its_arguments_are(name, no_plan_running):
    fs = BUILTINS[name]
    args = [UNKNOWN] * max(len(fs.params), 1 if fs.variadic else 0)
    assert strip(invoke(fs, args)) is UNKNOWN  # sensitive(unknown) is an unknown marked sensitive


PARTLY_KNOWN = [
    ("length([var.u, 1])", 2),
    ("keys({a = var.u})", ["a"]),
    ("concat([var.u], [1])", [UNKNOWN, 1]),
    ("reverse([var.u, 1])", [1, UNKNOWN]),
    ("element([var.u, 1], 1)", 1),
    ("one([var.u])", UNKNOWN),
    ("merge({a = var.u}, {b = 1})", {"a": UNKNOWN, "b": 1}),
    ('coalesce("x", var.u)', "x"),
    ("coalesce(null, var.u)", UNKNOWN),
    ("contains([var.u], 1)", UNKNOWN),
    ('join(",", [var.u])', UNKNOWN),
    ('sort(["a", var.u])', UNKNOWN),
    ("toset([var.u])", UNKNOWN),
    ("flatten([[1], var.u])", UNKNOWN),
    ("lookup({a = 1}, var.u, 0)", UNKNOWN),
    ('format("%s", [var.u])', UNKNOWN),
]


@pytest.mark.parametrize("text,expected", PARTLY_KNOWN, ids=[c[0] for c in PARTLY_KNOWN])
def test_answers_that_do_not_depend_on_unknown_elements_stay_known(text, expected):
    assert ev(text) == expected


ERRORS = [
    ("element([], 0)", "empty list"),
    ("one([1, 2])", "zero or one elements"),
    ("range(2000)", "more than 1024"),
    ("range(1, 0, 1)", "toward limit"),
    ("slice([1], 0, 5)", "end_index <= 1"),
    ('zipmap(["a"], [])', "same length"),
    ('lookup({}, "k")', "no default"),
    ("index([1], 2)", "not found"),
    ('format("%d")', "too few arguments"),
    ('format("%d", 1.5)', "whole number"),
    ('format("%y", 1)', "unsupported format verb"),
    ('formatlist("%s%s", [1], [1, 2])', "same length"),
    ('jsondecode("{")', "invalid JSON"),
    ('base64decode("@@")', "not valid base64"),
    ('cidrsubnet("10.0.0.0/30", 4, 0)', "beyond /32"),
    ('cidrsubnet("nope", 1, 0)', "invalid CIDR"),
    ('regex("(", "x")', "invalid regexp pattern: missing closing ) in ("),
    ('tonumber("ten")', "not a number"),
    ('tobool("yes")', "neither"),
    ("tostring([1])", "primitive"),
    ("tolist({a = 1})", "to a list"),
    ('parseint("12", 40)', "between 2 and 36"),
    ("sum([])", "empty list"),
    ("max()", "at least one number"),
    ('coalesce(null, "")', "no non-null"),
    ("log(-1, 2)", "positive"),
    ('format("%099999d", 1)', "limited to 1000"),
    ('indent(99999999, "a")', "0 to 1000"),
    ("length(5)", "not a number"),
    ("chunklist([1], -1)", "negative"),
    ("toset([1, {a = 1}])", "same type"),
    ('timeadd("2026-01-01", "1h")', "RFC 3339"),
    ('timeadd("2026-01-01T00:00:00Z", "1 day")', "not a duration"),
    ('formatdate("YYYY-QQ", "2026-01-01T00:00:00Z")', "invalid date format sequence"),
]


@pytest.mark.parametrize("text,fragment", ERRORS, ids=[c[0] for c in ERRORS])
def test_function_errors_name_the_function(text, fragment):
    with pytest.raises(EvalError) as info:
        ev(text)
    diag = info.value.diagnostic
    name = text.split("(", 1)[0]
    assert f'"{name}"' in diag.detail
    assert fragment in diag.detail
    assert diag.range is not None and diag.range.file == "f.tf"


def test_argument_errors_point_at_the_argument():
    with pytest.raises(EvalError) as info:
        ev('join(",",\n  "not a list")')
    assert info.value.diagnostic.range.line == 2
    assert '"list" parameter' in info.value.diagnostic.detail


def test_unknown_function_suggests_close_names():
    with pytest.raises(EvalError) as info:
        ev("setunon(1)")
    assert 'Did you mean "setunion"?' in info.value.diagnostic.detail


def test_unknown_function_lists_several_close_names():
    with pytest.raises(EvalError) as info:
        ev("jsondecod(1)")
    assert 'Did you mean one of "jsondecode", "jsonencode"' in info.value.diagnostic.detail


def test_impure_functions_are_unknown_at_plan_time():
    assert ev("uuid()") is UNKNOWN and ev("timestamp()") is UNKNOWN


def test_the_table_holds_what_the_language_promises():
    required = """abs ceil floor max min lower upper title trimspace trim trimprefix trimsuffix replace
        format formatlist join split substr regex regexall startswith endswith can try coalesce
        coalescelist concat contains distinct element flatten keys values length lookup merge range
        reverse slice sort toset tolist tomap tostring tonumber tobool zipmap one compact index setunion
        setintersection chunklist jsonencode jsondecode base64encode base64decode sha256 sha1 md5 uuid
        timestamp cidrsubnet""".split()
    assert set(required) <= set(function_names())


def test_file_functions_read_relative_to_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "policy.json").write_text('{"a": 1}')
    (tmp_path / "blob.bin").write_bytes(b"\xff\x00")
    monkeypatch.chdir(tmp_path)
    assert ev('jsondecode(file("policy.json"))') == {"a": 1}
    assert ev('fileexists("policy.json")') is True and ev('fileexists("nope.json")') is False
    assert ev('filebase64("blob.bin")') == "/wA="
    assert ev('filesha256("policy.json")') == hashlib.sha256(b'{"a": 1}').hexdigest()
    with pytest.raises(EvalError) as info:
        ev('file("missing.txt")')
    assert 'no file exists at "missing.txt"' in info.value.diagnostic.detail
    with pytest.raises(EvalError) as info:
        ev('file("blob.bin")')
    assert "not UTF-8" in info.value.diagnostic.detail


# regex, regexall and replace: RE2 syntax with Go's semantics, as terraform 1.11 runs them
RE2_CASES = [
    ('regex("^[[:alnum:]-]+$", "my-app")', "my-app"),
    ('can(regex("^[0-9]+$", "42\\n"))', False),  # "$" is the end of the text, not before "\n"
    ('regex("\\\\pL+", "héllo1")', "héllo"),
    ('regex("\\\\Qa.b\\\\E", "xa.by")', "a.b"),
    ('regex("\\\\d+", "٣12")', "12"),  # \d is ASCII
    ('regex("(?U)a+", "aaa")', "a"),
    ('regex("(?<n>a)", "a")', {"n": "a"}),
    ('regex("(?P<a>x)(?P<a>y)", "xy")', {"a": "y"}),
    ('regex("(a)|(b)", "b")', [None, "b"]),
    ('can(regex("(?=a)", "a"))', False),
    ('can(regex("(a)\\\\1", "aa"))', False),
    ('can(regex("\\\\C", "a"))', False),
    ('regexall("a*", "baaac")', ["", "aaa", ""]),  # no empty match right after a match
    ('replace("aaa", "/a*?/", "x")', "xaxaxax"),
    ('replace("aaa", "/a*/", "x")', "x"),
    ('replace("héllo", "/l*/", "-")', "-h-é-o-"),
    ('replace("abc", "/(b)/", "$1x")', "ac"),  # "$1x" names a group "1x"
    ('replace("abc", "/(b)/", "$${1}x")', "abxc"),
]


@pytest.mark.parametrize("text,expected", RE2_CASES, ids=[c[0] for c in RE2_CASES])
def test_regular_expressions_follow_re2_and_go(text, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing of the engine may reach the user
        assert ev(text) == expected


@pytest.mark.parametrize(
    "text,summary,detail",
    [
        (
            'regex("(?=a)", "a")',
            "Invalid function argument",
            'Invalid value for "pattern" parameter: invalid regexp pattern: '
            "invalid or unsupported Perl syntax in (?=.",
        ),
        (
            'regexall("(?P<x>a)(b)", "ab")',
            "Invalid function argument",
            "invalid regexp pattern: cannot mix both named and unnamed capture groups.",
        ),
        (
            'regex("\\\\C", "a")',
            "Invalid function argument",
            "invalid regexp pattern: invalid escape sequence in \\C.",
        ),
        (
            'replace("abc", "/(b/", "x")',
            "Error in function call",
            "error parsing regexp: missing closing ): `(b`.",
        ),
    ],
)
def test_bad_patterns_are_refused_with_gos_words_and_nothing_on_stderr(capfd, text, summary, detail):
    with pytest.raises(EvalError) as info:
        ev(text)
    assert info.value.diagnostic.summary == summary
    assert info.value.diagnostic.detail.endswith(detail)
    assert capfd.readouterr().err == ""  # RE2 logs its errors on stderr unless told not to


def test_templatefile_renders_with_only_its_variables(tmp_path, monkeypatch):
    (tmp_path / "policy.tpl").write_text(
        '{"vault": "${name}", "ops": [%{ for o in ops ~}"${o}",%{ endfor ~}]}'
    )
    (tmp_path / "lines.tpl").write_text("a=${a}\n")
    (tmp_path / "bad.tpl").write_text("ok\n${nope}\n")
    monkeypatch.chdir(tmp_path)
    assert (
        ev('templatefile("policy.tpl", { name = "kv", ops = ["wrapKey", "unwrapKey"] })')
        == '{"vault": "kv", "ops": ["wrapKey","unwrapKey",]}'
    )
    assert ev('templatefile("lines.tpl", { a = 1 })') == "a=1\n"
    with pytest.raises(EvalError) as info:
        ev('templatefile("bad.tpl", {})')
    assert "bad.tpl:2: Unknown variable" in info.value.diagnostic.detail


def test_templatefile_strip_markers_keep_the_next_lines_indentation(tmp_path, monkeypatch):
    # terraform 1.11: "~}" eats the rest of its own line only; "  - " stays indented
    (tmp_path / "list.tpl").write_text(
        "Hello ${name}!\n%{ for i, it in items ~}\n  - ${i}: ${upper(it)}\n%{ endfor ~}\n"
        "  %{~ if length(items) > 1 ~}\n  many\n  %{~ endif ~}\ndone\n"
    )
    monkeypatch.chdir(tmp_path)
    assert (
        ev('templatefile("list.tpl", { items = ["a", "b"], name = "x" })')
        == "Hello x!\n  - 0: A\n  - 1: B\n  many\ndone\n"
    )
