"""Damaged configurations always give an error diagnostic with a place, never a traceback.

Each damage below is built so the result is certainly invalid (a truncation
inside a block leaves a "{" open, a removed quote leaves a string open, ...),
so "at least one error" is a fair expectation for every example.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config.directory import load_directory
from reconciler.config.loader import parse_text

SEEDS = [
    """resource "azurerm_key_vault" "kv" {
  name                = "kv-backup"
  location            = var.location
  tags                = merge(local.tags, { role = "cmk" })
  key_opts            = [for o in var.opts : upper(o) if o != ""]
  network_acls {
    default_action = "Deny"
  }
}
""",
    """locals {
  names  = { for k, v in var.map : k => v.name... }
  banner = "%{ if var.on }on%{ else }off%{ endif } ${var.env}"
  script = <<-EOT
    echo ${var.x}
  EOT
}
""",
    """variable "env" {
  type    = string
  default = "dev"
  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "env must be dev or prod."
  }
}

output "ids" {
  value = azurerm_key_vault.kv[*].id
}
""",
]

FILENAME = "fuzz.tf"


def _brace_spans(text: str) -> list[tuple[int, int]]:
    """(open, close) offsets of every block/object brace pair in a seed (seeds have no braces in strings
    except ``${``/``%{`` sequences, which are skipped)."""
    spans, stack = [], []
    for i, c in enumerate(text):
        if c == "{" and (i == 0 or text[i - 1] not in "$%"):
            stack.append(i)
        elif c == "{":
            stack.append(-1)
        elif c == "}":
            start = stack.pop()
            if start >= 0:
                spans.append((start, i))
    return spans


@st.composite
def truncated(draw):
    seed = draw(st.sampled_from(SEEDS))
    start, end = draw(st.sampled_from([s for s in _brace_spans(seed) if s[1] - s[0] > 1]))
    cut = draw(st.integers(start + 1, end))
    return seed[:cut]


@st.composite
def brace_removed(draw):
    seed = draw(st.sampled_from(SEEDS))
    start, end = draw(st.sampled_from(_brace_spans(seed)))
    which = draw(st.sampled_from([start, end]))
    return seed[:which] + seed[which + 1 :]


@st.composite
def quote_removed(draw):
    lines = list(draw(st.sampled_from([s.split("\n") for s in SEEDS if '"dev"' in s or '"kv-backup"' in s])))
    candidates = [n for n, line in enumerate(lines) if line.count('"') == 2 and "${" not in line]
    n = draw(st.sampled_from(candidates))
    positions = [i for i, c in enumerate(lines[n]) if c == '"']
    drop = draw(st.sampled_from(positions))
    lines[n] = lines[n][:drop] + lines[n][drop + 1 :]
    return "\n".join(lines)


@st.composite
def garbage_line(draw):
    seed = draw(st.sampled_from(SEEDS))
    head = draw(st.sampled_from(list("@)]}=,*/?:;!&|^`'\\<>")))
    tail = draw(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"), max_size=30
        )
    )
    if head == "/":
        tail = tail.lstrip("/")  # "//" would start a comment: valid text, not garbage
    at = draw(st.sampled_from([0, len(seed)]))
    return seed[:at] + head + tail + "\n" + seed[at:]


@st.composite
def huge_number(draw):
    digits = draw(st.integers(4301, 20000))
    form = draw(st.sampled_from(["int", "exp", "neg"]))
    value = {"int": "7" * digits, "neg": "-" + "3" * digits, "exp": f"1e{digits}"}[form]
    seed = draw(st.sampled_from(SEEDS))
    return seed + f"\nlocals {{\n  big = {value}\n}}\n"


@st.composite
def deep_nesting(draw):
    depth = draw(st.integers(300, 5000))
    opener = draw(st.sampled_from(["[", "(", "{ a = "]))
    closed = draw(st.booleans())
    closer = {"[": "]", "(": ")", "{ a = ": "}"}[opener]
    body = opener * depth + ("1" + closer * depth if closed else "")
    return f"locals {{\n  deep = {body}\n}}\n"


@st.composite
def nul_inserted(draw):
    seed = draw(st.sampled_from(SEEDS))
    at = draw(st.integers(0, len(seed)))
    noise = draw(st.binary(max_size=8)).decode("latin-1")
    return seed[:at] + "\x00" + noise + seed[at:]


DAMAGED = st.one_of(
    truncated(),
    brace_removed(),
    quote_removed(),
    garbage_line(),
    huge_number(),
    deep_nesting(),
    nul_inserted(),
)


def _assert_located_error(diags, text: str) -> None:
    errors = [d for d in diags if d.is_error]
    assert errors, f"no error for {text[:200]!r}"
    for d in errors:
        assert d.range is not None and d.range.file.endswith(FILENAME)
        assert 1 <= d.range.line <= text.count("\n") + 2
        assert d.summary and "\n" not in d.summary and len(d.summary) < 200


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DAMAGED)
def test_damaged_text_gives_a_located_error(text):
    node, diags = parse_text(text, FILENAME)
    assert node is None or any(d.is_error for d in diags)
    _assert_located_error(diags, text)


@st.composite
def damaged_bytes(draw):
    text = draw(DAMAGED).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xe2\x82", b"\x80abc"])) + text[at:]
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_bytes())
def test_damaged_files_through_load_directory(data):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / FILENAME).write_bytes(data)
        (Path(tmp) / "ok.tf").write_text(SEEDS[0])
        files, diags = load_directory(tmp, cache=True)
        assert [Path(f.path).name for f in files] == ["ok.tf"]
        _assert_located_error(diags, data.decode("utf-8", "replace"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(text):
    node, diags = parse_text(text, FILENAME)
    assert node is not None or any(d.is_error for d in diags)
    for d in diags:
        assert d.range is not None and d.range.line >= 1
