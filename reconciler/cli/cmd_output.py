"""`vaultform output [NAME] [-json] [-raw]`: the root module's outputs, read from the state.

As in Terraform: listing every output hides sensitive ones as ``<sensitive>``; asking for
one by name, ``-json`` or ``-raw`` prints the value itself, because asking for it is the
point (a pipeline passing a value on). ``-raw`` prints a string, number or bool with no
quotes and no newline, for shell scripts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.cli.state_files import backend_for, read_state, refuse_directory
from reconciler.diagnostics import DiagnosticsError, error, warning
from reconciler.value_shapes import shape_of_type
from reconciler.value_text import format_value, number_text
from state.format import go_json


def setup(parser) -> None:
    parser.add_argument("name", nargs="?", default=None, help="one output (default: all)")
    flag(parser, "json", action="store_true", help="as JSON")
    flag(parser, "raw", action="store_true", help="one string, number or bool, as it is (for scripts)")
    flag(
        parser,
        "state",
        metavar="PATH",
        default=None,
        help="state file (default: ./vaultform.tfstate; vaultform -chdir=DIR output reads DIR's)",
    )
    flag(parser, "no-color", action="store_true", help="no colour in the output")


def _raw(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return number_text(value)
    if isinstance(value, str):
        return value
    raise DiagnosticsError(
        error(
            "output_raw",
            f'Output "{name}" is not a string, number or bool',
            "-raw prints only those, as they are. Use -json for lists, maps and objects.",
        )
    )


def run(args, out: Output) -> int:

    if args.raw and args.json:
        raise DiagnosticsError(
            error(
                "usage",
                "-raw and -json cannot be used together",
                "Choose one: -raw for one plain value, -json for JSON.",
            )
        )
    if args.raw and not args.name:
        raise DiagnosticsError(
            error("usage", "-raw needs an output name", "Write `vaultform output -raw NAME`.")
        )
    backend = backend_for(args.state)
    state = read_state(backend)
    outputs = dict(state.outputs) if state is not None else {}
    if args.name:
        if args.name not in outputs:
            refuse_directory(args.name, "output")
            if not outputs and not args.json:  # as terraform 1.11: nothing recorded yet is no failure
                return _no_outputs(out, state, backend)
            known = ", ".join(sorted(outputs)) or "none"
            raise DiagnosticsError(
                error(
                    "output_not_found",
                    f'Output "{args.name}" not found',
                    f"The state has no output of that name (it has: {known}). If you recently added it to "
                    "the configuration, run `vaultform apply`: the state records an output's value only "
                    "when apply runs.",
                )
            )
        value, shape = outputs[args.name].value, shape_of_type(outputs[args.name].type)
        if args.raw:
            out.out.write(_raw(args.name, value))
            out.out.flush()
        elif args.json:  # one value: compact, as terraform's json.Marshal writes it
            out.print(go_json(value))
        else:
            out.print(format_value(value, shape=shape))
        return 0
    if args.json:
        out.print(
            go_json(
                {
                    name: {"sensitive": o.sensitive, "type": o.json_type, "value": o.value}
                    for name, o in sorted(outputs.items())
                },
                indent=True,
            )
        )
        return 0
    if not outputs:
        return _no_outputs(out, state, backend)
    for name in sorted(outputs):
        o = outputs[name]
        shown = "<sensitive>" if o.sensitive else format_value(o.value, shape=shape_of_type(o.type))
        out.print(f"{name} = {shown}")
    return 0


def _no_outputs(out: Output, state, backend) -> int:
    """The warning terraform 1.11 gives (exit 0) when the state records no outputs, asked for
    all of them or for one by name."""
    detail = (
        "The state has no outputs: declare them with output blocks in the configuration and run "
        "apply to record their values."
    )
    if state is None:
        detail = (
            f"There is no state at {backend.describe()}. `vaultform apply DIR` keeps the state in "
            "DIR: read its outputs with `vaultform -chdir=DIR output`, or give the state file "
            "with -state PATH."
        )
    out.diagnostics([warning("no_outputs", "No outputs found", detail)])
    return 0
