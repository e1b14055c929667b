"""A configuration's ``terraform { encryption { ... } }`` block, with ``TF_ENCRYPTION``, turned
into the objects of ``state.encryption`` (OpenTofu's syntax: website/docs/language/state/
encryption.mdx; internal/encryption/config in opentofu/opentofu)::

    terraform {
      encryption {
        key_provider "pbkdf2" "mine" { passphrase = var.passphrase }
        method "aes_gcm" "mine" { keys = key_provider.pbkdf2.mine }
        method "unencrypted" "migrate" {}
        state {
          method   = method.aes_gcm.mine
          fallback { method = method.unencrypted.migrate }
          # enforced = true
        }
        plan { method = method.aes_gcm.mine }
        remote_state_data_sources { default { method = method.aes_gcm.mine } }
      }
    }

``TF_ENCRYPTION`` holds the same body (without ``encryption { }``) and overrides the
configuration as OpenTofu merges them (config_merge.go): key providers and methods of the same
type and name take the environment's arguments over the configuration's, targets take the
environment's method and fallback, and ``enforced`` holds when either sets it. Arguments may use
``var.NAME`` (the root module's variables) and literals - nothing from state or providers.

Every problem is a diagnostic at the file and line of the offending block or argument
(``TF_ENCRYPTION:LINE`` for the environment's).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from reconciler.config import ast
from reconciler.config.evaluator import MapScope
from reconciler.config.expand import eval_expr
from reconciler.config.loader import parse_text
from reconciler.config.references import references
from reconciler.diagnostics import Diagnostic, DiagnosticsError, error, warning
from reconciler.values import UNKNOWN, unmark_paths
from state.encryption.keys import KeyProvider, ProviderName
from state.encryption.keyvault import DEFAULT_KEY_LENGTH, KeyVaultProvider, KeyWrapper
from state.encryption.methods import AesGcm, Method, MethodName, Unencrypted
from state.encryption.pbkdf2 import (
    DEFAULT_HASH_FUNCTION,
    DEFAULT_ITERATIONS,
    DEFAULT_SALT_LENGTH,
    Pbkdf2Provider,
    Pbkdf2Settings,
)
from state.encryption.pbkdf2 import (
    DEFAULT_KEY_LENGTH as PBKDF2_KEY_LENGTH,
)
from state.encryption.target import Encryption, TargetEncryption

ENV_VARIABLE = "TF_ENCRYPTION"
KEY_WRAPPERS_GROUP = "vaultform.key_wrappers"

# --------------------------------------------------------------------------- merged blocks


@dataclass
class _Declared:
    """A key_provider or method block, its arguments merged from configuration and environment."""

    type: str
    name: str
    pos: ast.Pos
    attributes: dict[str, ast.Attribute] = field(default_factory=dict)

    @property
    def at(self) -> str:
        return f"{self.pos.file}:{self.pos.line}"


@dataclass
class _Target:
    name: str
    pos: ast.Pos
    method: ast.Attribute | None = None
    enforced: list[ast.Attribute] = field(default_factory=list)  # from the configuration and the environment
    fallback: _Target | None = None


@dataclass
class _Config:
    pos: ast.Pos
    key_providers: dict[tuple[str, str], _Declared] = field(default_factory=dict)
    methods: dict[tuple[str, str], _Declared] = field(default_factory=dict)
    targets: dict[str, _Target] = field(default_factory=dict)


_TARGET_BLOCKS = ("state", "plan")
_REMOTE = "remote_state_data_sources"


class _Reader:
    """Reads the blocks and their values. ``checking`` (validate): the variables' values are unknown,
    checks that need a value skip what is unknown, and nothing is signed in to."""

    def __init__(self, variables: Mapping[str, Any] | None, *, checking: bool = False) -> None:
        self.diags: list[Diagnostic] = []
        self.scope = MapScope({"var": dict(variables or {})})
        self.checking = checking
        self._variables = frozenset(variables or ())
        self._values: dict[int, Any] = {}

    def fail(self, summary: str, detail: str, pos: ast.Pos) -> None:
        self.diags.append(error("encryption", summary, detail, range=pos.range()))

    # ---------------------------------------------------------------- reading blocks

    def read_body(self, body: ast.Body, into: _Config) -> None:
        for attr in body.attributes:
            self.fail(
                f'Unsupported argument "{attr.name}" in the encryption block',
                "The encryption block holds key_provider, method, state, plan and remote_state_data_sources "
                "blocks only.",
                attr.name_pos,
            )
        for block in body.blocks:
            if block.type in ("key_provider", "method"):
                if len(block.labels) != 2:
                    self.fail(
                        f"A {block.type} block needs two labels, its type and its name",
                        f'Write {block.type} "TYPE" "NAME" {{ ... }}.',
                        block.pos,
                    )
                    continue
                table = into.key_providers if block.type == "key_provider" else into.methods
                found = table.setdefault(block.labels, _Declared(block.labels[0], block.labels[1], block.pos))
                found.attributes.update({a.name: a for a in block.body.attributes})
                for nested in block.body.blocks:
                    self.fail(
                        f"Unexpected block {nested.type!r} in {block.type}",
                        "It takes arguments only.",
                        nested.pos,
                    )
            elif block.type in _TARGET_BLOCKS:
                self.read_target(block, into, block.type, enforceable=True)
            elif block.type == _REMOTE:
                for inner in block.body.blocks:
                    if inner.type == "default" and not inner.labels:
                        self.read_target(inner, into, f"{_REMOTE}.default", enforceable=False)
                    elif inner.type == "remote_state_data_source" and len(inner.labels) == 1:
                        self.read_target(inner, into, f"{_REMOTE}.{inner.labels[0]}", enforceable=False)
                    else:
                        self.fail(
                            f"Unexpected block {inner.type!r} in {_REMOTE}",
                            'It holds a default { method = ... } block and remote_state_data_source "NAME" '
                            "{ method = ... } blocks.",
                            inner.pos,
                        )
            else:
                self.fail(
                    f'Unsupported block type "{block.type}" in the encryption block',
                    "The encryption block holds key_provider, method, state, plan and remote_state_data_sources "
                    "blocks.",
                    block.pos,
                )

    def target_of(self, block: ast.Block, name: str, enforceable: bool) -> _Target:
        target = _Target(name, block.pos)
        allowed = {"method", "enforced"} if enforceable else {"method"}
        for attr in block.body.attributes:
            if attr.name not in allowed:
                self.fail(
                    f'Unsupported argument "{attr.name}" in {name}',
                    f"It takes: {', '.join(sorted(allowed))}, and a fallback block.",
                    attr.name_pos,
                )
            elif attr.name == "method":
                target.method = attr
            else:
                target.enforced.append(attr)
        for inner in block.body.blocks:
            if inner.type != "fallback" or inner.labels:
                self.fail(
                    f"Unexpected block {inner.type!r} in {name}", "It takes one fallback block.", inner.pos
                )
            elif target.fallback is not None:
                self.fail(
                    f"Duplicate fallback block in {name}", "A fallback may itself hold a fallback.", inner.pos
                )
            else:
                target.fallback = self.target_of(inner, name + ".fallback", False)
        return target

    def read_target(self, block: ast.Block, into: _Config, name: str, *, enforceable: bool) -> None:
        new = self.target_of(block, name, enforceable)
        old = into.targets.get(name)
        if old is not None:  # the environment's overrides the configuration's (config_merge.go)
            new.method = new.method or old.method
            new.fallback = new.fallback or old.fallback
            new.enforced = old.enforced + new.enforced  # enforced when either sets it
        into.targets[name] = new

    # ---------------------------------------------------------------- values

    def value(self, attr: ast.Attribute) -> Any:
        """The argument's value, evaluated once (its problems reported once)."""
        if id(attr) not in self._values:
            value = eval_expr(attr.expr, self.scope, self.diags) if self.refers_well(attr) else UNKNOWN
            self._values[id(attr)], _ = unmark_paths(value)
        return self._values[id(attr)]

    def refers_well(self, attr: ast.Attribute) -> bool:
        """Encryption arguments may refer to the root module's variables only (OpenTofu evaluates them
        before anything else exists)."""
        ok = True
        for ref in references(attr.expr):
            root = ref.subject[0]
            if root == "var" and len(ref.subject) > 1 and ref.subject[1] not in self._variables:
                self.fail(
                    "Reference to undeclared input variable",
                    f"The encryption argument {attr.name} refers to var.{ref.subject[1]}, which the root module "
                    f'does not declare: declare it (variable "{ref.subject[1]}" {{}}) or fix the name.',
                    ref.pos,
                )
                ok = False
            elif root != "var":
                self.fail(
                    f"Invalid reference in the encryption block: {'.'.join(map(str, ref.subject))}",
                    f"The encryption argument {attr.name} can use the root module's variables (var.NAME) and "
                    "literals only: encryption is set up before locals, resources and data sources exist.",
                    ref.pos,
                )
                ok = False
        return ok

    def unknown(self, attr: ast.Attribute | None) -> bool:
        return attr is not None and self.value(attr) is UNKNOWN

    def flag(self, attr: ast.Attribute) -> bool:
        value = self.value(attr)
        if value is UNKNOWN:
            return False
        if not isinstance(value, bool):
            self.fail(f"{attr.name} must be true or false", "", attr.pos)
            return False
        return value

    def reference(self, attr: ast.Attribute, root: str) -> tuple[str, str] | None:
        """``root.TYPE.NAME`` written as a reference (or, as OpenTofu also takes, a string)."""
        expr = attr.expr
        parts: list[str] = []
        while isinstance(expr, ast.GetAttr):
            parts.insert(0, expr.name)
            expr = expr.obj
        if isinstance(expr, ast.Variable):
            parts.insert(0, expr.name)
        elif isinstance(expr, ast.Template | ast.Literal):
            text = self.value(attr)
            parts = text.split(".") if isinstance(text, str) else []
        else:
            parts = []
        if len(parts) == 3 and parts[0] == root:
            return parts[1], parts[2]
        self.fail(
            f"Invalid {attr.name} reference",
            f"Expected a reference of the form {root}.TYPE.NAME.",
            attr.pos,
        )
        return None


