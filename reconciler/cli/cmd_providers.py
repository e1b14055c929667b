"""`vaultform providers [DIR]`: the providers the configuration and the state need, as terraform prints them.

Each module's providers (declared in required_providers, or implied by its resource types)
as a tree of ``provider[ADDRESS] CONSTRAINT`` lines, then the providers the state's
resources name. Every one of them is built into vaultform; nothing is downloaded.

Terraform's subcommands: ``providers schema -json`` prints those providers' schemas
(``reconciler.schema_json``); ``providers lock`` and ``providers mirror DIR`` have nothing to
lock or copy - vaultform's providers are part of it, as terraform's built-in provider is part
of terraform - and say so, as terraform does for its built-in one.
"""

from __future__ import annotations

import argparse

from reconciler.cli.cmd_state import backend_for, read_state
from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.config.modules import ModuleTree, load_module_tree
from reconciler.diagnostics import DiagnosticsError, error
from reconciler.providers_registry import known_provider_names, provider_name_for_type, schema_for
from reconciler.schema_json import schemas_json
from state.format import go_json

DEFAULT_HOST = "registry.terraform.io"
BUILTIN = "terraform.io/builtin/terraform"


NOTHING_TO_FETCH = ("lock", "mirror")  # terraform's subcommands that download providers


def setup(parser) -> None:
    parser.add_argument(
        "dir",
        nargs="?",
        default=".",
        help="configuration directory (default: .), or a subcommand: schema -json, lock, mirror DIR",
    )
    parser.add_argument("target", nargs="?", help=argparse.SUPPRESS)  # mirror's output directory
    flag(parser, "json", action="store_true", help="with schema: the schemas as JSON (required)")
    for name in ("platform", "fs-mirror", "net-mirror"):  # lock and mirror: nothing to fetch
        flag(parser, name, metavar="VALUE", action="append", help=argparse.SUPPRESS)
    flag(parser, "enable-plugin-cache", action="store_true", help=argparse.SUPPRESS)
    flag(parser, "lock-file", metavar="BOOL", help=argparse.SUPPRESS)
    flag(parser, "state", metavar="PATH", help="state file (default: DIR/vaultform.tfstate)")
    flag(parser, "no-color", action="store_true", help="no colour in the output")


def fqn(name: str, source: str | None) -> str:
    """The fully qualified provider address Terraform prints for a local name and its source."""
    if name == "terraform" and not source:
        return BUILTIN
    source = source or f"hashicorp/{name}"
    return source if source.count("/") == 2 else f"{DEFAULT_HOST}/{source}"


def _requirements(tree: ModuleTree) -> dict[str, str]:
    module = tree.module
    declared = {p.name: p for p in (module.terraform.required_providers if module.terraform else ())}
    out: dict[str, str] = {}
    for p in declared.values():
        out[fqn(p.name, p.source)] = p.version or ""
    for resource in module.resources.values():
        name = provider_name_for_type(resource.type)
        if name not in declared:
            out.setdefault(fqn(name, None), "")
    return out


def _tree(tree: ModuleTree, indent: str, lines: list[str]) -> None:
    """The tree as terraform draws it (its tree printer indents under a branch with no-break spaces)."""
    items = [
        ("provider", f"provider[{a}]" + (f" {v}" if v else ""))
        for a, v in sorted(_requirements(tree).items())
    ]
    items += [("module", f"module.{name}") for name in sorted(tree.children)]
    for i, (kind, text) in enumerate(items):
        last = i == len(items) - 1
        lines.append(f"{indent}{'└── ' if last else '├── '}{text}")
        if kind == "module":
            _tree(
                tree.children[text.removeprefix("module.")],
                indent + ("    " if last else "│\u00a0\u00a0 "),
                lines,
            )


def _state_address(provider: str) -> str:
    """``provider["registry.terraform.io/hashicorp/random"]`` or a bare local name, as an address."""
    inner = provider.removeprefix("provider[").removesuffix("]").strip('"')
    inner = inner.split("].", 1)[0].strip('"')  # an aliased provider: provider["..."].west
    return inner if "/" in inner else fqn(inner, None)


def _required(tree: ModuleTree) -> set[str]:
    """The addresses of the providers every module of ``tree`` needs."""
    found = set(_requirements(tree))
    for child in tree.children.values():
        found |= _required(child)
    return found


def _load(directory: str) -> ModuleTree:
    tree, diags = load_module_tree(directory)
    errors = [d for d in diags if d.is_error]
    if errors:
        raise DiagnosticsError(errors)
    return tree


def _needed(directory: str, state_path: str | None) -> set[str]:
    """What the configuration in ``directory`` and its state need."""
    needed = _required(_load(directory))
    state = read_state(backend_for(state_path, directory))
    return needed | {_state_address(r.provider) for r in (state.resources if state is not None else ())}


def _schema(args, out: Output) -> int:
    if not args.json:
        raise DiagnosticsError(
            [error("usage", "providers schema needs -json", "Run `vaultform providers schema -json`.")]
        )
    directory = args.target or "."
    needed = _needed(directory, args.state)
    schemas = {s.address: s for s in (schema_for(n) for n in known_provider_names()) if s is not None}
    unknown = sorted(needed - set(schemas))
    if unknown:
        raise DiagnosticsError(
            [
                error(
                    "provider",
                    f"No schema for provider[{address}]",
                    "vaultform has no such provider built in, so it can't plan its resources either; "
                    "`vaultform validate` names the blocks that need it.",
                )
                for address in unknown
            ]
        )
    out.out.write(go_json(schemas_json([schemas[a] for a in sorted(needed)])) + "\n")
    return 0


def _nothing_to_fetch(args, out: Output) -> int:
    if args.dir == "mirror" and not args.target:
        raise DiagnosticsError(
            [
                error(
                    "usage",
                    "providers mirror needs a target directory",
                    "Run `vaultform providers mirror DIR`.",
                )
            ]
        )
    needed = _needed(".", args.state)
    if args.dir == "mirror":
        for address in sorted(needed):
            out.out.write(f"- Skipping {address} because it is built in to vaultform\n")
        return 0
    out.out.write(
        "\nSuccess! vaultform has validated the lock file and found no need for changes: every provider "
        "it uses is built in, so there is nothing to lock.\n"
    )
    return 0


def run(args, out: Output) -> int:
    if args.dir == "schema":
        return _schema(args, out)
    if args.dir in NOTHING_TO_FETCH:
        return _nothing_to_fetch(args, out)
    if args.json:
        raise DiagnosticsError(
            [error("usage", "-json is for providers schema", "Run `vaultform providers schema -json`.")]
        )
    tree = _load(args.dir)
    lines = ["", "Providers required by configuration:", "."]
    _tree(tree, "", lines)
    out.print("\n".join(lines) + "\n\n")
    state = read_state(backend_for(args.state, args.dir))
    in_state = sorted({r.provider for r in state.resources} if state is not None else set())
    if in_state:
        out.out.write("Providers required by state:\n\n")
        for address in sorted({_state_address(p) for p in in_state}):
            out.out.write(f"    provider[{address}]\n\n")
    return 0
