"""`vaultform providers [DIR]`: the providers the configuration and the state need, as terraform prints them.

Each module's providers (declared in required_providers, or implied by its resource types)
as a tree of ``provider[ADDRESS] CONSTRAINT`` lines, then the providers the state's
resources name. Every one of them is built into vaultform; nothing is downloaded.
"""

from __future__ import annotations

from reconciler.cli.cmd_state import backend_for, read_state
from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.config.modules import ModuleTree, load_module_tree
from reconciler.diagnostics import DiagnosticsError
from reconciler.providers_registry import provider_name_for_type

DEFAULT_HOST = "registry.terraform.io"
BUILTIN = "terraform.io/builtin/terraform"


def setup(parser) -> None:
    parser.add_argument("dir", nargs="?", default=".", help="configuration directory (default: .)")
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


def run(args, out: Output) -> int:
    tree, diags = load_module_tree(args.dir)
    errors = [d for d in diags if d.is_error]
    if errors:
        raise DiagnosticsError(errors)
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
