"""`vaultform show [FILE] [-json]`: the state, or a saved plan, as Terraform's `show` prints them.

Without FILE: the state (``-state PATH``, default ``./vaultform.tfstate``) - every resource
with its attributes, sensitive values as ``(sensitive value)``, then the outputs. With
``-json``: Terraform's JSON state representation (``format_version``, ``values.outputs``,
``values.root_module.resources[]`` with ``child_modules``); sensitive values are null there
and marked in ``sensitive_values``, so nothing secret is printed. FILE may be a saved plan
(shown as ``plan`` shows it) or a state file.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from typing import Any

from providers.schema import BlockSchema, Kind
from providers.schema import Mode as SchemaMode
from reconciler import providers_registry as registry
from reconciler.cli.flags import flag
from reconciler.cli.output import Output, display_path
from reconciler.cli.state_files import backend_for, configured_encryption_of, read_state
from reconciler.diagnostics import DiagnosticsError, error
from reconciler.plan.render_body import Sensitivity
from reconciler.value_shapes import Shape, shape_of_type
from reconciler.value_text import go_quote, number_text
from state.format import go_json
from state.model import InstanceAddress, InstanceState, ResourceState, State
from state.tfstate_v4 import terraform_dependencies

SENSITIVE = "(sensitive value)"


def setup(parser) -> None:
    parser.add_argument(
        "file",
        nargs="?",
        default=None,
        help="a saved plan, a state file or a configuration directory (default: ./vaultform.tfstate)",
    )
    flag(parser, "json", action="store_true", help="Terraform's JSON representation")
    flag(parser, "state", metavar="PATH", default=None, help="state file (default: ./vaultform.tfstate)")
    flag(parser, "no-color", action="store_true", help="no colour in the output")


# --------------------------------------------------------------------------- text


def _schema_block(res: ResourceState) -> BlockSchema | None:
    mode = SchemaMode.DATA if res.mode.value == "data" else SchemaMode.MANAGED
    rs = registry.resource_schema(mode, res.type)
    return rs.block if rs is not None else None


def _sensitivity(res: ResourceState, inst: InstanceState) -> Sensitivity:
    return Sensitivity(frozenset(tuple(p) for p in inst.sensitive_paths), _schema_block(res))


def _scalar(value: Any, depth: int) -> list[str]:
    """A number, bool, null or string; a string of several lines is an indented heredoc."""
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, (int, float, Decimal)):
        return [number_text(value)]
    text = str(value)
    if "\n" in text.rstrip("\n"):
        body = text[:-1] if text.endswith("\n") else text
        pad = "    " * (depth + 1)
        return ["<<-EOT", *(pad + line for line in body.split("\n")), "    " * depth + "EOT"]
    return [go_quote(text)]


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _value(
    value: Any,
    depth: int,
    path: tuple,
    sensitive: Sensitivity,
    *,
    objects: bool = False,
    omit_null: bool = False,
    shape: Shape | None = None,
) -> list[str]:
    """A value's lines; the first goes after ``name = ``, the rest are indented for ``depth``.

    ``objects``: a mapping is an object, as terraform shows one: keys bare where they are
    identifiers; otherwise (or where ``shape`` says map) a map, every key quoted. ``omit_null``:
    null attributes are left out (terraform does so in outputs, not in resources).
    """
    if path and sensitive(path):
        return [SENSITIVE]
    pad = "    " * (depth + 1)
    if isinstance(value, dict):
        keys = sorted((k for k in value if not (omit_null and value[k] is None)), key=str)
        if not keys:
            return ["{}"]
        bare = objects and (shape is None or shape.kind != "map")
        shown = [str(k) if bare and _IDENTIFIER.fullmatch(str(k)) else go_quote(str(k)) for k in keys]
        width = max(len(k) for k in shown)
        lines = ["{"]
        for k, text in zip(keys, shown):
            sub = _value(
                value[k],
                depth + 1,
                path + (k,),
                sensitive,
                objects=objects,
                omit_null=omit_null,
                shape=shape.field(str(k)) if shape is not None else None,
            )
            lines.append(f"{pad}{text.ljust(width)} = {sub[0]}")
            lines.extend(sub[1:])
        lines.append("    " * depth + "}")
        return lines
    if isinstance(value, (list, tuple)):
        if not value:
            return ["[]"]
        lines = ["["]
        for i, item in enumerate(value):
            sub = _value(
                item,
                depth + 1,
                path + (i,),
                sensitive,
                objects=objects,
                omit_null=omit_null,
                shape=shape.item(i) if shape is not None else None,
            )
            sub[-1] += ","
            lines.append(f"{pad}{sub[0]}")
            lines.extend(sub[1:])
        lines.append("    " * depth + "]")
        return lines
    return _scalar(value, depth)


def _body(
    block: BlockSchema | None, value: dict, depth: int, path: tuple, sensitive: Sensitivity
) -> list[str]:
    nested = {nb.name: nb for nb in block.blocks} if block is not None else {}
    pad = "    " * (depth + 1)
    attrs = [(k, v) for k, v in sorted(value.items()) if k not in nested and v is not None]
    lines: list[str] = []
    width = max((len(k) for k, _ in attrs), default=0)
    kinds = {a.name: a.type.kind for a in block.attributes} if block is not None else {}
    for k, v in attrs:
        sub = _value(v, depth + 1, path + (k,), sensitive, objects=kinds.get(k) is not Kind.MAP)
        lines.append(f"{pad}{k.ljust(width)} = {sub[0]}")
        lines.extend(sub[1:])
    for name in sorted(nested):
        raw = value.get(name)
        items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            lines.append("")
            inner = path + (name, i) if isinstance(raw, list) else path + (name,)
            if sensitive(inner):
                lines.append(f"{pad}{name} {{")
                lines.append(f"{pad}    # {SENSITIVE}")
            else:
                lines.append(f"{pad}{name} {{")
                lines.extend(_body(nested[name].block, item, depth + 1, inner, sensitive))
            lines.append(f"{pad}}}")
    return lines


def render_instance(address: InstanceAddress | str, res: ResourceState, inst: InstanceState) -> str:
    """One object as ``show`` and ``state show`` print it."""
    keyword = "data" if res.mode.value == "data" else "resource"
    head = [f"# {address}:"]
    if inst.tainted:
        head[0] += " (tainted)"
    if inst.pending is not None:
        head.append(f"# (an unfinished {inst.pending.operation.value} was recorded for this object)")
    lines = head + [f'{keyword} "{res.type}" "{res.name}" {{']
    lines += _body(_schema_block(res), dict(inst.attributes), 0, (), _sensitivity(res, inst))
    lines.append("}")
    return "\n".join(lines)


def render_outputs(state: State) -> str:
    if not state.outputs:
        return ""
    lines = ["Outputs:", ""]
    for name in sorted(state.outputs):
        o = state.outputs[name]
        sub = (
            [SENSITIVE]
            if o.sensitive
            else _value(
                o.value, 0, (), Sensitivity(), objects=True, omit_null=True, shape=shape_of_type(o.type)
            )
        )
        lines.append(f"{name} = {sub[0]}")
        lines.extend(sub[1:])
    return "\n".join(lines)


def render_state(state: State) -> str:
    if not state.resources and not state.outputs:
        return "The state is empty. No resources are managed yet.\n"
    # as terraform's show (jsonformat/state.go): the root module's objects, then each module's by
    # address, a module's own group set off by one more blank line
    groups: dict[str, list[tuple[Any, str]]] = {}
    for addr, res, inst in state.instances():
        key = inst.index_key
        # data sources first, then by type, name and key (numbers as numbers), as terraform sorts
        rank = (
            res.mode.value != "data",
            res.type,
            res.name,
            isinstance(key, str),
            -1 if key is None else key,
        )
        groups.setdefault(res.module, []).append((rank, render_instance(addr, res, inst)))
    order = sorted(groups, key=lambda module: (module != "", module))
    text = "\n\n\n".join("\n\n".join(t for _r, t in sorted(groups[m], key=lambda g: g[0])) for m in order)
    outputs = render_outputs(state)
    if outputs:
        text = (text + "\n\n\n" if text else "") + outputs
    return text + "\n"


# --------------------------------------------------------------------------- JSON


def state_to_json(state: State) -> dict:
    """Terraform's JSON state representation of ``state``; sensitive values are null."""
    from reconciler.plan.render_json import (
        STATE_FORMAT_VERSION,
        TERRAFORM_VERSION,
        json_value,
        provider_address,
        sensitive_shape,
    )

    root: dict = {"resources": []}
    modules: dict[str, dict] = {"": root}

    def module_node(address: str) -> dict:
        if address not in modules:
            parent_address = address.rsplit(".module.", 1)[0] if ".module." in address else ""
            node = {"resources": [], "address": address}  # jsonstate.Module's field order
            modules[address] = node
            module_node(parent_address).setdefault("child_modules", []).append(node)
        return modules[address]

    for addr, res, inst in state.instances():
        sensitive = _sensitivity(res, inst)
        entry: dict[str, Any] = {
            "address": str(addr),
            "mode": res.mode.value,
            "type": res.type,
            "name": res.name,
        }
        if inst.index_key is not None:
            entry["index"] = inst.index_key
        entry["provider_name"] = provider_address(res.provider.split(".")[0])
        entry["schema_version"] = inst.schema_version
        entry["values"] = json_value(dict(inst.attributes), sensitive)
        entry["sensitive_values"] = sensitive_shape(dict(inst.attributes), sensitive) or {}
        if inst.dependencies:
            entry["depends_on"] = terraform_dependencies(str(d) for d in inst.dependencies)
        if inst.tainted:
            entry["tainted"] = True
        module_node(res.module)["resources"].append(entry)
    values: dict[str, Any] = {}
    if state.outputs:
        values["outputs"] = {
            name: {
                "sensitive": o.sensitive,
                "value": None if o.sensitive else json_value(o.value),
                "type": o.json_type,
            }
            for name, o in sorted(state.outputs.items())
        }
    for node in modules.values():  # terraform leaves an empty list out (json omitempty)
        if not node["resources"]:
            del node["resources"]
    values["root_module"] = root
    return {"format_version": STATE_FORMAT_VERSION, "terraform_version": TERRAFORM_VERSION, "values": values}


