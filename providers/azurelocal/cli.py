"""``vaultform cloud``: operate the local Azure from a terminal.

``register(subparsers)`` adds the command group to vaultform's CLI (flags take one dash, two work
too). Each subcommand's ``run_<name>(args, out=None)`` returns an exit code; user errors print
``Error: ...`` and return 1, never a traceback. The database is ``-db PATH``, else
``$VAULTFORM_LOCAL_AZURE``, else ``~/.vaultform/local-azure.db``.

Out-of-band changes (disable a key version, remove a grant, disable an identity, deny network
access) act on the stored objects directly, as a person in the portal would, so a later plan,
drift check or backup meets them.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sqlite3
import sys
from pathlib import Path

from providers.azurelocal import datapath, diskdata, keystore
from providers.azurelocal.cli_show import SHOW_TOPICS, show
from providers.azurelocal.http import AzureError
from providers.azurelocal.store import Kind, default_path, is_database_file

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


class CliError(Exception):
    """A user error: printed as ``Error: ...``, exit code 1."""


def parse_duration(text: str) -> float:
    """'50ms', '10s', '90m', '1h', '2d' or plain seconds -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*", text or "")
    if not m:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration; use e.g. 50ms, 10s, 30m, 1h or 2d")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def _flag(parser, name: str, **kwargs) -> None:
    """``-name`` and ``--name``; a switch also takes ``-name=true`` and ``-name=false``, as every
    vaultform switch does (the parser rewrites ``-name=false`` to its hidden false twin)."""
    kwargs.setdefault("dest", name.replace("-", "_"))
    parser.add_argument(f"-{name}", f"--{name}", **kwargs)
    switches = getattr(parser, "bool_flags", None)
    if kwargs.get("action") == "store_true" and switches is not None:
        parser.add_argument(
            f"--{name}:false", dest=kwargs["dest"], action="store_false", help=argparse.SUPPRESS
        )
        switches.add(name)


# --------------------------------------------------------------------------- plumbing


class _Out:
    def __init__(self, out=None) -> None:
        self.out = getattr(out, "out", None) or sys.stdout
        self.err = getattr(out, "err", None) or sys.stderr

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def error(self, text: str) -> int:
        self.err.write(f"Error: {text}\n")
        self.err.flush()
        return 1


def _db_path(args) -> Path:
    return Path(args.db).expanduser() if getattr(args, "db", None) else default_path()


def _env(args):
    from providers.azurelocal.seam import LocalAzureUnavailable, open_emulator

    db = _db_path(args)
    try:
        return open_emulator(db)
    except LocalAzureUnavailable as exc:
        hint = (
            "run `vaultform cloud reset` to start a new local Azure there, or point"
            if exc.resettable
            else "point"
        )
        raise CliError(
            f"the local Azure's database {db} can't be used ({exc.reason}): {hint} -db (or "
            "VAULTFORM_LOCAL_AZURE) at another file; nothing was changed there"
        ) from exc


def _command(fn):
    """Wrap a subcommand: user errors become ``Error: ...`` and exit 1."""

    def run(args, out=None) -> int:
        o = _Out(out)
        try:
            return int(fn(args, o) or 0)
        except CliError as exc:
            return o.error(str(exc))
        except AzureError as exc:
            return o.error(f"{exc.code}: {exc.message}")
        except (ValueError, KeyError, OSError) as exc:
            return o.error(str(exc).strip("'\""))
        except sqlite3.Error as exc:
            return o.error(f"the local Azure database {_db_path(args)} can't be used: {exc}")

    run.__name__ = f"run_{fn.__name__.removeprefix('_')}"
    run.__doc__ = fn.__doc__
    return run


def _emit(o: _Out, args, data, text: str) -> None:
    o.print(json.dumps(data, indent=2, sort_keys=True, default=str) if getattr(args, "json", False) else text)


# --------------------------------------------------------------------------- lookups