def _sources(block: ast.Block | None, environ: Mapping[str, str], reader: _Reader) -> _Config | None:
    text = environ.get(ENV_VARIABLE, "")
    if block is None and not text.strip():
        return None
    config = _Config(block.pos if block is not None else ast.Pos(ENV_VARIABLE, 1, 1, 1, 1))
    if block is not None:
        reader.read_body(block.body, config)
    if text.strip():
        parsed, diags = parse_text(text, ENV_VARIABLE)
        reader.diags.extend(diags)
        if parsed is not None:
            reader.read_body(parsed.body, config)
    return config


# --------------------------------------------------------------------------- key providers

KeyProviderBuilder = Callable[[_Reader, _Declared], KeyProvider | None]


def _int(reader: _Reader, decl: _Declared, name: str, default: int) -> int:
    attr = decl.attributes.get(name)
    if attr is None:
        return default
    value = reader.value(attr)
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int:
        if value is not UNKNOWN:
            reader.fail(
                f"{name} must be a whole number",
                f'In key_provider "{decl.type}" "{decl.name}": write a number, e.g. {name} = {default}.',
                attr.pos,
            )
        return default
    return value


def _str(reader: _Reader, decl: _Declared, name: str, default: str = "") -> str:
    attr = decl.attributes.get(name)
    if attr is None:
        return default
    value = reader.value(attr)
    if not isinstance(value, str):
        if value is not UNKNOWN:
            reader.fail(
                f"{name} must be a string",
                f'In key_provider "{decl.type}" "{decl.name}": write it in quotes, or use a string variable.',
                attr.pos,
            )
        return default
    return value