# --------------------------------------------------------------------------- the command


def run(args, out: Output) -> int:
    from reconciler.plan.planfile import is_plan_file

    if args.file and is_plan_file(args.file):
        return _show_plan(args, out)
    if args.file and os.path.isdir(args.file):  # a configuration directory: its state
        backend = backend_for(args.state, args.file)
    elif args.file and not os.path.exists(args.file):
        # a file named on the command line must be there (terraform: "Failed to read the given
        # file as a state or plan file"); only the default state may be missing
        raise DiagnosticsError(
            error(
                "show_file",
                "Failed to read the given file as a state or plan file",
                f"There is no file at {args.file}. Give the path of a saved plan (plan -out) or a state "
                "file, or run show with no argument for the current state.",
            )
        )
    else:
        backend = backend_for(args.file or args.state)
    state = read_state(backend)
    if args.json:
        # compact, as terraform's show -json (json.Marshal)
        out.print(go_json(state_to_json(state) if state is not None else {"format_version": "1.0"}))
    elif state is None:
        out.print(f"No state. {backend.describe()} does not exist yet: nothing is managed.")
    else:
        out.print(render_state(state))
    return 0


def _show_plan(args, out: Output) -> int:
    from reconciler.plan.planfile import read_saved_plan

    encryption = configured_encryption_of(".")
    saved = read_saved_plan(args.file, encryption.plan if encryption is not None else None)
    plan = saved.plan
    if args.json:
        from reconciler.plan.render_json import plan_to_json

        out.print(go_json(plan_to_json(plan), default=str))
        return 0
    from reconciler.plan.render_text import render_plan

    out.print(render_plan(plan, color=out.color, sources=out.sources, display_path=display_path))
    return 0
