"""What `vaultform cloud show TOPIC` prints: plain data plus a readable text rendering."""

from __future__ import annotations

from dataclasses import asdict

from providers.azurelocal import datapath, keystore
from providers.azurelocal.store import Kind

SHOW_TOPICS = ("inventory", "activity", "jobs", "recovery-points", "keys", "faults")

_INVENTORY = (
    ("resource groups", Kind.RESOURCE_GROUP),
    ("virtual machines", Kind.VM),
    ("disks", Kind.DISK),
    ("managed identities", Kind.IDENTITY),
    ("key vaults", Kind.KEY_VAULT),
    ("Recovery Services vaults", Kind.RS_VAULT),
    ("backup policies", Kind.BACKUP_POLICY),
    ("protected items", Kind.PROTECTED_ITEM),
    ("disk encryption sets", Kind.DISK_ENCRYPTION_SET),
    ("role assignments", Kind.ROLE_ASSIGNMENT),
)


def _public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "_emulator"}


def _inventory(env) -> tuple[dict, str]:
    data, lines = (
        {},
        [
            f"tenant {env.tenant_id}, subscription {env.subscription_id}, deployer {env.deployer_object_id}",
            f"clock {env.now_iso()}",
        ],
    )
    for title, kind in _INVENTORY:
        docs = env.store.list(kind)
        data[str(kind)] = [_public(d) for d in docs]
        if docs:
            lines.append(f"\n{title} ({len(docs)}):")
            lines += [f"  {d.get('name', '')}  {d['id']}" for d in docs]
    return data, "\n".join(lines)


def _activity(env) -> tuple[list, str]:
    rows = env.activity()
    text = [
        f"{r['at']}  {r['status']:<9} {r['operation']}  {r['resource_id']}"
        + (f"  [{r['detail']}]" if r["detail"] else "")
        for r in rows
    ]
    return rows, "\n".join(text) or "no activity yet"


def _jobs(env) -> tuple[list, str]:
    jobs = sorted(env.store.list(Kind.JOB), key=lambda j: j["properties"]["startTime"])
    lines = []
    for job in jobs:
        p = job["properties"]
        errors = "; ".join(f"{e['errorCode']}: {e['errorString']}" for e in p.get("errorDetails") or [])
        lines.append(
            f"{p['startTime']}  {p['status']:<10} {p['operation']:<20} {p.get('entityFriendlyName', '')}"
            f"  {job['name']}" + (f"\n    {errors}" if errors else "")
        )
    return [_public(j) for j in jobs], "\n".join(lines) or "no jobs yet"


def _recovery_points(env) -> tuple[list, str]:
    rps = sorted(env.store.list(Kind.RECOVERY_POINT), key=lambda r: r["properties"]["recoveryPointTime"])
    data, lines = [], []
    for rp in rps:
        extra = rp["_emulator"]
        data.append(
            {
                **_public(rp),
                "key_version_id": extra["key_version_id"],
                "disks": [{k: d[k] for k in ("disk_id", "size", "digest")} for d in extra["disks"]],
            }
        )
        lines.append(
            f"{rp['properties']['recoveryPointTime']}  {rp['name']}  wrapped by {extra['key_version_id']}"
            f"\n    {rp['id']}"
        )
    return data, "\n".join(lines) or "no recovery points yet"


def _keys(env) -> tuple[list, str]:
    data, lines = [], []
    for vault in env.store.list(Kind.KEY_VAULT):
        for deleted in (False, True):
            for latest in keystore.list_keys(env, vault["name"], deleted=deleted):
                for info in keystore.list_versions(env, vault["name"], latest.name, include_deleted=deleted):
                    row = {
                        "id": info.versioned_id,
                        "kty": info.kty,
                        "size": info.size,
                        "enabled": info.enabled,
                        "expires": info.expires,
                        "created": info.created,
                        "deleted": deleted,
                    }
                    data.append(row)
                    state = "deleted" if deleted else ("enabled" if info.enabled else "DISABLED")
                    exp = f" expires {info.expires.isoformat()}" if info.expires else ""
                    lines.append(f"{info.versioned_id}  {info.kty} {info.size or info.curve}  {state}{exp}")
    return data, "\n".join(lines) or "no keys yet"


def _faults(env) -> tuple[dict, str]:
    data = {**asdict(env.faults), datapath.ROTATION_DELAY_KEY: datapath.rotation_delay(env)}
    return data, "\n".join(f"{k} = {v}" for k, v in data.items())


_TOPICS = {
    "inventory": _inventory,
    "activity": _activity,
    "jobs": _jobs,
    "recovery-points": _recovery_points,
    "keys": _keys,
    "faults": _faults,
}


def show(env, topic: str):
    return _TOPICS[topic](env)