def _only(reader: _Reader, decl: _Declared, allowed: frozenset[str], kind: str) -> bool:
    extra = sorted(set(decl.attributes) - allowed)
    for name in extra:
        reader.fail(
            f'Unsupported argument "{name}" in {kind} "{decl.type}" "{decl.name}"',
            f"It takes: {', '.join(sorted(allowed))}.",
            decl.attributes[name].name_pos,
        )
    return not extra


_PBKDF2_ARGS = frozenset({"passphrase", "key_length", "iterations", "salt_length", "hash_function"})


def _pbkdf2(reader: _Reader, decl: _Declared) -> KeyProvider | None:
    if not _only(reader, decl, _PBKDF2_ARGS, "key_provider"):
        return None
    before = len(reader.diags)
    settings = Pbkdf2Settings(
        passphrase=_str(reader, decl, "passphrase"),
        key_length=_int(reader, decl, "key_length", PBKDF2_KEY_LENGTH),
        iterations=_int(reader, decl, "iterations", DEFAULT_ITERATIONS),
        salt_length=_int(reader, decl, "salt_length", DEFAULT_SALT_LENGTH),
        hash_function=_str(reader, decl, "hash_function", DEFAULT_HASH_FUNCTION),
    )
    for name, problem in settings.problems():
        attr = decl.attributes.get(name)
        if reader.unknown(attr):
            continue  # known only at plan time (validate)
        reader.fail(
            f'key_provider "pbkdf2" "{decl.name}": {name} {problem}',
            "Set it in the key provider block, or in TF_ENCRYPTION (which keeps the passphrase out of the "
            'files): key_provider "pbkdf2" "' + decl.name + '" { passphrase = "..." }.',
            attr.pos if attr is not None else decl.pos,
        )
    if len(reader.diags) > before:
        return None
    return Pbkdf2Provider(ProviderName(decl.type, decl.name, decl.at), settings)