# the `vaultform cloud show` listing that names objects of a kind (default: the inventory)
_LISTING = {Kind.RECOVERY_POINT: "recovery-points"}


def _find_by_name(env, kind: Kind, name_or_id: str, what: str) -> dict:
    if name_or_id.startswith("/"):
        doc = env.store.get(kind, name_or_id)
        if doc is None:
            raise CliError(f"no {what} with id {name_or_id}")
        return doc
    found = [d for d in env.store.list(kind) if d.get("name", "").lower() == name_or_id.lower()]
    if not found:
        listing = _LISTING.get(kind, "inventory")
        raise CliError(f"no {what} named '{name_or_id}' (see `vaultform cloud show {listing}`)")
    if len(found) > 1:
        raise CliError(
            f"several {what}s are named '{name_or_id}'; give the full id:\n  "
            + "\n  ".join(d["id"] for d in found)
        )
    return found[0]


def _item(env, vault: dict, ref: str) -> dict:
    items = env.store.list(Kind.PROTECTED_ITEM, vault["id"] + "/")
    for item in items:
        props = item.get("properties") or {}
        names = {item["id"].lower(), item.get("name", "").lower(), str(props.get("friendlyName", "")).lower()}
        if ref.lower() in names:
            return item
    raise CliError(
        f"vault '{vault['name']}' has no protected item '{ref}'"
        + (
            f"; it has: {', '.join(i['name'] for i in items)}"
            if items
            else "; protect a VM first, or use -vm NAME to back a VM up directly"
        )
    )


