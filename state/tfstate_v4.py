"""Terraform's own state format (``"version": 4``), read into vaultform's state.

A team with an existing ``terraform.tfstate`` points vaultform at it: the
document is translated into vaultform's own layout (``format_version`` "1") and
validated by the same reader as a vaultform state, so every problem names its
place in the file.

What differs from vaultform's layout, as terraform 1.11 writes it (compared
side by side with the binary):

- a provider is a full address, ``provider["registry.terraform.io/hashicorp/azurerm"]``,
  ``provider["terraform.io/builtin/terraform"]``, optionally ``.alias`` and a module prefix;
- ``sensitive_attributes`` are paths of steps ``{"type": "get_attr", "value": "name"}``
  and ``{"type": "index", "value": {"value": 0, "type": "number"}}``;
- terraform_data's ``input``, ``output`` and ``triggers_replace`` are dynamic values,
  stored as ``{"value": ..., "type": ...}``;
- ``index_key``, ``status``, ``dependencies``, ``create_before_destroy`` are left out
  when empty; ``check_results`` may be ``null``.

A state vaultform writes carries ``vaultform_version`` after ``check_results``
(terraform 1.11 ignores a top-level key it does not know; checked with the binary).
Only a state without it, one Terraform wrote, is held to the providers vaultform
ships: objects of any other provider are refused by type and address.

Instance ``private`` is opaque base64 to Terraform. vaultform keeps its own facts
there (a pending operation, a remembered ``prevent_destroy``, its providers' facts the
cloud doesn't keep, such as a vault's previous keys) as base64 of a JSON
object with a ``"vaultform"`` member; a provider's private bytes are not ours and
are not read.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from typing import Any

from state.errors import StateError
from state.model import format_key, value_type

__all__ = [
    "TERRAFORM_STATE_VERSION",
    "WRITTEN_TERRAFORM_VERSION",
    "from_vaultform_document",
    "is_terraform_state",
    "to_vaultform_document",
]

TERRAFORM_STATE_VERSION = 4
# The terraform_version written: terraform refuses a state written by a newer
# terraform_version than itself (checked with terraform 1.11.4), so this is the
# oldest 1.11 release; a later terraform rewrites it on its next write.
WRITTEN_TERRAFORM_VERSION = "1.11.0"

# Terraform's provider source address -> vaultform's local provider name. Only the
# providers vaultform ships: a state using any other provider is refused, naming what.
PROVIDER_SOURCES = {
    "registry.terraform.io/hashicorp/azurerm": "azurerm",
    "terraform.io/builtin/terraform": "terraform",
    "registry.terraform.io/hashicorp/random": "random",
    "registry.terraform.io/hashicorp/time": "time",
}

# Attributes Terraform stores as dynamic values ({"value": ..., "type": ...}), by
# resource type. terraform_data: input, output and triggers_replace are "dynamic" in
# its schema (checked with terraform 1.11: `terraform_data` state shows the wrapper).
DYNAMIC_ATTRIBUTES = {"terraform_data": ("input", "output", "triggers_replace")}

# where the writer puts a provider it has no source for ("hashicorp" is Terraform's default
# namespace, so `terraform` finds it the same way)
_OWN_SOURCE_PREFIX = "registry.terraform.io/hashicorp/"

_PROVIDER = re.compile(
    r'(?:module\.[^"]*?\.)?provider\["(?P<source>[^"]+)"\](?:\.(?P<alias>[A-Za-z_][\w-]*))?'
)


def is_terraform_state(doc: Any) -> bool:
    return (
        type(doc) is dict and "format_version" not in doc and ("version" in doc or "terraform_version" in doc)
    )


def _fail(source: str, where: str, problem: str, hint: str = "") -> StateError:
    return StateError(source, problem, where=where, hint=hint)


# a JSON value's kind as the state reader names it
_KINDS: dict[type, str] = {
    str: "a string",
    int: "a whole number",
    float: "a number with a fraction",
    bool: "true or false",
    dict: "an object",
    list: "a list",
}


def _wrong_type(source: str, where: str, wanted: str, value: Any) -> StateError:
    return _fail(source, where, f"expected {wanted}, found {_KINDS.get(type(value), type(value).__name__)}")


def _list_or_null(value: Any, source: str, where: str) -> list[Any]:
    """A list field of Terraform's state: null (or left out) is an empty list, as terraform
    reads it; any other kind of value is refused, an empty object, string, 0 or false too, as
    terraform 1.11 refuses them ("has invalid value object")."""
    if value is None:
        return []
    if type(value) is not list:
        raise _wrong_type(source, where, "a list", value)
    return value


def to_vaultform_document(doc: dict[str, Any], *, source: str) -> dict[str, Any]:
    """The vaultform (``format_version`` "1") document for Terraform state ``doc``."""
    version = doc.get("version")
    if type(version) is not int or version != TERRAFORM_STATE_VERSION:
        raise _fail(
            source,
            "version",
            f"Terraform state version {version!r}; vaultform reads version {TERRAFORM_STATE_VERSION}",
            "Let Terraform 0.12 or later write the state once to upgrade it.",
        )
    terraform_version = doc.get("terraform_version")
    if terraform_version is not None and type(terraform_version) is not str:
        raise _wrong_type(source, "terraform_version", "a string", terraform_version)
    resources = _list_or_null(doc.get("resources"), source, "resources")
    unmanaged: list[str] = []
    converted = []
    for i, res in enumerate(resources):
        if type(res) is not dict:
            raise _fail(source, f"resources[{i}]", "expected an object")
        out = _resource(res, f"resources[{i}]", source, unmanaged, "vaultform_version" in doc)
        if out is not None:
            converted.append(out)
    if unmanaged:
        raise _fail(
            source,
            "resources",
            f"this Terraform state holds objects of types vaultform does not manage: {', '.join(unmanaged)}",
            "Move them to another state first (`terraform state mv -state-out=...`), or remove them "
            "with `terraform state rm`; vaultform manages "
            f"the providers {', '.join(sorted(PROVIDER_SOURCES.values()))}.",
        )
    checks = doc.get("check_results")
    return {
        "format_version": "1",
        "vaultform_version": doc.get("vaultform_version", ""),
        "lineage": doc.get("lineage"),
        "serial": doc.get("serial"),
        "outputs": _outputs({} if doc.get("outputs") is None else doc["outputs"], source),
        "resources": converted,
        "check_results": [] if checks is None else checks,
    }


def _outputs(outputs: Any, source: str) -> Any:
    if type(outputs) is not dict:
        return outputs  # the vaultform reader names the problem
    result = {}
    for name, out in outputs.items():
        if type(out) is not dict or "value" not in out:
            raise _fail(source, f"outputs.{name}", "expected an object with a value")
        result[name] = {"sensitive": out.get("sensitive", False), "value": out["value"]}
        if "type" in out and out["type"] != value_type(out["value"]):
            result[name]["type"] = out["type"]  # a list, set or map: kept, so it prints as terraform does
    return result


def _instance_address(res: dict[str, Any], inst: Any) -> str:
    module = res.get("module") or ""
    mode = "data." if res.get("mode") == "data" else ""
    key = inst.get("index_key") if type(inst) is dict else None
    base = f"{mode}{res.get('type')}.{res.get('name')}{format_key(key) if key is not None else ''}"
    return f"{module}.{base}" if module else base


def _resource(
    res: dict[str, Any], where: str, source: str, unmanaged: list[str], written_by_vaultform: bool
) -> dict[str, Any] | None:
    provider = res.get("provider")
    match = _PROVIDER.fullmatch(provider) if type(provider) is str else None
    if match is None:
        raise _fail(
            source,
            f"{where}.provider",
            f"{provider!r} is not a provider address",
            'Terraform writes provider["registry.terraform.io/hashicorp/azurerm"].',
        )
    # a provider vaultform does not ship keeps its own name (the last part of its source), so
    # a state vaultform wrote reads back whatever its providers are called
    local = PROVIDER_SOURCES.get(match["source"])
    if local is None and written_by_vaultform and match["source"].startswith(_OWN_SOURCE_PREFIX):
        local = match["source"][len(_OWN_SOURCE_PREFIX) :]
    instances = _list_or_null(res.get("instances"), source, f"{where}.instances")
    if local is None:
        addresses = [_instance_address(res, inst) for inst in instances] or [_instance_address(res, {})]
        unmanaged.append(f"{res.get('type')} ({', '.join(addresses)}; provider {match['source']})")
        return None
    if match["alias"]:
        local = f"{local}.{match['alias']}"
    facts_prevent = False
    converted = []
    for j, inst in enumerate(instances):
        at = f"{where}.instances[{j}]"
        if type(inst) is not dict:
            raise _fail(source, at, "expected an object")
        if "deposed" in inst:
            raise _deposed(res, inst, at, source)
        doc, prevent = _instance(inst, res.get("type"), at, source)
        facts_prevent = facts_prevent or prevent
        converted.append(doc)
    return {
        "module": res.get("module", ""),
        "mode": res.get("mode"),
        "type": res.get("type"),
        "name": res.get("name"),
        "provider": local,
        "prevent_destroy": facts_prevent,
        "instances": converted,
    }


def _deposed(res: dict[str, Any], inst: dict[str, Any], where: str, source: str) -> StateError:
    """The refusal of an object terraform deposed: the old one of a create-before-destroy
    replacement whose destroy failed. terraform 1.11 plans to destroy it; vaultform can't hold it."""
    address = _instance_address(res, inst)
    return _fail(
        source,
        where,
        f"{address} (deposed object {inst['deposed']}) is left over from a partially-failed replacement "
        "of this instance, and vaultform does not keep deposed objects",
        "Let terraform destroy it first: `terraform apply` with this state plans its destroy "
        f'("{address} (deposed object {inst["deposed"]}) will be destroyed"). If the object is already '
        "gone from the cloud, remove this instance entry from the state instead "
        "(`terraform state pull`, edit, `terraform state push`).",
    )


