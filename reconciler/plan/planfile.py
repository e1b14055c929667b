"""Saved plans: ``vaultform plan -out FILE`` writes one, ``vaultform apply FILE`` applies it.

A saved plan is one UTF-8 JSON document (mode 0600, written atomically)::

    {"format": "vaultform-plan", "format_version": 2, "mac": "<64 hex digits>",
     "vaultform_version": "0.1.0",
     "config_dir": "." | "DIR", "state_path": "PATH" | null,
     "options": {"targets": [...], "replace": [...]},
     "key_id": "<id of the plan key>",
     "plan": {"$record": "Plan", "fields": {...}}}

The whole file is authenticated with the plan key: ``mac`` is the HMAC of the file's exact
bytes with the 64 digits of ``mac`` itself written as zeros. Reading checks it before it
believes anything in the file, so any change - one byte anywhere, a grant's principal edited
in the JSON - is refused ("was changed after it was saved"), and a plan made with another key
says so. Every saved plan therefore needs the plan key, also one without secrets.

The plan is stored whole (changes with before/after/config/phases/dependencies, ordering
edges, data-source values, outputs, variables, diagnostics, state lineage and serial, the
configuration digest, the cloud and the options), with ``UNKNOWN`` and the other types JSON
lacks tagged (``reconciler.plan.planfile_codec``). Secrets are never in the clear: values at
sensitive paths, sensitive variables and sensitive outputs are sealed with AES-256-GCM under
the plan key (``reconciler.plan.planfile_crypto`` says where the key comes from).

``config_dir`` is the configuration's directory relative to the directory plan ran in (``.``
unless plan was given a DIR), and ``apply FILE`` finds it relative to the directory it runs in:
as terraform 1.11 applies a saved plan to the working directory's backend, workspace and state,
so a CI job that applies in another checkout than the plan job's (another ``_work/N/s``, a
restored artifact) writes its own state, not a path that only existed on the plan's runner.
``state_path`` is the ``-state`` the plan was made with, as given, kept only to say so when
apply is run without it: a saved plan does not choose the state file (terraform 1.11 neither
records ``-state`` in its plan), ``apply -state`` does.

``apply FILE`` refuses a plan that went stale (``stale_reasons``): the state's lineage is
another one (or, for a plan made before there was any state, another apply created it since),
its serial moved since the plan, or the configuration's files changed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers import validation
from providers.schema import Mode
from reconciler import __version__
from reconciler import providers_registry as registry
from reconciler.diagnostics import DiagnosticsError, error
from reconciler.plan.config_json import configuration_json
from reconciler.plan.model import OutputChange, Plan, ResourceChange
from reconciler.plan.planfile_codec import Decoder, Encoder, path_predicate
from reconciler.plan.planfile_crypto import MAC_HEX_DIGITS, PlanKey, load_key
from reconciler.plan.walk import PlanOptions
from state.encryption.envelope import is_envelope
from state.encryption.target import TargetEncryption
from state.errors import AddressError, StateError
from state.liveness import remove_dead_writers_files, writer_tag
from state.model import State, parse_address

if TYPE_CHECKING:  # loaded lazily below
    from reconciler.config.modules import ModuleTree

FORMAT = "vaultform-plan"
FORMAT_VERSION = 2
_MAC_PLACEHOLDER = "0" * MAC_HEX_DIGITS
_MAC_FIELD = re.compile(rb'"mac": "([0-9a-f]{%d})"' % MAC_HEX_DIGITS)
_HEADER_BYTES = 256  # ``mac`` is the third key, always within these


@dataclass(frozen=True)
class SavedPlan:
    plan: Plan
    config_dir: Path  # relative to the directory plan ran in (absolute in plans of older versions)
    state_path: str | None = None  # the -state the plan was made with, as given; None: the default
    options: PlanOptions = PlanOptions()
    config_fingerprint: str = ""  # ``config_fingerprint`` of the configuration when saved
    workspace: str = "default"  # the workspace selected when it was made (Terraform's plan.Backend.Workspace)


# --------------------------------------------------------------------------- secrets


def _schema_paths(type_name: str, mode: Mode, value: Any) -> set[tuple[Any, ...]]:
    rs = registry.resource_schema(mode, type_name)
    if rs is None or not isinstance(value, dict):
        return set()
    return validation.sensitive_value_paths(rs.block, value)


def _leaf_strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_leaf_strings(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_leaf_strings(v) for v in value)) if value else set()
    return set()


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


class _Secrets:
    """Which paths of which values are sensitive in one plan, and the secret texts."""

    def __init__(self, plan: Plan, sensitive_variables: frozenset[str] | None):
        self.plan = plan
        known = set(plan.sensitive_variables) | set(sensitive_variables or ())
        # nothing says which are sensitive: every variable is sealed
        self.variables = known if (known or sensitive_variables is not None) else set(plan.variables)
        self.by_address: dict[str, set[tuple[Any, ...]]] = {}
        for c in plan.changes:
            paths = {tuple(p) for p in c.hidden_paths}
            for value in (
                c.before,
                c.after,
                c.config,
                plan.refreshed.get(c.address),
                plan.data_values.get(c.address),
            ):
                paths |= _schema_paths(c.type, c.mode, value)
            self.by_address[c.address] = paths
        for address, value in list(plan.refreshed.items()) + list(plan.data_values.items()):
            if address not in self.by_address:
                mode, type_name = _mode_and_type(address)
                self.by_address[address] = _schema_paths(type_name, mode, value)
        for address, data_paths in plan.data_sensitive_paths.items():
            self.by_address.setdefault(address, set()).update(tuple(p) for p in data_paths)

    def paths(self, address: str) -> set[tuple[Any, ...]]:
        return self.by_address.get(address, set())

    def texts(self) -> frozenset[str]:
        out: set[str] = set()
        for name in self.variables:
            out |= _leaf_strings(self.plan.variables.get(name))
        for c in self.plan.changes:
            for value in (
                c.before,
                c.after,
                c.config,
                self.plan.refreshed.get(c.address),
                self.plan.data_values.get(c.address),
            ):
                for p in self.paths(c.address):
                    out |= _leaf_strings(_at(value, p))
        for o in self.plan.outputs:
            if o.sensitive:
                out |= _leaf_strings(o.before) | _leaf_strings(o.after)
        return frozenset(out)


def _mode_and_type(address: str) -> tuple[Mode, str]:
    try:
        resource = parse_address(address).resource
    except AddressError:
        return Mode.MANAGED, ""
    return resource.mode, resource.type


# --------------------------------------------------------------------------- the configuration


def config_fingerprint(tree: ModuleTree) -> str:
    """A digest of every configuration file's name (relative to the root) and content.

    Unlike the plan's ``config_digest`` it does not depend on how the directory was spelled
    (``plan -out`` run as ``plan cfg``, ``apply`` finding it as ``/abs/cfg``)."""
    root = Path(tree.directory).resolve()
    h = hashlib.sha256()
    for t in tree.walk():
        for f in sorted(t.module.files):
            path = Path(f).resolve()
            try:
                name = path.relative_to(root).as_posix()
            except ValueError:
                name = path.as_posix()
            h.update(name.encode() + b"\0")
            try:
                h.update(path.read_bytes())
            except OSError:
                h.update(b"\0missing")
            h.update(b"\0")
    return h.hexdigest()


def _fingerprint_of(config_dir: str | os.PathLike[str]) -> str:
    from reconciler.config.modules import load_module_tree

    tree, _diags = load_module_tree(config_dir)
    return config_fingerprint(tree)


# --------------------------------------------------------------------------- saving


class _LazyKey:
    def __init__(self) -> None:
        self.key: PlanKey | None = None

    def seal(self, data: bytes) -> str:
        if self.key is None:
            self.key = load_key(create=True)
        return self.key.seal(data)


def encode_plan(
    plan: Plan,
    *,
    sensitive_variables: frozenset[str] | None = None,
    sealer: Callable[[bytes], str] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The plan as a JSON-ready document, and the id of the key used (None: nothing sealed)."""
    lazy = _LazyKey()
    secrets = _Secrets(plan, sensitive_variables)
    enc = Encoder(sealer or lazy.seal, secrets.texts())

    def change(c: ResourceChange) -> dict[str, Any]:
        sensitive = path_predicate(secrets.paths(c.address))
        value = lambda v: enc.value(v, sensitive)  # noqa: E731
        return enc.record(c, {"before": value, "after": value, "config": value})

    def output(o: OutputChange) -> dict[str, Any]:
        whole = (lambda v: enc.seal(v) if v is not None else None) if o.sensitive else enc.value
        return enc.record(o, {"before": whole, "after": whole})

    def by_address(values: dict[str, Any]) -> dict[str, Any]:
        return {a: enc.value(v, path_predicate(secrets.paths(a))) for a, v in values.items()}

    special: dict[str, Callable[[Any], Any]] = {
        "changes": lambda cs: [change(c) for c in cs],
        "outputs": lambda os_: [output(o) for o in os_],
        "variables": lambda vs: {
            k: (enc.seal(v) if k in secrets.variables else enc.value(v)) for k, v in vs.items()
        },
        "refreshed": by_address,
        "data_values": by_address,
    }
    fields = {}
    for f in dataclasses.fields(plan):
        v = getattr(plan, f.name)
        fields[f.name] = special[f.name](v) if f.name in special else enc.value(v)
    key_id = lazy.key.id if lazy.key is not None else None
    return {"$record": "Plan", "fields": fields}, key_id