def _job_text(job: dict) -> str:
    props = job["properties"]
    lines = [
        f"{props['operation']} job {job['name']}: {props['status']} ({props.get('entityFriendlyName', '')})"
    ]
    for err in props.get("errorDetails") or []:
        lines.append(f"  {err['errorCode']}: {err['errorString']}")
        lines += [f"  hint: {r}" for r in err.get("recommendations") or []]
    bag = (props.get("extendedInfo") or {}).get("propertyBag") or {}
    for name in ("Recovery point", "Data key wrapped by"):
        if bag.get(name):
            lines.append(f"  {name.lower()}: {bag[name]}")
    for disk in job.get("restored_disk_ids") or []:
        lines.append(f"  restored disk: {disk}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- subcommands


def _serve(args, o: _Out) -> int:
    """Serve the local Azure over HTTPS on 127.0.0.1 until interrupted."""
    import threading

    from providers.azurelocal.server import LocalAzureServer

    env = _env(args)
    server = LocalAzureServer(env, port=args.port, verbose=args.verbose).start()
    o.print(server.banner(f" -db {_db_path(args)}" if getattr(args, "db", None) else ""))
    o.print("\nPress Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        o.print("stopping")
    finally:
        server.stop()
    return 0


def _token(args, o: _Out) -> int:
    """Print an access token this local Azure's ``cloud serve`` accepts (signed with its key)."""
    from providers.azurelocal import tokens

    env = _env(args)
    object_id = args.object_id or env.deployer_object_id
    if env.principal(object_id) is None:
        raise CliError(f"no principal {object_id} in the local Azure; see `vaultform cloud show inventory`")
    issuer = tokens.Issuer(env)
    audience = tokens.audience_of(args.resource)
    token, expires_on = issuer.issue(object_id, audience, lifetime=int(args.lifetime))
    if args.json:
        # the shape of `az account get-access-token` (so scripts written for it work unchanged)
        from datetime import UTC, datetime

        when = datetime.fromtimestamp(expires_on, UTC)
        o.print(
            json.dumps(
                {
                    "accessToken": token,
                    "expiresOn": when.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "expires_on": expires_on,
                    "subscription": env.subscription_id,
                    "tenant": env.tenant_id,
                    "tokenType": "Bearer",
                },
                indent=2,
            )
        )
    else:
        o.print(token)
    return 0


def _reset(args, o: _Out) -> int:
    """Delete the local Azure's database, master key and certificates."""
    db = _db_path(args)
    if db.is_dir() or (db.exists() and not is_database_file(db)):
        # a state file or a directory named by mistake: reset deletes only what a local Azure wrote
        kind = "a directory" if db.is_dir() else "not a local Azure database"
        raise CliError(
            f"{db} is {kind}: reset deletes only a local Azure's own files, and nothing was deleted. "
            "Point VAULTFORM_LOCAL_AZURE (or -db) at the local Azure's database file."
        )
    paths = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}.key"), Path(f"{db}.tls")]
    present = [p for p in paths if p.exists()]
    if not present:
        o.print(f"nothing to reset at {db}")
        return 0
    if not args.force:
        o.print(f"This deletes the local Azure at {db}: every object, key and recovery point.")
        try:
            answer = input("Type 'yes' to continue: ")
        except EOFError:
            answer = ""
        if answer.strip() != "yes":
            raise CliError("reset cancelled (pass -force to skip the question)")
    for path in present:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    o.print(f"deleted {len(present)} file(s) of the local Azure at {db}")
    return 0


def _show(args, o: _Out) -> int:
    """Print inventory, activity, jobs, recovery points, keys or fault settings."""
    data, text = show(_env(args), args.topic)
    _emit(o, args, data, text)
    return 0


def _item_protecting(env, vault: dict, vm_id: str) -> dict | None:
    from providers.azurelocal.services import protected_items  # imported here: app imports services

    for item in env.store.list(Kind.PROTECTED_ITEM, vault["id"] + "/"):
        source = str((item.get("properties") or {}).get("sourceResourceId") or "")
        if source.lower() == vm_id.lower() and not protected_items.soft_deleted(item):
            return item
    return None


def _backup(args, o: _Out) -> int:
    """Run a backup job now."""
    env = _env(args)
    vault = _find_by_name(env, Kind.RS_VAULT, args.vault, "Recovery Services vault")
    if args.vm:
        vm = diskdata.find_vm(env, args.vm)
        if vm is None:
            raise CliError(f"no single virtual machine named '{args.vm}'")
        # a VM the vault protects is backed up as its protected item: Azure's on-demand backup is an
        # action of the item (REST spec recoveryservicesbackup, Backups_Trigger: POST
        # .../protectedItems/{name}/backup), so its recovery points are the item's and go with it
        item = _item_protecting(env, vault, vm["id"])
        if item is not None:
            job = datapath.run_backup(env, vault["id"], item["id"], env.deployer_object_id)
        else:
            job = datapath.run_backup(env, vault["id"], None, env.deployer_object_id, vm_id=vm["id"])
    elif args.item:
        item = _item(env, vault, args.item)
        job = datapath.run_backup(env, vault["id"], item["id"], env.deployer_object_id)
    else:
        raise CliError("name the protected ITEM to back up, or a VM with -vm NAME")
    _emit(o, args, job, _job_text(job))
    return 0 if job["properties"]["status"] == "Completed" else 1


def _restore(args, o: _Out) -> int:
    """Restore a recovery point's disks."""
    env = _env(args)
    rp = _find_by_name(env, Kind.RECOVERY_POINT, args.recovery_point, "recovery point")
    des = (
        _find_by_name(env, Kind.DISK_ENCRYPTION_SET, args.des, "disk encryption set")["id"]
        if args.des
        else None
    )
    job = datapath.restore(
        env,
        rp["_emulator"]["vault_id"],
        rp["id"],
        des_id=des,
        target=args.target,
        principal_id=env.deployer_object_id,
    )
    _emit(o, args, job, _job_text(job))
    return 0 if job["properties"]["status"] == "Completed" else 1


def _configure(args, o: _Out) -> int:
    """Change fault injection and delays (persisted for every process using the database)."""
    env = _env(args)
    changes = {}
    if args.reset:
        env.reset_faults()
    for flag, field, scale in (
        ("latency", "latency_ms", 1000.0),
        ("grant_delay", "grant_propagation_seconds", 1.0),
        ("principal_delay", "principal_propagation_seconds", 1.0),
        ("retry_after", "retry_after_seconds", 1.0),
    ):
        value = getattr(args, flag)
        if value is not None:
            changes[field] = int(round(value * scale)) if field == "latency_ms" else value
    for flag, field in (
        ("throttle_rate", "throttle_rate"),
        ("transient_rate", "transient_error_rate"),
        ("seed", "seed"),
    ):
        if getattr(args, flag) is not None:
            changes[field] = getattr(args, flag)
    settings = env.configure_faults(**changes) if changes else env.faults
    if args.rotation_delay is not None:
        datapath.set_rotation_delay(env, args.rotation_delay)
    data, text = show(env, "faults")
    _emit(o, args, data, text)
    return 0 if settings is not None else 1


def _advance(args, o: _Out) -> int:
    """Move the emulator clock forward."""
    env = _env(args)
    now = env.clock.advance(args.duration)
    o.print(f"the local Azure's clock now reads {now.isoformat()}")
    return 0


def _set_key_enabled(args, o: _Out, enabled: bool) -> int:
    env = _env(args)
    info = keystore.get_key(env, args.key_id)
    if info is None:
        raise CliError(
            f"no key version '{args.key_id}' (give https://<vault>.vault.azure.net/keys/<name>/<version>)"
        )
    keystore.update_version(
        env, info, enabled=enabled, principal_id=env.deployer_object_id, operation="KeyUpdate (out of band)"
    )
    ref = keystore.parse_key_id(args.key_id)
    note = "" if ref is not None and ref.version else " (the latest version: the id had none)"
    o.print(f"key version {info.versioned_id} is now {'enabled' if enabled else 'disabled'}{note}")
    return 0


def _disable_key(args, o: _Out) -> int:
    """Disable a key version out of band."""
    return _set_key_enabled(args, o, False)


def _enable_key(args, o: _Out) -> int:
    """Enable a key version out of band."""
    return _set_key_enabled(args, o, True)


def _rotate_key(args, o: _Out) -> int:
    """Rotate a key now (a new version), as a person could in the portal."""
    from providers.azurelocal import keyrotation

    env = _env(args)
    ref = keystore.parse_key_id(args.key_id)
    if ref is None:
        raise CliError(f"'{args.key_id}' is not a key id (https://<vault>.vault.azure.net/keys/<name>)")
    info = keyrotation.rotate_key(
        env,
        ref.vault_name,
        ref.name,
        principal_id=env.deployer_object_id,
        operation="KeyRotate (out of band)",
    )
    o.print(f"new key version {info.versioned_id}")
    return 0


def _remove_access_policy(args, o: _Out) -> int:
    """Remove a principal's access policy from a key vault out of band."""
    from providers.azurelocal.cli_changes import remove_access_policy

    o.print(remove_access_policy(_env(args), args.key_vault, args.object_id))
    return 0


def _remove_role_assignment(args, o: _Out) -> int:
    """Delete a role assignment out of band."""
    from providers.azurelocal.cli_changes import remove_role_assignment

    o.print(remove_role_assignment(_env(args), args.id))
    return 0


def _disable_identity(args, o: _Out) -> int:
    """Turn off the managed identity a Recovery Services vault uses for its key."""
    from providers.azurelocal.cli_changes import disable_identity

    o.print(disable_identity(_env(args), args.vault))
    return 0


def _set_network_rules(args, o: _Out) -> int:
    """Change a key vault's network rules out of band."""
    from providers.azurelocal.cli_changes import set_network_rules

    o.print(set_network_rules(_env(args), args.key_vault, args.default_action, args.bypass, args.ip_rule))
    return 0


def _create_des(args, o: _Out) -> int:
    """Create a disk encryption set for restores."""
    env = _env(args)
    des = diskdata.create_disk_encryption_set(
        env, args.resource_group, args.name, args.key_id, principal_id=env.deployer_object_id
    )
    principal = des["identity"]["principalId"]
    _emit(
        o,
        args,
        des,
        f"disk encryption set {des['id']}\n  identity principal {principal}: grant it Get, Wrap Key "
        f"and Unwrap Key on the key before restoring with it",
    )
    return 0


def _touch(args, o: _Out) -> int:
    """Change a VM's disks (or one disk) so the next backup differs."""
    env = _env(args)
    vm = diskdata.find_vm(env, args.target)
    disks = diskdata.vm_disk_ids(vm) if vm else [_find_by_name(env, Kind.DISK, args.target, "disk")["id"]]
    for disk in disks:
        o.print(f"{disk}: generation {diskdata.touch(env, disk)}")
    return 0


# --------------------------------------------------------------------------- registration

run_serve, run_reset, run_show = _command(_serve), _command(_reset), _command(_show)
run_token = _command(_token)
run_backup, run_restore, run_configure = _command(_backup), _command(_restore), _command(_configure)
run_advance, run_disable_key, run_enable_key = (
    _command(_advance),
    _command(_disable_key),
    _command(_enable_key),
)
run_remove_access_policy, run_rotate_key = _command(_remove_access_policy), _command(_rotate_key)
run_remove_role_assignment = _command(_remove_role_assignment)
run_disable_identity, run_set_network_rules = _command(_disable_identity), _command(_set_network_rules)
run_create_des, run_touch = _command(_create_des), _command(_touch)


def register(subparsers) -> None:
    cloud = subparsers.add_parser(
        "cloud",
        help="Operate the local Azure: serve, inspect, out-of-band changes",
        description="Operate the embedded local Azure.",
    )
    sub = cloud.add_subparsers(dest="cloud_command", metavar="SUBCOMMAND")

    def add(name: str, func, help_text: str, *, json_flag: bool = False):
        p = sub.add_parser(name, help=help_text, description=help_text)
        _flag(
            p,
            "db",
            metavar="PATH",
            help="database file (default: $VAULTFORM_LOCAL_AZURE or ~/.vaultform/local-azure.db)",
        )
        if json_flag:
            _flag(p, "json", action="store_true", help="machine-readable output")
        # accepted as every vaultform command accepts it (scripts pass it everywhere); this output
        # has no colour to take out
        _flag(p, "no-color", action="store_true", help="no colour (the output has none)")
        p.set_defaults(func=func)
        return p

    p = add("serve", run_serve, "Serve ARM and every key vault over HTTPS on 127.0.0.1")
    _flag(p, "port", type=int, default=0, help="ARM port (default: a free port)")
    _flag(p, "verbose", action="store_true", help="log every request")
    p = add("token", run_token, "Print an access token `cloud serve` accepts (for scripts)", json_flag=True)
    _flag(
        p,
        "resource",
        default="https://management.azure.com",
        metavar="URI",
        help="audience: https://management.azure.com (default) or https://vault.azure.net",
    )
    _flag(p, "object-id", metavar="OBJECT_ID", help="act as this principal (default: the deployer)")
    _flag(p, "lifetime", type=parse_duration, default=3600, metavar="DURATION", help="validity (default 1h)")
    p = add("reset", run_reset, "Delete the local Azure's database (asks first)")
    _flag(p, "force", action="store_true", help="don't ask")
    p = add(
        "show", run_show, "Show inventory, activity, jobs, recovery points, keys or faults", json_flag=True
    )
    p.add_argument("topic", nargs="?", default="inventory", choices=SHOW_TOPICS)
    p = add("backup", run_backup, "Run a backup job now", json_flag=True)
    p.add_argument("vault", metavar="VAULT", help="Recovery Services vault name or id")
    p.add_argument("item", metavar="ITEM", nargs="?", help="protected item name or id")
    _flag(p, "vm", metavar="NAME", help="back up this virtual machine directly")
    p = add("restore", run_restore, "Restore a recovery point's disks", json_flag=True)
    p.add_argument("recovery_point", metavar="RECOVERY_POINT", help="recovery point name or id")
    _flag(p, "des", metavar="ID", help="disk encryption set (name or id) for the restored disks")
    _flag(p, "target", metavar="RG", help="resource group for the restored disks (default: the VM's)")
    p = add(
        "configure", run_configure, "Set latency, throttling, transient errors and delays", json_flag=True
    )
    _flag(p, "latency", type=parse_duration, metavar="DURATION", help="added to every call, e.g. 50ms")
    _flag(p, "throttle-rate", type=float, metavar="RATE", help="share of calls answered 429 (0..1)")
    _flag(p, "transient-rate", type=float, metavar="RATE", help="share of calls answered 503 (0..1)")
    _flag(p, "retry-after", type=parse_duration, metavar="DURATION", help="Retry-After on 429/503")
    _flag(p, "grant-delay", type=parse_duration, metavar="DURATION", help="grant propagation delay, e.g. 10s")
    _flag(
        p, "principal-delay", type=parse_duration, metavar="DURATION", help="new principal propagation delay"
    )
    _flag(
        p,
        "rotation-delay",
        type=parse_duration,
        metavar="DURATION",
        help="how long a new key version takes to reach a vault with a versionless key id (default 1h)",
    )
    _flag(p, "seed", type=int, help="seed of the fault dice")
    _flag(p, "reset", action="store_true", help="turn every fault off first")
    p = add("advance", run_advance, "Move the local Azure's clock forward")
    p.add_argument("duration", type=parse_duration, metavar="DURATION", help="e.g. 90m, 1h, 2d")
    for name, func, verb in (
        ("disable-key", run_disable_key, "Disable"),
        ("enable-key", run_enable_key, "Enable"),
    ):
        p = add(name, func, f"{verb} a key version out of band")
        p.add_argument("key_id", metavar="KEY_ID", help="versioned key id")
    p = add("rotate-key", run_rotate_key, "Rotate a key now (a new version)")
    p.add_argument("key_id", metavar="KEY_ID", help="key id, with or without a version")
    p = add(
        "remove-access-policy",
        run_remove_access_policy,
        "Remove a principal's access policy from a key vault",
    )
    p.add_argument("key_vault", metavar="KEY_VAULT", help="key vault name or id")
    p.add_argument("object_id", metavar="OBJECT_ID")
    p = add("remove-role-assignment", run_remove_role_assignment, "Delete a role assignment")
    p.add_argument("id", metavar="ID", help="role assignment id or name (GUID)")
    p = add("disable-identity", run_disable_identity, "Turn off the identity a vault uses for its key")
    p.add_argument("vault", metavar="VAULT", help="Recovery Services vault name or id")
    p = add("set-network-rules", run_set_network_rules, "Change a key vault's network rules")
    p.add_argument("key_vault", metavar="KEY_VAULT", help="key vault name or id")
    _flag(p, "default-action", choices=["Allow", "Deny"], required=True)
    _flag(p, "bypass", choices=["AzureServices", "None"], default=None)
    _flag(
        p, "ip-rule", action="append", metavar="CIDR", default=None, help="allowed address range (repeatable)"
    )
    p = add("create-des", run_create_des, "Create a disk encryption set (for restores)", json_flag=True)
    p.add_argument("name", metavar="NAME")
    _flag(p, "key-id", required=True, metavar="KEY_ID", help="key id (versionless: follows rotation)")
    _flag(p, "resource-group", default="rg-workloads", metavar="RG")
    p = add("touch", run_touch, "Change a VM's disks so the next backup differs")
    p.add_argument("target", metavar="VM_OR_DISK")
    cloud.set_defaults(
        func=lambda args, out=None: _Out(out).error("name a subcommand: " + ", ".join(sorted(sub.choices)))
    )