def _instance(inst: dict[str, Any], type_name: Any, where: str, source: str) -> tuple[dict[str, Any], bool]:
    attributes = inst.get("attributes")
    if attributes is None and "attributes_flat" in inst:
        raise _fail(
            source,
            f"{where}.attributes_flat",
            "flat attributes come from a Terraform before 0.12",
            "Let a current Terraform refresh the state once.",
        )
    types: dict[str, Any] = {}
    if type(attributes) is dict:
        attributes = dict(attributes)
        for name in DYNAMIC_ATTRIBUTES.get(type_name, ()):
            wrapped = attributes.get(name)
            if type(wrapped) is dict and len(wrapped) == 2 and "value" in wrapped and "type" in wrapped:
                attributes[name] = wrapped["value"]
                # kept when the value alone doesn't tell it: a list, set or map (a primitive's
                # type always does: the usual case is decided without working the value's out)
                if type(wrapped["type"]) is not str and wrapped["type"] != value_type(wrapped["value"]):
                    types[name] = wrapped["type"]
    facts = _vaultform_facts(inst.get("private"), source, f"{where}.private")
    sensitive = _list_or_null(inst.get("sensitive_attributes"), source, f"{where}.sensitive_attributes")
    doc = {
        "index_key": inst.get("index_key"),
        "schema_version": inst.get("schema_version", 0),
        "status": inst.get("status", ""),
        "create_before_destroy": inst.get("create_before_destroy", False),
        "attributes": attributes,
        "sensitive_paths": [
            _path(p, f"{where}.sensitive_attributes[{k}]", source) for k, p in enumerate(sensitive)
        ],
        # vaultform's exact instances where it wrote terraform's keyless resource addresses
        "dependencies": facts.get("dependencies") or inst.get("dependencies", []),
        "pending": facts.get("pending"),
    }
    if facts and type(facts.get("private")) is dict:
        doc["private"] = facts["private"]
    if types:
        doc["types"] = types
    return doc, facts.get("prevent_destroy") is True