def save_plan(
    plan: Plan,
    path: str | os.PathLike[str],
    *,
    config_dir: str | os.PathLike[str],
    state_path: str | os.PathLike[str] | None = None,
    options: PlanOptions | None = None,
    sensitive_variables: frozenset[str] | None = None,
    tree: ModuleTree | None = None,
    encryption: TargetEncryption | None = None,
    workspace: str = "default",
) -> None:
    """Write ``plan`` to ``path`` - in OpenTofu's encrypted envelope when ``encryption`` (the
    plan target of an ``encryption`` block) says so; the authenticated document is what it seals. Variables named in ``sensitive_variables`` or the plan's own
    ``sensitive_variables`` are sealed (every variable, when neither names any); ``tree`` is
    the configuration's module tree (loaded from ``config_dir`` when not given)."""
    key = load_key(create=True)
    if plan.configuration is None and tree is not None:  # made here: only a saved plan shows it
        plan = dataclasses.replace(plan, configuration=configuration_json(tree))
    body, _ = encode_plan(plan, sensitive_variables=sensitive_variables, sealer=key.seal)
    options = options or PlanOptions(destroy=plan.destroy, refresh_only=plan.refresh_only)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "mac": _MAC_PLACEHOLDER,
        "vaultform_version": __version__,
        "config_dir": _from_working_directory(config_dir),
        "state_path": os.fspath(state_path) if state_path is not None else None,
        "workspace": workspace,
        "options": {"targets": list(options.targets), "replace": list(options.replace)},
        "config_fingerprint": config_fingerprint(tree) if tree is not None else _fingerprint_of(config_dir),
        "key_id": key.id,
        "plan": body,
    }
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=1) + "\n"
    data = _authenticated(text.encode("utf-8"), key)
    if encryption is not None:
        try:
            data = encryption.encrypt(data, source=os.fspath(path))
        except StateError as exc:
            raise DiagnosticsError(error("plan_file", exc.summary, exc.detail)) from None
    _write_atomically(os.fspath(path), data)


