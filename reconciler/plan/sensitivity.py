"""Which paths of an object are sensitive, and keeping them out of messages.

A resource instance's sensitive paths are the schema's sensitive attributes, every path
where its configuration held a marked value (``EvaluatedBody.sensitive_paths``), the
same paths in attributes that echo another (``Attribute.echoes``: terraform_data's
``output`` repeats ``input``, so a secret given as input stays secret as output), and,
for the object as it stood before, the paths state recorded. Values that leave the
object for the rest of the configuration carry marks at these paths again
(``reconciler.values.mark_paths``), so a reference to a sensitive attribute is sensitive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from providers import validation
from providers.schema import BlockSchema
from reconciler.diagnostics import Diagnostic, error, warning
from reconciler.values import mark_paths, redact

Path = tuple[Any, ...]


_ECHOES: dict[int, tuple[BlockSchema, list[tuple[str, str]]]] = {}  # id(block) -> (block, echoes)


def _echoes(block: BlockSchema) -> list[tuple[str, str]]:
    """(attribute, the attribute it echoes) of ``block``, looked up once per schema."""
    cached = _ECHOES.get(id(block))
    if cached is None or cached[0] is not block:
        cached = (block, [(a.name, a.echoes) for a in block.attributes if a.echoes])
        _ECHOES[id(block)] = cached
    return cached[1]


def echoed(block: BlockSchema, paths: Iterable[Path]) -> set[Path]:
    """``paths`` and their copies under each attribute that echoes the one they start with."""
    out = {tuple(p) for p in paths}
    echoes = _echoes(block) if out else ()
    if not echoes:
        return out
    for path in list(out):
        for name, source in echoes:
            if path and path[0] == source:
                out.add((name,) + path[1:])
    return out


_SENSITIVE: dict[int, tuple[BlockSchema, bool]] = {}  # id(block) -> (block, any attribute sensitive)


def _has_sensitive(block: BlockSchema) -> bool:
    """Whether ``block`` or a block nested in it has a sensitive attribute, looked up once per
    schema (most have none, and every planned object asks)."""
    cached = _SENSITIVE.get(id(block))
    if cached is None or cached[0] is not block:
        cached = _SENSITIVE[id(block)] = (block, bool(validation.sensitive_paths(block)))
    return cached[1]


def object_paths(block: BlockSchema | None, value: Any, marked: Iterable[Path] = ()) -> tuple[Path, ...]:
    """Every sensitive path of ``value``: the schema's, the marked ones, and their echoes."""
    if block is None:
        return tuple(sorted({tuple(p) for p in marked}, key=repr))
    out = echoed(block, marked)
    if isinstance(value, dict) and _has_sensitive(block):
        out |= validation.sensitive_value_paths(block, value)
    return tuple(sorted(out, key=repr)) if out else ()


def hide_in(diags: Iterable[Diagnostic], value: Any, paths: Iterable[Path]) -> list[Diagnostic]:
    """``diags`` with the text of every value at ``paths`` of ``value`` replaced by
    ``(sensitive value)`` (a diagnostic about an attribute may quote it)."""
    diags = list(diags)
    paths = list(paths)
    if not paths or not diags:
        return diags
    marked = mark_paths(value, paths)
    out = []
    for d in diags:
        summary, detail = redact(d.summary, marked), redact(d.detail, marked)
        if summary != d.summary or detail != d.detail:
            d = replace(d, summary=summary, detail=detail)
        out.append(d)
    return out


def output_sensitivity(
    name: str, declared: Any, marked: bool, *, at_apply: bool = False
) -> tuple[bool, Diagnostic | None]:
    """The output-sensitivity policy, for plan and apply alike: whether root output ``name`` is
    sensitive, and the diagnostic when its value carried a sensitive mark it did not declare.

    Terraform's rule: such an output is refused ("Output refers to sensitive values") when the
    plan sees it. A value known only after apply that turns out marked is stored and shown as
    sensitive, with a warning: its objects are already made. ``declared`` is the output block
    (None when the configuration no longer has it).
    """
    if declared is not None and declared.sensitive:
        return True, None
    if not marked:
        return False, None
    at = declared.pos.range() if declared is not None else None
    if at_apply:
        return True, warning(
            "sensitive_output",
            f'Output "{name}" carries a sensitive value',
            f'It is stored and shown as sensitive. Add sensitive = true to output "{name}".',
            range=at,
        )
    return True, error(
        "sensitive_output",
        "Output refers to sensitive values",
        "To reduce the risk of accidentally exporting sensitive data that was intended to be only "
        "internal, vaultform requires that any root module output containing sensitive data be "
        "explicitly marked as sensitive, to confirm your intent.\n\nIf you do intend to export this "
        f'data, annotate output "{name}" as sensitive by adding the following argument:\n    sensitive = true',
        range=at,
    )