# The azure_keyvault key provider's arguments: the key, and the azurerm provider's sign-in arguments
# (the same names as in provider "azurerm", each also read from its ARM_* variable by the provider).
_SIGN_IN_ARGS = frozenset(
    {
        "cloud",
        "environment",
        "metadata_host",
        "subscription_id",
        "tenant_id",
        "client_id",
        "client_secret",
        "client_secret_file_path",
        "client_certificate",
        "client_certificate_path",
        "client_certificate_password",
        "use_oidc",
        "oidc_token",
        "oidc_token_file_path",
        "oidc_request_url",
        "oidc_request_token",
        "use_msi",
        "msi_endpoint",
        "use_cli",
        "use_aks_workload_identity",
    }
)
# key_provider "azure_vault" is OpenTofu's name for the same (its vault_key_name is our key_name).
_KEY_ARGS = {
    "azure_keyvault": {"vault_uri": "vault_uri", "key_name": "key_name", "key_version": "key_version"},
    "azure_vault": {"vault_uri": "vault_uri", "vault_key_name": "key_name"},
}


def _key_wrapper_factory() -> Callable[[Mapping[str, Any]], KeyWrapper] | None:
    for ep in entry_points(group=KEY_WRAPPERS_GROUP):
        if ep.name == "azure_keyvault":
            factory: Callable[[Mapping[str, Any]], KeyWrapper] = ep.load()
            return factory
    return None


def _keyvault(reader: _Reader, decl: _Declared) -> KeyProvider | None:
    renames = _KEY_ARGS[decl.type]
    if not _only(reader, decl, frozenset(renames) | {"key_length"} | _SIGN_IN_ARGS, "key_provider"):
        return None
    before = len(reader.diags)
    settings: dict[str, Any] = {}
    for name, attr in decl.attributes.items():
        if name != "key_length":
            settings[renames.get(name, name)] = reader.value(attr)
    for written, ours in renames.items():
        if written == "key_version":
            continue
        if not isinstance(settings.get(ours), str) or not settings[ours]:
            given = decl.attributes.get(written)
            if reader.unknown(given):
                continue
            reader.fail(
                f'key_provider "{decl.type}" "{decl.name}" needs {written}',
                f'Set {written} = "..." (the key vault\'s URI, https://NAME.vault.azure.net/, and the name of an '
                "RSA key in it).",
                given.pos if given is not None else decl.pos,
            )
    key_length = _int(reader, decl, "key_length", DEFAULT_KEY_LENGTH)
    if key_length not in (16, 24, 32):
        reader.fail(
            "key_length must be 16, 24 or 32",
            "The data key is an AES key.",
            decl.attributes["key_length"].pos,
        )
    if len(reader.diags) > before or reader.checking:
        return None  # validate signs in to nothing
    factory = _key_wrapper_factory()
    if factory is None:
        reader.fail(
            f'key_provider "{decl.type}" needs the azurerm provider',
            "It wraps keys through the azurerm provider's Key Vault client; install vaultform with it.",
            decl.pos,
        )
        return None
    try:
        wrapper = factory(settings)
    except ValueError as exc:
        reader.fail(f'key_provider "{decl.type}" "{decl.name}": {exc}', "", decl.pos)
        return None
    return KeyVaultProvider(ProviderName(decl.type, decl.name, decl.at), wrapper, key_length)