def _from_working_directory(config_dir: str | os.PathLike[str]) -> str:
    """``config_dir`` relative to the working directory, where apply looks for it again."""
    try:
        return os.path.relpath(os.path.realpath(config_dir), os.path.realpath(os.curdir))
    except ValueError:  # another drive: nothing relative leads there
        return os.path.abspath(config_dir)


def _authenticated(data: bytes, key: PlanKey) -> bytes:
    """``data`` (with the zero placeholder in ``mac``) with its authentication code filled in."""
    match = _MAC_FIELD.search(data, 0, _HEADER_BYTES)
    assert match is not None and match.group(1) == _MAC_PLACEHOLDER.encode()
    start, end = match.span(1)
    return data[:start] + key.mac(data).encode("ascii") + data[end:]


def _write_atomically(path: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    remove_dead_writers_files(directory, [".vaultform-plan."])  # what a killed plan -out left
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".vaultform-plan.{writer_tag()}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise DiagnosticsError(
            error(
                "plan_file",
                f"Cannot write the plan to {path}",
                f"{exc.strerror}. Choose a path in a directory you can write.",
            )
        ) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise DiagnosticsError(
            error(
                "plan_file",
                f"Cannot write the plan to {path}",
                f"{exc.strerror}. Choose a path in a directory you can write.",
            )
        ) from None