def _path(path: Any, where: str, source: str) -> list[Any]:
    """A Terraform 1.11 sensitive path as vaultform's list of keys and indexes."""
    if type(path) is not list:
        raise _fail(source, where, "a sensitive path is a list of steps")
    steps: list[Any] = []
    for step in path:
        if type(step) is not dict or step.get("type") not in ("get_attr", "index"):
            raise _fail(source, where, f"{step!r} is not a path step")
        value = step.get("value")
        if step["type"] == "index":
            # an index step carries a typed value: {"value": 0, "type": "number"}
            value = value.get("value") if type(value) is dict else value
        if type(value) not in (str, int):
            raise _fail(source, where, f"{step!r} is not a path step")
        steps.append(value)
    return steps


def _vaultform_facts(private: Any, source: str, where: str) -> dict[str, Any]:
    """vaultform's own facts kept in an instance's ``private``; {} for a provider's own bytes.
    What is not base64 text is refused, as terraform 1.11 refuses it."""
    if private is None:
        return {}
    if type(private) is not str:
        raise _wrong_type(source, where, "a string (base64)", private)
    try:
        raw = base64.b64decode(private, validate=True)
    except binascii.Error:
        raise _fail(source, where, "not base64") from None
    try:
        decoded = json.loads(raw)
    except ValueError:
        return {}
    facts = decoded.get("vaultform") if type(decoded) is dict else None
    return facts if type(facts) is dict else {}


# --------------------------------------------------------------------------- writing

_LOCAL_TO_SOURCE = {local: src for src, local in PROVIDER_SOURCES.items()}