KEY_PROVIDERS: dict[str, KeyProviderBuilder] = {
    "pbkdf2": _pbkdf2,
    "azure_keyvault": _keyvault,
    "azure_vault": _keyvault,
}
METHODS = ("aes_gcm", "unencrypted")


# --------------------------------------------------------------------------- methods and targets


class _Builder:
    def __init__(self, reader: _Reader, config: _Config) -> None:
        self.reader = reader
        self.config = config
        self.providers: dict[tuple[str, str], KeyProvider | None] = {}
        self.methods: dict[tuple[str, str], Method | None] = {}

    def provider(self, ref: tuple[str, str], attr: ast.Attribute) -> KeyProvider | None:
        if ref not in self.providers:
            decl = self.config.key_providers.get(ref)
            if decl is None:
                self.reader.fail(
                    "Reference to undeclared key provider",
                    f'There is no key_provider "{ref[0]}" "{ref[1]}" block in the encryption block. '
                    + _declare_or_fix("key_provider", ref, self.config.key_providers),
                    attr.pos,
                )
                self.providers[ref] = None
            elif ref[0] not in KEY_PROVIDERS:
                self.reader.fail(
                    f'Unknown key_provider type "{ref[0]}"',
                    f"vaultform's key providers: {', '.join(sorted(KEY_PROVIDERS))}; write one of them as "
                    f'the first label (key_provider "pbkdf2" "{ref[1]}" {{ ... }}).',
                    decl.pos,
                )
                self.providers[ref] = None
            else:
                self.providers[ref] = KEY_PROVIDERS[ref[0]](self.reader, decl)
        return self.providers[ref]

    def method(self, ref: tuple[str, str], attr: ast.Attribute) -> Method | None:
        if ref in self.methods:
            return self.methods[ref]
        decl = self.config.methods.get(ref)
        found: Method | None = None
        if decl is None:
            self.reader.fail(
                "Reference to undeclared encryption method",
                f'There is no method "{ref[0]}" "{ref[1]}" block in the encryption block. '
                + _declare_or_fix("method", ref, self.config.methods),
                attr.pos,
            )
        elif decl.type == "unencrypted":
            if _only(self.reader, decl, frozenset(), "method"):
                found = Unencrypted(MethodName(decl.type, decl.name, decl.at))
        elif decl.type == "aes_gcm":
            keys = decl.attributes.get("keys")
            if not _only(self.reader, decl, frozenset({"keys"}), "method"):
                pass
            elif keys is None:
                self.reader.fail(
                    f'method "aes_gcm" "{decl.name}" needs keys',
                    "Set keys = key_provider.TYPE.NAME (for example key_provider.pbkdf2.mine).",
                    decl.pos,
                )
            else:
                kp_ref = self.reader.reference(keys, "key_provider")
                provider = self.provider(kp_ref, keys) if kp_ref is not None else None
                if provider is not None:
                    found = AesGcm(MethodName(decl.type, decl.name, decl.at), provider)
        else:
            self.reader.fail(
                f'Unknown encryption method type "{decl.type}"',
                f"vaultform's methods: {', '.join(METHODS)}; write one of them as the first label "
                f'(method "aes_gcm" "{decl.name}" {{ keys = key_provider.TYPE.NAME }}).',
                decl.pos,
            )
        self.methods[ref] = found
        return found

    def every_declared(self) -> None:
        """Build every key provider and method, referenced or not (validate), each once."""
        for ref, decl in self.config.key_providers.items():
            if ref not in self.providers:
                self.provider(ref, _placeholder(decl))
        for ref, decl in self.config.methods.items():
            if ref not in self.methods:
                self.method(ref, _placeholder(decl))

    def target(self, target: _Target) -> TargetEncryption | None:
        methods: list[Method] = []
        broken = False
        node: _Target | None = target
        while node is not None:
            if node.method is not None:
                ref = self.reader.reference(node.method, "method")
                m = self.method(ref, node.method) if ref is not None else None
                if m is None:
                    broken = True
                else:
                    methods.append(m)
            node = node.fallback
        enforcing = [a for a in target.enforced if self.reader.flag(a)]
        enforced = bool(enforcing)
        at = f"{target.pos.file}:{target.pos.line}"
        if enforced:
            for m in methods:
                if isinstance(m, Unencrypted):
                    self.reader.fail(
                        "Unencrypted method is forbidden",
                        f"The {target.name} block ({at}) sets enforced = true, so it can't use {m.label}.",
                        enforcing[0].pos,
                    )
                    broken = True
        if broken:
            return None
        if target.method is None:
            if enforced:
                self.reader.fail(
                    f"{target.name.capitalize()} encryption is enforced, and no method is set",
                    f"The {target.name} block ({at}) sets enforced = true without a method: set "
                    f"method = method.TYPE.NAME there, or in TF_ENCRYPTION ({target.name} {{ method = ... }}).",
                    target.pos,
                )
            elif target.fallback is not None:
                self.reader.fail(
                    f"The {target.name} block has a fallback and no method",
                    "Set method = method.TYPE.NAME; the fallback is only read with.",
                    target.pos,
                )
            return None
        return TargetEncryption(target.name, tuple(methods), enforced=enforced, declared_at=at)