# --------------------------------------------------------------------------- loading


def is_plan_file(path: str | os.PathLike[str]) -> bool:
    """A cheap test: a regular file that starts like a saved plan."""
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return False
    head = head.lstrip()
    return head.startswith(b"{") and (
        f'"format": "{FORMAT}"'.encode() in head or head.startswith(b'{"meta":')
    )


def _authenticate(source: str, data: bytes) -> PlanKey:
    """The plan key, once ``data`` proved to be a plan file saved with it and unchanged since."""
    match = _MAC_FIELD.search(data, 0, _HEADER_BYTES)
    if match is None:
        raise _not_authentic(source, data)
    key = load_key(create=False)  # "No key to open the saved plan" when there is none
    start, end = match.span(1)
    if key.verify(data[:start] + _MAC_PLACEHOLDER.encode() + data[end:], match.group(1).decode()):
        return key
    claimed = re.search(rb'"key_id": "([0-9a-f]{16})"', data)
    if claimed is not None and claimed.group(1).decode() != key.id:
        raise DiagnosticsError(
            error(
                "plan_key",
                f"The saved plan {source} was made with another key, or changed after it was saved",
                f"It names key {claimed.group(1).decode()}; the key from {key.source} is {key.id}. Use the key "
                "that was in effect when the plan was saved (the same VAULTFORM_PLAN_KEY in the plan and the "
                "apply job), or run plan again. Nothing was applied.",
            )
        )
    raise DiagnosticsError(
        error(
            "plan_file_altered",
            f"The saved plan {source} was changed after it was saved",
            "Its content does not match its authentication code: someone or something edited the file, "
            "so what it would apply is not what was approved. Nothing was applied. Run plan again "
            "(`vaultform plan -out FILE`), review it, and apply the new file.",
        )
    )


