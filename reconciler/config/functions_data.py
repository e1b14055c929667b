"""Data formats: yamlencode, yamldecode and csvdecode.

YAML is terraform's go-cty-yaml (github.com/zclconf/go-cty-yaml), a port of libyaml, so the text
is made by libyaml's emitter through PyYAML from the same events go-cty-yaml emits: every string
double-quoted (a string of several lines as a ``|`` literal block), numbers in plain decimal,
``null``/``true``/``false``, block sequences and mappings with keys sorted, an empty one as ``[]``
or ``{}``. Decoding reads PyYAML's events and resolves plain scalars with go-cty-yaml's rules
(resolve.go): ``yes``/``on``/``y`` are true, ``0x1F`` and ``0o17`` numbers, a date or date-time an
RFC 3339 string; a mapping becomes an object (keys converted to strings), a sequence a tuple.

``csvdecode`` is go-cty's: the first line names the columns, every row must have as many fields,
and the result is a list of objects of strings.
"""

from __future__ import annotations

import csv
import io

from reconciler.config.functions_spec import FunctionError, Param, ParamType, spec, table


@spec("yamlencode", Param("value", ParamType.ANY, nullable=True))
def _yamlencode(value):
    from reconciler.config.yaml_format import encode  # lazy: start-up (PyYAML)

    return encode(value)


@spec("yamldecode", Param("src", ParamType.STRING))
def _yamldecode(src):
    from reconciler.config.yaml_format import decode  # lazy: start-up (PyYAML)

    return decode(src)


# --------------------------------------------------------------------------- csvdecode


@spec("csvdecode", Param("str", ParamType.STRING))
def _csvdecode(text):
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = None
        result: list[dict[str, str]] = []
        for row in rows:
            if not row:
                continue  # Go's encoding/csv skips empty lines
            if header is None:
                header = row
                continue
            if len(row) != len(header):
                raise FunctionError(f"CSV parse error on line {rows.line_num}: wrong number of fields")
            result.append(dict(zip(header, row, strict=True)))
    except csv.Error as exc:
        raise FunctionError(f"CSV parse error on line {rows.line_num}: {exc}") from None
    if header is None:
        raise FunctionError("missing header line")
    return result


FUNCTIONS = table(_yamlencode, _yamldecode, _csvdecode)
