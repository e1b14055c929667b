"""`vaultform import [DIR] ADDRESS ID`: bring one existing object under management.

The resource block must already be in the configuration (the import says where it goes;
the block says what it should look like). The object is read through its provider and
recorded in state with the attributes a create would have recorded, so the next plan shows
only the differences between the object and its block. An address already in state is
refused: it already names an object. Nothing in the cloud changes.
"""

from __future__ import annotations

import argparse

from reconciler import importing
from reconciler import session as steps
from reconciler.cli.common import add_variable_flags, state_lock
from reconciler.cli.flags import UsageError, bool_flag, flag
from reconciler.cli.output import Output
from reconciler.diagnostics import DiagnosticsError, error
from state.errors import AddressError, StateError
from state.model import State, parse_address


def setup(parser) -> None:
    parser.usage = "vaultform import [options] [DIR] ADDRESS ID"
    parser.epilog = (
        "One object per run: to bring several under management, run import once for each, or "
        "write import blocks in the configuration and run plan and apply."
    )
    # DIR is optional and comes first, as ADDRESS and ID always do in that order: which words
    # are which is decided by their number in run(), not by argparse (which would take the
    # first of two words for DIR)
    parser.add_argument("words", nargs="*", metavar="[DIR] ADDRESS ID", help=argparse.SUPPRESS)
    add_variable_flags(parser)
    flag(parser, "state", metavar="PATH", default=None, help="state file (default: DIR/vaultform.tfstate)")
    flag(parser, "lock-timeout", metavar="DURATION", default="0s", help="wait this long for the state lock")
    bool_flag(parser, "lock", True, "lock the state while writing (default true)")
    flag(parser, "no-color", action="store_true", help="no colour in the output")
    bool_flag(parser, "input", True, "ask for input on a terminal (default true)")


def run(args, out: Output) -> int:
    words = list(args.words)
    if len(words) < 2:  # one word: the ADDRESS or the ID is missing
        raise UsageError(
            "import needs the ADDRESS to import into and the ID of the object, e.g.\n"
            "  vaultform import azurerm_key_vault.cmk /subscriptions/.../providers/Microsoft.KeyVault/vaults/NAME\n\n"
            "usage: vaultform import [options] [DIR] ADDRESS ID"
        )
    if len(words) > 3:
        raise UsageError(
            "import takes one ADDRESS and one ID (after an optional DIR); to import several "
            "objects, run import once for each, or write import blocks and run apply.\n\n"
            "usage: vaultform import [options] [DIR] ADDRESS ID"
        )
    directory, text, ident = words if len(words) == 3 else [".", *words]
    try:
        address = parse_address(text)
    except AddressError as exc:
        raise DiagnosticsError(
            error(
                "address",
                f"Invalid address {text!r}",
                f'{exc.problem}. Write it as Terraform does: terraform_data.x or terraform_data.x["a"].',
            )
        ) from None
    session = steps.open_session(directory, variables=args.variable_flags, state_path=args.state)
    try:
        res = importing.find_resource(session.validated.tree, address)
        importing.check_instance_exists(session, address, res)
        target = importing.ImportTarget(str(address), ident, res, None)
        with state_lock(session, "import", args):
            try:
                state = session.backend.read() or State.new(lineage=session.state.lineage)  # as checked
            except StateError as exc:
                raise DiagnosticsError(error("state", exc.summary, exc.detail)) from None
            taken = state.instance(address)
            if taken is not None:
                existing = taken.attributes.get("id", "")
                raise DiagnosticsError(
                    error(
                        "import_exists",
                        f"{address} is already managed",
                        f"The state already holds {address} (id {existing!r}). To manage another object "
                        "there, forget this one first (`vaultform state rm`), or import into another address.",
                        address=str(address),
                        range=res.pos.range(),
                    )
                )
            out.print(f"{address}: Importing from ID {ident!r}...")
            instance = importing.import_object(session.providers, target)
            new = state.with_instance(
                address, instance, provider=res.provider_name, prevent_destroy=res.lifecycle.prevent_destroy
            )
            try:
                session.backend.write(new)
            except StateError as exc:
                raise DiagnosticsError(error("state", exc.summary, exc.detail)) from None
        out.print(
            f"{address}: Import prepared!\n  Prepared {res.type} for import\n"
            f"{address}: Refreshing state... [id={instance.attributes.get('id', ident)}]\n\n"
            "Import successful!\n\nThe object is now recorded in state; run plan to compare it with "
            "its configuration."
        )
        return 0
    finally:
        session.close()
