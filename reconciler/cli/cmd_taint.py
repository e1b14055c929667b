"""`vaultform taint ADDRESS` and `vaultform untaint ADDRESS`: mark one object for replacement, or
take the mark away, in state only.

A tainted object is replaced by the next plan (destroyed and created again), as terraform's; the
plan's refusals still apply to that replacement (a key vault key or a vault's identity that backups
depend on is not replaced behind their back). ``plan -replace=ADDRESS`` does the same for one plan
without writing state first, and is the better habit. Messages and errors are terraform 1.11's
(command/taint.go, command/untaint.go).
"""

from __future__ import annotations

from reconciler.cli.cmd_state import add_state_flags, locked
from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.cli.state_files import backend_for, read_state, write_state
from reconciler.diagnostics import DiagnosticsError, error, warning
from state.errors import AddressError
from state.model import InstanceAddress, InstanceState, InstanceStatus, Mode, State, parse_address


def setup(parser) -> None:
    _setup(parser, "taint")


def setup_untaint(parser) -> None:
    _setup(parser, "untaint")


def _setup(parser, command: str) -> None:
    parser.usage = f"vaultform {command} [options] ADDRESS"
    parser.add_argument(
        "address", metavar="ADDRESS", help="one resource instance, e.g. azurerm_key_vault_key.cmk"
    )
    flag(parser, "allow-missing", action="store_true", help="succeed when the instance is not in state")
    add_state_flags(parser, writes=True)


def run(args, out: Output) -> int:
    return _mark(args, out, InstanceStatus.TAINTED)


def run_untaint(args, out: Output) -> int:
    return _mark(args, out, InstanceStatus.READY)


def _address(text: str, verb: str) -> InstanceAddress:
    try:
        addr = parse_address(text)
    except AddressError as exc:
        raise DiagnosticsError(
            error(
                "address",
                f"Invalid address {text!r}",
                f"{exc.problem}. Name one resource instance, as terraform_data.x, terraform_data.x[0] or "
                'module.m["a"].terraform_data.x.',
            )
        ) from None
    if addr.resource.mode is not Mode.MANAGED:
        raise DiagnosticsError(
            error(
                "address",
                f"Resource instance {addr} cannot be {verb}",
                "Only managed resources are replaced; a data source is read again by every plan.",
            )
        )
    return addr


def _mark(args, out: Output, status: InstanceStatus) -> int:
    verb = "tainted" if status is InstanceStatus.TAINTED else "untainted"
    addr = _address(args.address, verb)
    backend = backend_for(args.state)
    with locked(backend, verb.removesuffix("ed"), args):
        state = read_state(backend)
        inst = state.instance(addr) if state is not None else None
        if inst is None or (inst.pending is not None and not inst.attributes):
            if args.allow_missing:
                out.diagnostics(
                    [
                        warning(
                            "no_instance",
                            "No such resource instance",
                            f"Resource instance {addr} was not found, but this is not an error because "
                            "-allow-missing was set.",
                        )
                    ]
                )
                return 0
            raise DiagnosticsError(_missing(addr, inst, state))
        if status is InstanceStatus.READY and not inst.tainted:
            raise DiagnosticsError(
                error(
                    "not_tainted",
                    "Resource instance is not tainted",
                    f"Resource instance {addr} is not currently tainted, and so it cannot be untainted.",
                )
            )
        assert state is not None
        write_state(backend, _with_status(state, addr, inst, status))
    if status is InstanceStatus.TAINTED:
        out.print(f"Resource instance {addr} has been marked as tainted.")
    else:
        out.print(f"Resource instance {addr} has been successfully untainted.")
    return 0


def _missing(addr: InstanceAddress, inst: InstanceState | None, state: State | None):
    if inst is None:
        detail = (
            f"There is no resource instance in the state with the address {addr}. If the resource "
            'configuration has just been added, you must run "vaultform apply" once to create the '
            "corresponding instance(s) before they can be tainted."
        )
        res = state.resource(addr.resource) if state is not None and addr.key is None else None
        if res is not None and res.instances:  # count or for_each: one instance is named with its key
            keys = ", ".join(str(InstanceAddress(addr.resource, i.index_key)) for i in res.instances)
            detail += f" {addr} has the instances {keys}: name one of them."
    else:  # only the intent of an interrupted create is recorded
        detail = (
            f"Resource instance {addr} does not currently have a remote object associated with it, so it "
            'cannot be tainted. Run "vaultform apply" to finish what the interrupted run started.'
        )
    return error("no_instance", "No such resource instance", detail)


def _with_status(state: State, addr: InstanceAddress, inst: InstanceState, status: InstanceStatus) -> State:
    return state.with_instance(addr, inst.with_status(status))