def _placeholder(decl: _Declared) -> ast.Attribute:
    """An attribute at a declared block, where a reference to it would be: it exists, so it is never
    reported as undeclared."""
    return ast.Attribute(decl.type, ast.Literal(decl.name, decl.pos), decl.pos, decl.pos)


def _declare_or_fix(kind: str, ref: tuple[str, str], declared: Mapping[tuple[str, str], _Declared]) -> str:
    if not declared:
        return f'Declare it: {kind} "{ref[0]}" "{ref[1]}" {{ ... }}.'
    names = ", ".join(f"{kind}.{t}.{n} ({d.at})" for (t, n), d in sorted(declared.items()))
    return f'Declare it ({kind} "{ref[0]}" "{ref[1]}" {{ ... }}), or refer to one that is declared: {names}.'


@dataclass(frozen=True)
class Configured:
    encryption: Encryption | None
    warnings: tuple[Diagnostic, ...] = ()


def configured_encryption(
    block: ast.Block | None,
    *,
    variables: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Configured:
    """The encryption ``block`` (with ``TF_ENCRYPTION``) sets up; ``DiagnosticsError`` for any
    problem in it. ``Configured.encryption`` is None when neither sets anything up."""
    reader = _Reader(variables)
    config = _sources(block, os.environ if environ is None else environ, reader)
    if config is None:
        return Configured(None)
    builder = _Builder(reader, config)
    built = {name: builder.target(t) for name, t in config.targets.items()}
    if any(d.is_error for d in reader.diags):
        raise DiagnosticsError([d for d in reader.diags if d.is_error])
    warnings = [
        warning(
            "encryption",
            "Unencrypted method configured",
            f'method "unencrypted" "{decl.name}" lets vaultform read unencrypted data: keep it only while '
            "migrating.",
            range=decl.pos.range(),
        )
        for decl in config.methods.values()
        if decl.type == "unencrypted"
    ]
    prefix = _REMOTE + "."
    remotes = {
        name[len(prefix) :]: t
        for name, t in built.items()
        if name.startswith(prefix) and name != prefix + "default" and t is not None
    }
    encryption = Encryption(
        state=built.get("state"),
        plan=built.get("plan"),
        remote_default=built.get(prefix + "default"),
        remotes=remotes,
    )
    return Configured(encryption, tuple(warnings))


def check_encryption(
    block: ast.Block | None,
    *,
    variables: Mapping[str, bool],
    environ: Mapping[str, str] | None = None,
) -> list[Diagnostic]:
    """What ``vaultform validate`` says of the encryption ``block`` (with ``TF_ENCRYPTION``): the checks
    ``configured_encryption`` makes when plan and apply build it, and every declared key provider and
    method too, referenced or not. ``variables``: the root module's variables (name -> sensitive), whose
    values are unknown here; nothing is derived or signed in to."""
    reader = _Reader({name: UNKNOWN for name in variables}, checking=True)
    config = _sources(block, os.environ if environ is None else environ, reader)
    if config is None:
        return []
    builder = _Builder(reader, config)
    for target in config.targets.values():
        builder.target(target)
    builder.every_declared()
    return reader.diags