def provider_address(local: str) -> str:
    """``provider["registry.terraform.io/hashicorp/azurerm"]`` (``.alias`` kept) for a local name."""
    if "/" in local:  # already a source address (``registry.terraform.io/hashicorp/azurerm``)
        source, alias = local, ""
    else:
        name, _, alias = local.partition(".")
        source = _LOCAL_TO_SOURCE.get(name, f"{_OWN_SOURCE_PREFIX}{name}")
    return f'provider["{source}"]' + (f".{alias}" if alias else "")


def _typed(value: Any, recorded: Any = None) -> dict[str, Any]:
    """A dynamic attribute as terraform writes it: the value beside its type (the recorded one,
    else the one the value alone gives)."""
    return {"value": value, "type": recorded if recorded is not None else value_type(value)}


def _path_steps(path: list[Any]) -> list[dict[str, Any]]:
    steps = []
    for step in path:
        if isinstance(step, int):
            steps.append({"type": "index", "value": {"value": step, "type": "number"}})
        else:
            steps.append({"type": "get_attr", "value": step})
    return steps


# an instance key in an address: [0] or ["a"] (a string key may hold escaped quotes and brackets)
_KEYS = re.compile(r'\[(?:-?\d+|"(?:[^"\\]|\\.)*")\]')


def terraform_dependencies(dependencies: Iterable[str]) -> list[str]:
    """The resources an object depends on as terraform records and shows them: without instance
    keys, each once, sorted (checked with terraform 1.11: ``module.m.terraform_data.x`` for
    ``module.m["a"].terraform_data.x``)."""
    return sorted({_KEYS.sub("", d) for d in dependencies})


def _private(facts: dict[str, Any]) -> str | None:
    kept = {k: v for k, v in facts.items() if v}
    if not kept:
        return None
    text = json.dumps({"vaultform": kept}, sort_keys=True, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def instance_v4(inst: dict[str, Any], type_name: str, prevent_destroy: bool) -> dict[str, Any]:
    """One instance of a vaultform document in Terraform's field order (omitting what it omits)."""
    attributes = dict(inst["attributes"])
    types = inst.get("types") or {}
    for name in DYNAMIC_ATTRIBUTES.get(type_name, ()):
        if attributes.get(name) is not None:
            attributes[name] = _typed(attributes[name], types.get(name))
    out: dict[str, Any] = {}
    if inst["index_key"] is not None:
        out["index_key"] = inst["index_key"]
    if inst["status"]:
        out["status"] = inst["status"]
    out["schema_version"] = inst["schema_version"]
    out["attributes"] = attributes
    out["sensitive_attributes"] = [_path_steps(p) for p in inst["sensitive_paths"]]
    # vaultform keeps the exact instances, which order its deletions, among its own facts when they
    # differ from what terraform records
    dependencies = terraform_dependencies(inst["dependencies"])
    exact = inst["dependencies"] if dependencies != list(inst["dependencies"]) else None
    private = _private(
        {
            "pending": inst["pending"],
            "prevent_destroy": prevent_destroy,
            "dependencies": exact,
            "private": inst.get("private"),
        }
    )
    if private is not None:
        out["private"] = private
    if dependencies:
        out["dependencies"] = dependencies
    if inst["create_before_destroy"]:
        out["create_before_destroy"] = True
    return out


def resource_head_v4(res: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if res["module"]:
        out["module"] = res["module"]
    out.update(
        mode=res["mode"], type=res["type"], name=res["name"], provider=provider_address(res["provider"])
    )
    return out


def outputs_v4(outputs: dict[str, Any]) -> dict[str, Any]:
    result = {}
    for name, out in outputs.items():
        entry = {"value": out["value"], "type": out.get("type") or value_type(out["value"])}
        if out["sensitive"]:
            entry["sensitive"] = True
        result[name] = entry
    return result


def from_vaultform_document(doc: dict[str, Any]) -> dict[str, Any]:
    """Terraform's version-4 document for a vaultform (``format_version`` "1") document."""
    resources = []
    for res in doc["resources"]:
        head = resource_head_v4(res)
        head["instances"] = [instance_v4(i, res["type"], res["prevent_destroy"]) for i in res["instances"]]
        resources.append(head)
    return {
        "version": TERRAFORM_STATE_VERSION,
        "terraform_version": WRITTEN_TERRAFORM_VERSION,
        "serial": doc["serial"],
        "lineage": doc["lineage"],
        "outputs": outputs_v4(doc["outputs"]),
        "resources": resources,
        "check_results": doc["check_results"] or None,
        "vaultform_version": doc["vaultform_version"],
    }