def _not_authentic(source: str, data: bytes) -> DiagnosticsError:
    """Why a file without an authentication code is refused: not a plan, an old plan, or an edited one."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        doc, why = (
            None,
            (f"line {exc.lineno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else str(exc)),
        )
    else:
        why = ""
    if isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("format_version") != FORMAT_VERSION:
        return DiagnosticsError(
            error(
                "plan_file",
                f"{source} is a saved plan of format {doc.get('format_version')!r}",
                f"This vaultform reads format {FORMAT_VERSION} (authenticated with the plan key). Run plan "
                "again with this vaultform.",
            )
        )
    if f'"format": "{FORMAT}"'.encode() in data[:_HEADER_BYTES]:
        return DiagnosticsError(
            error(
                "plan_file_altered",
                f"The saved plan {source} was changed after it was saved",
                "Its authentication code is missing or damaged, so nothing in it can be trusted. Nothing was "
                "applied. Run plan again (`vaultform plan -out FILE`), review it, and apply the new file.",
            )
        )
    return DiagnosticsError(
        error(
            "plan_file",
            f"{source} is not a saved plan",
            (f"It is not JSON ({why}). " if why else "") + "Save a plan with `vaultform plan -out FILE`.",
        )
    )


def read_saved_plan(path: str | os.PathLike[str], encryption: TargetEncryption | None = None) -> SavedPlan:
    """The plan saved in ``path``, decrypted first with ``encryption`` (the plan target of the
    working directory's ``encryption`` block, or TF_ENCRYPTION) when it is encrypted."""
    source = os.fspath(path)
    try:
        data = Path(source).read_bytes()
    except FileNotFoundError:
        raise DiagnosticsError(
            error("plan_file", f"No saved plan at {source}", "Save one with `vaultform plan -out FILE`.")
        ) from None
    except OSError as exc:
        raise DiagnosticsError(error("plan_file", f"Cannot read the saved plan {source}", str(exc))) from None
    data = _decrypted(source, data, encryption)
    key = _authenticate(source, data)
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:  # authentic, so written by a broken vaultform
        raise DiagnosticsError(
            error("plan_file", f"{source} is not a saved plan", f"It is not JSON ({exc}).")
        ) from None
    if (
        not isinstance(doc, dict)
        or doc.get("format") != FORMAT
        or doc.get("format_version") != FORMAT_VERSION
    ):
        raise _not_authentic(source, data)
    dec = Decoder(lambda: key.open, source)
    body = doc.get("plan")
    if (
        not isinstance(body, dict)
        or body.get("$record") != "Plan"
        or not isinstance(body.get("fields"), dict)
    ):
        raise dec.fail("it holds no plan.")
    fields = body["fields"]
    known = {f.name for f in dataclasses.fields(Plan)}
    if set(fields) - known:
        raise dec.fail(f"Plan has no field(s) {', '.join(sorted(set(fields) - known))}.")
    values = {k: dec.value(v) for k, v in fields.items()}
    try:
        plan = Plan(**values)
    except TypeError as exc:
        raise dec.fail(str(exc)) from None
    if not all(isinstance(c, ResourceChange) for c in plan.changes) or not all(
        isinstance(o, OutputChange) for o in plan.outputs
    ):
        raise dec.fail("its changes are not resource changes.")
    options = doc.get("options") or {}
    return SavedPlan(
        plan=plan,
        config_dir=Path(str(doc.get("config_dir") or ".")),
        state_path=doc.get("state_path"),
        options=PlanOptions(
            destroy=plan.destroy,
            refresh_only=plan.refresh_only,
            targets=tuple(options.get("targets") or ()),
            replace=tuple(options.get("replace") or ()),
        ),
        config_fingerprint=str(doc.get("config_fingerprint") or ""),
        workspace=str(doc.get("workspace") or "default"),
    )


def _decrypted(source: str, data: bytes, encryption: TargetEncryption | None) -> bytes:
    if encryption is not None:
        try:
            return encryption.decrypt(data, source=source)
        except StateError as exc:
            raise DiagnosticsError(error("plan_file", exc.summary, exc.detail)) from None
    if is_envelope(data):
        raise DiagnosticsError(
            error(
                "plan_file",
                f"The saved plan {source} is encrypted, and no plan encryption is set up here",
                "Run the command in the configuration's directory (its terraform { encryption { plan { ... } } } "
                "block opens it), or set TF_ENCRYPTION. Nothing was applied.",
            )
        )
    return data


def load_plan(path: str | os.PathLike[str]) -> tuple[Plan, Path]:
    saved = read_saved_plan(path)
    return saved.plan, saved.config_dir


# --------------------------------------------------------------------------- staleness


def stale_reasons(
    saved: SavedPlan, *, state: State, state_exists: bool, fingerprint: str, cloud: str | None = None
) -> list[str]:
    """Why the saved plan may no longer be applied to ``state``, the configuration whose
    ``config_fingerprint`` is ``fingerprint`` and the cloud ``cloud``; [] when it is fresh."""
    plan = saved.plan
    reasons = []
    if not state_exists and plan.state_serial != 0:
        # terraform 1.11: "Saved plan does not match the given state" (another lineage)
        reasons.append(
            f"there is no state where it would be applied, and the plan was made for one (serial "
            f"{plan.state_serial})"
        )
    elif state_exists or plan.state_serial != 0:
        if plan.state_serial == 0 and state_exists and state.lineage != plan.state_lineage:
            # planned when there was no state yet; another plan's apply has created one since
            reasons.append("the state was created by another apply after this plan was made")
        elif state.lineage != plan.state_lineage:
            reasons.append(
                f"the state is another one than the plan was made for (lineage {state.lineage}, "
                f"the plan's {plan.state_lineage})"
            )
        elif state.serial != plan.state_serial:
            reasons.append(
                f"the state changed since the plan was made (serial {state.serial}, "
                f"the plan's {plan.state_serial}): an apply - of this plan or another run - wrote it"
            )
    if fingerprint != saved.config_fingerprint:
        reasons.append("the configuration's files changed since the plan was made")
    if cloud is not None and plan.cloud and cloud != plan.cloud:
        reasons.append(f"the plan was made for {plan.cloud}, and this run targets {cloud}")
    return reasons
