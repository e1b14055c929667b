"""Configuration written for imported objects: ``plan -generate-config-out=PATH``.

Terraform's rules (internal/genconfig/generate_config.go, ExtractLegacyConfigFromState and
writeConfigAttributesFromExisting; the file's text in generate_config_write.go):

- attributes in name order, then nested blocks in name order, each block element as a block;
- computed-only attributes, deprecated ones and an optional+computed ``id`` are left out, and so
  is an optional+computed attribute whose value is null or "" (the provider fills it in);
- an optional attribute that is null or "" is written ``name = null``, as terraform writes it;
- a sensitive attribute is written ``name = null # sensitive``: its value never reaches the file;
- a string that holds a JSON object or array is written ``jsonencode(...)``;
- the file starts with terraform's two header comments and each block with
  ``# __generated__ by Terraform from "ID"``, and the whole text is what ``fmt`` makes of it.

Pure functions: no reading, no writing; ``reconciler.importing`` reads the objects and the plan
command writes the file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from typing import Any

from providers.schema import Attribute, BlockSchema, Nesting
from reconciler.diagnostics import Diagnostic, DiagnosticsError, error, warning

FILE_HEADER = (
    "# __generated__ by Terraform\n"
    "# Please review these resources and move them into your main configuration files.\n"
)

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def resource_block(
    type_name: str, name: str, block: BlockSchema, state: dict[str, Any], provider: str | None = None
) -> str:
    """``resource "TYPE" "NAME" { ... }`` for an object as its provider read it."""
    lines = [f'resource "{type_name}" "{name}" {{']
    if provider:
        lines.append(f"provider = {provider}")
    lines.extend(_body(block, state))
    lines.append("}")
    from reconciler.fmt import format_source  # the formatter is loaded only to write a block

    return format_source("\n".join(lines) + "\n")


def file_text(blocks: list[tuple[str, str]]) -> str:
    """The generated file: terraform's header, then each (import id, resource block) under its comment."""
    parts = [FILE_HEADER]
    for import_id, text in blocks:
        comment = "# __generated__ by Terraform" + (f" from {_quoted(import_id)}" if import_id else "")
        parts.append(f"\n{comment}\n{text}")
    from reconciler.fmt import format_source

    return format_source("".join(parts))


def check_target(path: str) -> Diagnostic | None:
    """Terraform's refusal of a target that exists (genconfig.ValidateTargetFile): only a new file."""
    if os.path.lexists(path):
        return error(
            "generate_config_exists",
            "Target generated file already exists",
            "vaultform can only write generated config into a new file. Either choose a different "
            "target location or move all existing configuration out of the target file, delete it "
            "and try again.",
        )
    return None


def write(path: str, text: str) -> None:
    """Create ``path`` with ``text``, never over an existing file; a diagnostic when it can't."""
    try:
        with open(path, "x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        raise _diag_error(check_target(path)) from None
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(path)  # a file begun but not finished: leave nothing half-written
        if isinstance(exc, PermissionError):
            detail = (
                f"vaultform did not have permission to create the generated file ({path}) in the "
                "target directory. Please modify permissions over the target directory, and try again."
            )
        else:
            detail = (
                f"vaultform could not create the generated file ({path}) in the target directory: "
                f"{exc.strerror or exc}."
            )
        raise _diag_error(
            error("generate_config_write", "Failed to create target generated file", detail)
        ) from None


def experimental_warning() -> Diagnostic:
    return warning(
        "generate_config_experimental",
        "Config generation is experimental",
        "Generating configuration during import is currently experimental, and the generated "
        "configuration format may change in future versions.",
    )


def written_message(path: str) -> str:
    """What plan says once the file is written (terraform's planHeaderGenConfig)."""
    return (
        f"vaultform has generated configuration and written it to {path}. Please review the "
        "configuration and edit it as necessary before adding it to version control."
    )


def _diag_error(diag: Diagnostic | None) -> DiagnosticsError:
    assert diag is not None
    return DiagnosticsError(diag)


# --------------------------------------------------------------------------- the body


def _body(block: BlockSchema, value: dict[str, Any] | None, top: bool = True) -> list[str]:
    value = value or {}
    lines: list[str] = []
    for attr in sorted(block.attributes, key=lambda a: a.name):
        line = _attribute(attr, value.get(attr.name), top)
        if line is not None:
            lines.append(line)
    for nested in sorted(block.blocks, key=lambda b: b.name):
        found = value.get(nested.name)
        if nested.nesting is Nesting.SINGLE:
            elements = [found] if isinstance(found, dict) else []
        else:
            elements = [e for e in found or () if isinstance(e, dict)]
        for element in elements:
            lines.append(f"{nested.name} {{")
            lines.extend(_body(nested.block, element, top=False))
            lines.append("}")
    return lines


def _attribute(attr: Attribute, value: Any, top: bool) -> str | None:
    if attr.computed and not attr.optional:
        return None  # the provider's to set: never configuration
    if attr.deprecated:
        return None
    if top and attr.name == "id" and attr.computed:
        return None
    if isinstance(value, str) and value == "" and attr.optional:
        value = None
    if value is None and attr.computed:
        return None
    if attr.sensitive:
        return f"{attr.name} = null # sensitive"
    return f"{attr.name} = {_expression(value)}"


def _expression(value: Any) -> str:
    if isinstance(value, str):
        decoded = _json_container(value)
        if decoded is not None:
            return f"jsonencode({_value(decoded)})"
    return _value(value)


def _json_container(text: str) -> Any:
    """A JSON object or array held in a string (terraform writes it as jsonencode); else None."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        decoded = json.loads(stripped, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    return decoded if isinstance(decoded, (dict, list)) else None


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON to Go's decoder


def _value(value: Any) -> str:
    """One value as HCL (hclwrite.TokensForValue): lists on one line, maps one key a line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        rows = [f"{_key(str(k))} = {_value(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))]
        return "{\n" + "\n".join(rows) + "\n}"
    return _quoted(str(value))


def _key(key: str) -> str:
    return key if _IDENT.match(key) else _quoted(key)


def _quoted(text: str) -> str:
    """A string as an HCL quoted template: escapes, and ``${``/``%{`` doubled so they stay literal."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ch in ("\u2028", "\u2029"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    quoted = "".join(out).replace("${", "$${").replace("%{", "%%{")
    return f'"{quoted}"'
