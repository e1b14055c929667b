"""`vaultform validate [DIR] [-json]`."""

from __future__ import annotations

from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.diagnostics import render_json
from reconciler.validate import validate_directory


def setup(parser) -> None:
    parser.add_argument("dir", nargs="?", default=".", help="configuration directory (default: .)")
    flag(parser, "json", action="store_true", help="machine-readable output")
    flag(parser, "no-color", action="store_true", help="no colour in the output")


def run(args, out: Output) -> int:
    result = validate_directory(args.dir, allow_empty=True)  # terraform: an empty one is valid
    diags = result.diagnostics
    if args.json:
        out.print(render_json(diags))
        return 1 if diags.has_errors else 0
    if diags.has_errors:
        out.diagnostics(diags.sorted())
        n = len(diags.errors)
        out.err.write(f"\nThe configuration is invalid: {n} error{'s' if n != 1 else ''}.\n")
        return 1
    # As terraform validate: warnings go to standard output, above the verdict that points at them.
    out.diagnostics(diags.sorted(), stream=out.out)
    # terraform's verdicts end in a blank line (views/validate.go)
    if diags.warnings:
        out.print(
            out.style("Success!", "32;1")
            + " The configuration is valid, but there were some validation warnings as shown above.\n\n"
        )
    else:
        out.print(out.style("Success!", "32;1") + " The configuration is valid.\n\n")
    return 0
