"""Decode a module's files (``ast.File``) into ``model.Module`` records.

Structure is checked here, with positions: unknown top-level blocks, label
counts, duplicate declarations (both places named), meta-argument misuse,
unknown arguments in blocks whose content Terraform fixes (``variable``,
``output``, ``lifecycle``, ``moved``, ``import``), and moved/import addresses.
Each top-level block type is a row of ``_BLOCKS``: labels wanted and decoder.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from reconciler.config import ast
from reconciler.config import model as m
from reconciler.config.convert_model_exprs import (
    is_reference,
    literal_bool,
    literal_string,
    past_whole_object,
    provider_ref,
    reference_list,
    traversal_address,
    trigger_list,
    unquoted_reference,
)
from reconciler.config.references import references as references_of
from reconciler.config.removed import still_declared
from reconciler.diagnostics import Diagnostic, error, warning

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_RESERVED_VARIABLES = {
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "lifecycle",
    "depends_on",
    "locals",
}
_RESOURCE_META_ATTRS = {"count", "for_each", "provider", "depends_on"}
_LIFECYCLE_ARGS = {"prevent_destroy", "create_before_destroy", "ignore_changes", "replace_triggered_by"}
_LIFECYCLE_BLOCKS = {"precondition", "postcondition"}
_MODULE_META = {"source", "version", "count", "for_each", "depends_on", "providers"}


class _Decoder:
    def __init__(self) -> None:
        self.diags: list[Diagnostic] = []
        self.required_version: list[ast.Expr] = []
        self.required_providers: dict[str, m.RequiredProvider] = {}
        self.backend: m.Backend | None = None
        self.encryption: ast.Block | None = None
        self.terraform_pos: ast.Pos | None = None
        self.providers: list[m.ProviderConfig] = []
        self.variables: dict[str, m.Variable] = {}
        self.locals: dict[str, m.Local] = {}
        self.outputs: dict[str, m.Output] = {}
        self.checks: dict[str, m.Check] = {}
        self.resources: dict[str, m.Resource] = {}
        self.module_calls: dict[str, m.ModuleCall] = {}
        self.moved: list[m.Moved] = []
        self.imports: list[m.Import] = []
        self.removed: list[m.Removed] = []

    # ------------------------------------------------------------------ helpers

    def err(
        self, code: str, summary: str, detail: str, pos: ast.Pos | None, address: str | None = None
    ) -> None:
        self.diags.append(error(code, summary, detail, address=address, range=pos.range() if pos else None))

    def duplicate(self, kind: str, name: str, first: ast.Pos, again: ast.Pos) -> None:
        self.err(
            "duplicate-declaration",
            f'Duplicate {kind} "{name}"',
            f'{kind.capitalize()} "{name}" is already declared at {first.file}:{first.line} '
            f"(and again at {again.file}:{again.line}); names must be unique in a module — "
            "rename or remove one.",
            again,
        )

    def only(
        self, body: ast.Body, what: str, attrs: set[str], blocks: AbstractSet[str] = frozenset()
    ) -> None:
        for a in body.attributes:
            if a.name not in attrs:
                self.err(
                    "unsupported-argument",
                    f'Unsupported argument "{a.name}" in {what}',
                    f"A {what} accepts: {', '.join(sorted(attrs)) or 'no arguments'}.",
                    a.name_pos,
                )
        for b in body.blocks:
            if b.type not in blocks:
                self.err(
                    "unsupported-block",
                    f'Unsupported block "{b.type}" in {what}',
                    f"A {what} accepts these blocks: {', '.join(sorted(blocks)) or 'none'}.",
                    b.pos,
                )

    def valid_name(self, block: ast.Block, kind: str) -> bool:
        name = block.labels[0] if block.labels else ""
        if _NAME.match(name):
            return True
        self.err(
            "invalid-name",
            f'Invalid {kind} name "{name}"',
            "A name must start with a letter or underscore and contain only letters, digits, "
            "underscores and dashes.",
            block.label_pos[0] if block.label_pos else block.pos,
        )
        return False

    def lit_string(self, attr: ast.Attribute | None, what: str) -> str | None:
        if attr is None:
            return None
        value = literal_string(attr.expr)
        if value is None:
            self.err(
                "literal-required",
                f"{what} must be a literal string",
                f'Write {attr.name} as a quoted string without "${{...}}"; it is read before any '
                "expression is evaluated.",
                attr.expr.pos,
            )
        return value

    def lit_bool(self, attr: ast.Attribute | None, what: str, default: bool) -> bool:
        if attr is None:
            return default
        value = literal_bool(attr.expr)
        if value is None:
            self.err(
                "literal-required",
                f"{what} must be true or false",
                f"Write {attr.name} = true or {attr.name} = false; it is read before any expression "
                "is evaluated.",
                attr.expr.pos,
            )
            return default
        return value

    def references(self, expr: ast.Expr) -> tuple[tuple[ast.Expr, ...], ast.Expr | None]:
        """``reference_list`` of ``expr``, taking a quoted reference ("terraform_data.b") as terraform
        does where references are expected: as the reference, with a deprecation warning."""
        if isinstance(expr, ast.TupleCons):
            items = []
            for item in expr.items:
                ref = unquoted_reference(item)
                if ref is None or not is_reference(ref):
                    items.append(item)
                    continue
                items.append(ref)
                self.diags.append(
                    warning(
                        "quoted_reference",
                        "Quoted references are deprecated",
                        "In this context, references are expected literally rather than in quotes. Terraform "
                        "0.11 and earlier required quotes; quoted references are deprecated. Remove the "
                        "quotes around this reference to silence this warning.",
                        range=item.pos.range(),
                    )
                )
            expr = ast.TupleCons(tuple(items), expr.pos)
        return reference_list(expr)

    def refs(self, attr: ast.Attribute | None, what: str) -> tuple[ast.Expr, ...]:
        if attr is None:
            return ()
        items, bad = self.references(attr.expr)
        if bad is not None:
            self.err(
                "meta-argument",
                f"{what} must be a list of references",
                "Write a list of resource or module names such as "
                "[terraform_data.a, module.network]; strings and expressions aren't allowed.",
                bad.pos,
            )
        for item in items if bad is None else ():
            beyond = past_whole_object(item)
            if beyond is not None:
                self.err(
                    "meta-argument",
                    f"Invalid {what} reference",
                    f"References in {what} must be to a whole object (resource, etc), not to an "
                    "attribute of an object.",
                    beyond,
                )
        return items

    def conditions(
        self, blocks: tuple[ast.Block, ...], what: str, variable: str | None = None
    ) -> tuple[m.Validation, ...]:
        """The condition blocks of ``what``; ``variable`` names the variable a validation tests."""
        out = []
        for b in blocks:
            self.only(b.body, f"{b.type} block", {"condition", "error_message"})
            cond, msg = b.body.attribute("condition"), b.body.attribute("error_message")
            refs = references_of(cond.expr) if cond is not None else []
            if cond is not None and not refs:  # a constant checks nothing: terraform refuses it too
                self.err(
                    "invalid-condition",
                    f"Invalid {b.type} expression",
                    "The condition refers to nothing else in the configuration, so its result never "
                    "changes and it checks nothing. Make it test a variable, resource, data source "
                    "or other value.",
                    cond.expr.pos,
                )
            if (
                cond is not None
                and variable is not None
                and all(r.subject != ("var", variable) for r in refs)
            ):
                self.err(
                    "invalid-condition",
                    "Invalid variable validation condition",
                    f'The condition of variable "{variable}" does not refer to var.{variable}, so it '
                    f"cannot test the value given; write it in terms of var.{variable}.",
                    cond.expr.pos,
                )
            if cond is None or msg is None:
                missing = "condition" if cond is None else "error_message"
                self.err(
                    "missing-argument",
                    f'Missing "{missing}" in {b.type} block of {what}',
                    f"{'An' if b.type[0] in 'aeiou' else 'A'} {b.type} block needs both condition and error_message.",
                    b.pos,
                )
                continue
            if refs:
                out.append(m.Validation(cond.expr, msg.expr, b.pos))
        return tuple(out)

    # ------------------------------------------------------------------ blocks

    def terraform(self, block: ast.Block) -> None:
        self.terraform_pos = self.terraform_pos or block.pos
        body = block.body
        self.only(
            body,
            "terraform block",
            {"required_version", "experiments"},
            {"required_providers", "backend", "cloud", "provider_meta", "encryption"},
        )
        for b in body.blocks_of("encryption"):
            if self.encryption is not None:
                self.duplicate("encryption", "block", self.encryption.pos, b.pos)
                continue
            self.encryption = b
        rv = body.attribute("required_version")
        if rv is not None:
            self.required_version.append(rv.expr)
        experiments = body.attribute("experiments")
        if experiments is not None:
            self.err(
                "experiments",
                "Module uses experimental features",
                "Experimental features are available only in alpha releases of Terraform, and vaultform "
                "implements none of them. Remove experiments.",
                experiments.pos,
            )
        for rp in body.blocks_of("required_providers"):
            for attr in rp.body.attributes:
                self.required_provider(attr)
        for b in body.blocks_of("backend") + body.blocks_of("cloud"):
            if b.type == "cloud" or len(b.labels) != 1:
                self.err(
                    "label-count" if b.type == "backend" else "unsupported-block",
                    "A backend block needs one label, the backend type"
                    if b.type == "backend"
                    else "Terraform Cloud is not supported",
                    'Write backend "local" { ... } (or "azurerm", "pg").',
                    b.pos,
                )
                continue
            if self.backend is not None:
                self.duplicate("backend", b.labels[0], self.backend.pos, b.pos)
                continue
            self.backend = m.Backend(b.labels[0], b.body, b.pos)

    def required_provider(self, attr: ast.Attribute) -> None:
        if attr.name in self.required_providers:
            self.duplicate("required provider", attr.name, self.required_providers[attr.name].pos, attr.pos)
            return
        source = version = None
        expr = attr.expr
        if isinstance(expr, ast.ObjectCons):
            for key, value in expr.items:
                k = literal_string(key)
                v = literal_string(value)
                if k not in ("source", "version", "configuration_aliases"):
                    self.err(
                        "unsupported-argument",
                        f'Unsupported required_providers setting "{k}"',
                        "Each provider requirement takes source and version.",
                        key.pos,
                    )
                elif k != "configuration_aliases" and v is None:
                    self.err(
                        "literal-required",
                        f'required_providers "{attr.name}" {k} must be a literal string',
                        'Write it in quotes, e.g. source = "hashicorp/random".',
                        value.pos,
                    )
                elif k == "source":
                    source = v
                elif k == "version":
                    version = v
        elif literal_string(expr) is not None:
            version = literal_string(expr)  # the legacy form: azurerm = "~> 3.0"
        else:
            self.err(
                "literal-required",
                f'Invalid requirement for provider "{attr.name}"',
                'Write { source = "hashicorp/random", version = "~> 3.6" }.',
                expr.pos,
            )
        self.required_providers[attr.name] = m.RequiredProvider(attr.name, source, version, attr.pos)

    def provider(self, block: ast.Block) -> None:
        name = block.labels[0]
        alias_attr = block.body.attribute("alias")
        alias = self.lit_string(alias_attr, "A provider alias")
        body = _without(block.body, {"alias"}, set())
        cfg = m.ProviderConfig(name, alias, body, block.pos)
        for other in self.providers:
            if other.key == cfg.key:
                self.duplicate("provider configuration", cfg.key, other.pos, block.pos)
                return
        self.providers.append(cfg)

    def variable(self, block: ast.Block) -> None:
        if not self.valid_name(block, "variable"):
            return
        name = block.labels[0]
        if name in _RESERVED_VARIABLES:
            self.err(
                "invalid-name",
                f'Invalid variable name "{name}"',
                f'"{name}" is reserved for module meta-arguments; choose another name.',
                block.label_pos[0],
            )
            return
        body = block.body
        self.only(
            body,
            "variable block",
            {"type", "default", "description", "sensitive", "nullable", "ephemeral"},
            {"validation"},
        )
        attr = body.attribute
        self.refuse_ephemeral(attr("ephemeral"), f'variable "{name}"')
        var = m.Variable(
            name=name,
            type_expr=type_attr.expr if (type_attr := attr("type")) else None,
            default_expr=default_attr.expr if (default_attr := attr("default")) else None,
            description=self.lit_string(attr("description"), "A variable description"),
            sensitive=self.lit_bool(attr("sensitive"), "sensitive", False),
            nullable=self.lit_bool(attr("nullable"), "nullable", True),
            validations=self.conditions(body.blocks_of("validation"), f'variable "{name}"', name),
            pos=block.pos,
        )
        if name in self.variables:
            self.duplicate("variable", name, self.variables[name].pos, block.pos)
            return
        self.variables[name] = var

    def refuse_ephemeral(self, attr: ast.Attribute | None, what: str) -> None:
        """``ephemeral = true`` promises a value kept out of plan files and state; vaultform keeps
        every value it plans with, so the promise is refused rather than silently broken."""
        if attr is None or not self.lit_bool(attr, "ephemeral", False):
            return
        self.err(
            "ephemeral",
            "Ephemeral values are not supported",
            f"{what} is declared ephemeral = true, but vaultform keeps every value it plans with in "
            "its plan files and state, so the value would be stored. Remove ephemeral and pass the "
            "value another way (an environment variable the provider reads, such as ARM_CLIENT_SECRET), "
            "or mark it sensitive = true (kept, but never shown).",
            attr.pos,
        )

    def locals_block(self, block: ast.Block) -> None:
        for b in block.body.blocks:
            self.err(
                "unsupported-block",
                f'Unexpected block "{b.type}" in locals',
                "A locals block holds only name = expression lines.",
                b.pos,
            )
        for a in block.body.attributes:
            if a.name in self.locals:
                self.duplicate("local value", a.name, self.locals[a.name].pos, a.pos)
                continue
            self.locals[a.name] = m.Local(a.name, a.expr, a.pos)

    def output(self, block: ast.Block) -> None:
        if not self.valid_name(block, "output"):
            return
        name = block.labels[0]
        body = block.body
        self.only(
            body,
            "output block",
            {"value", "description", "sensitive", "depends_on", "ephemeral"},
            {"precondition"},
        )
        self.refuse_ephemeral(body.attribute("ephemeral"), f'output "{name}"')
        value = body.attribute("value")
        if value is None:
            self.err(
                "missing-argument",
                f'Output "{name}" has no value',
                "Add value = <expression> to the output block.",
                block.pos,
            )
            return
        out = m.Output(
            name,
            value.expr,
            self.lit_string(body.attribute("description"), "An output description"),
            self.lit_bool(body.attribute("sensitive"), "sensitive", False),
            self.refs(body.attribute("depends_on"), "depends_on"),
            block.pos,
            self.conditions(body.blocks_of("precondition"), f'output "{name}"'),
        )
        if name in self.outputs:
            self.duplicate("output", name, self.outputs[name].pos, block.pos)
            return
        self.outputs[name] = out

    def check(self, block: ast.Block) -> None:
        """``check "name" { assert { condition = ..., error_message = ... } ... }``."""
        if not self.valid_name(block, "check"):
            return
        name = block.labels[0]
        self.only(block.body, "check block", set(), {"assert", "data"})
        for scoped in block.body.blocks_of("data"):  # read as any data source; a failure only warns
            if len(scoped.labels) != 2:
                self.err(
                    "label-count",
                    f'A data block in check "{name}" needs a type and a name',
                    'Write data "TYPE" "NAME" { ... } inside the check block.',
                    scoped.pos,
                )
                continue
            self.resource(scoped, m.Mode.DATA)
            address = f"data.{scoped.labels[0]}.{scoped.labels[1]}"
            declared = self.resources.get(address)
            if declared is not None and declared.pos == scoped.pos:
                self.resources[address] = dataclasses.replace(declared, check=name)
        asserts = self.conditions(block.body.blocks_of("assert"), f'check "{name}"')
        if not asserts and not block.body.blocks_of("assert"):
            self.err(
                "missing-block",
                f'Check "{name}" has no assert block',
                'A check block needs at least one assert { condition = ..., error_message = "..." }.',
                block.pos,
            )
            return
        if name in self.checks:
            self.duplicate("check", name, self.checks[name].pos, block.pos)
            return
        self.checks[name] = m.Check(name, asserts, block.pos)

    def resource(self, block: ast.Block, mode: m.Mode) -> None:
        rtype, name = block.labels
        address = ("data." if mode is m.Mode.DATA else "") + f"{rtype}.{name}"
        for label, where in zip(block.labels, block.label_pos):
            if not _NAME.match(label):
                self.err(
                    "invalid-name",
                    f'Invalid name "{label}" in {address}',
                    "Resource types and names contain only letters, digits, underscores and dashes, "
                    "and start with a letter or underscore.",
                    where,
                    address,
                )
                return
        body = block.body
        count, for_each = body.attribute("count"), body.attribute("for_each")
        if count is not None and for_each is not None:
            self.err(
                "meta-argument",
                'Both "count" and "for_each" are set',
                f"{address} can use count or for_each, not both; remove one.",
                for_each.name_pos,
                address,
            )
        provider = None
        p_attr = body.attribute("provider")
        if p_attr is not None:
            provider = provider_ref(p_attr.expr)
            if provider is None:
                self.err(
                    "meta-argument",
                    "Invalid provider reference",
                    "Write provider = NAME or provider = NAME.<alias> (no quotes), e.g. provider = random.west.",
                    p_attr.expr.pos,
                    address,
                )
        lifecycle = self.lifecycle(body.blocks_of("lifecycle"), address, mode)
        for b in body.blocks_of("provisioner") + body.blocks_of("connection"):
            self.diags.append(
                warning(
                    "unsupported-block",
                    f'"{b.type}" blocks are not supported; ignored',
                    "vaultform manages Azure objects through their APIs only; run scripts "
                    "outside the configuration.",
                    address=address,
                    range=b.pos.range(),
                )
            )
        res = m.Resource(
            mode,
            rtype,
            name,
            count.expr if count else None,
            for_each.expr if for_each else None,
            provider,
            self.refs(body.attribute("depends_on"), "depends_on"),
            lifecycle,
            _without(body, _RESOURCE_META_ATTRS, {"lifecycle", "provisioner", "connection"}),
            block.pos,
        )
        if address in self.resources:
            self.duplicate(
                "resource" if mode is m.Mode.MANAGED else "data source",
                address,
                self.resources[address].pos,
                block.pos,
            )
            return
        self.resources[address] = res

    def lifecycle(self, blocks: tuple[ast.Block, ...], address: str, mode: m.Mode) -> m.Lifecycle:
        if not blocks:
            return _NO_LIFECYCLE
        for extra in blocks[1:]:
            self.err(
                "duplicate-declaration",
                f"Duplicate lifecycle block in {address}",
                f"Only one lifecycle block is allowed (the first is on line {blocks[0].pos.line}); "
                "merge them.",
                extra.pos,
                address,
            )
        block = blocks[0]
        body = block.body
        allowed = _LIFECYCLE_ARGS if mode is m.Mode.MANAGED else set()
        for a in body.attributes:
            if a.name not in allowed:
                self.err(
                    "lifecycle",
                    f'Unknown lifecycle argument "{a.name}"',
                    f"lifecycle accepts: {', '.join(sorted(allowed)) or 'only precondition/postcondition blocks'}.",
                    a.name_pos,
                    address,
                )
        for b in body.blocks:
            if b.type not in _LIFECYCLE_BLOCKS:
                self.err(
                    "lifecycle",
                    f'Unknown lifecycle block "{b.type}"',
                    "lifecycle accepts precondition and postcondition blocks.",
                    b.pos,
                    address,
                )
        ignore_all = False
        ignore: tuple[ast.Expr, ...] = ()
        ic = body.attribute("ignore_changes")
        if ic is not None:
            if isinstance(ic.expr, ast.Variable) and ic.expr.name == "all":
                ignore_all = True
            else:
                ignore, bad = self.references(ic.expr)
                if bad is not None:
                    self.err(
                        "lifecycle",
                        "ignore_changes must be a list of attribute names or all",
                        "Write ignore_changes = [tags, network_acls] (no quotes) or ignore_changes = all.",
                        bad.pos,
                        address,
                    )
        rtb = body.attribute("replace_triggered_by")
        replace: tuple[ast.Expr, ...] = ()
        if rtb is not None:
            replace, bad = trigger_list(rtb.expr)
            if bad is not None:
                self.err(
                    "lifecycle",
                    "replace_triggered_by must be a list of references",
                    "Write replace_triggered_by = [terraform_data.trigger.id].",
                    bad.pos,
                    address,
                )
        return m.Lifecycle(
            prevent_destroy=self.lit_bool(body.attribute("prevent_destroy"), "prevent_destroy", False),
            create_before_destroy=self.lit_bool(
                body.attribute("create_before_destroy"), "create_before_destroy", False
            ),
            ignore_changes=ignore,
            ignore_all_changes=ignore_all,
            replace_triggered_by=replace,
            preconditions=self.conditions(body.blocks_of("precondition"), address),
            postconditions=self.conditions(body.blocks_of("postcondition"), address),
            pos=block.pos,
        )

    def module_call(self, block: ast.Block) -> None:
        if not self.valid_name(block, "module"):
            return
        name = block.labels[0]
        body = block.body
        src = body.attribute("source")
        if src is None:
            self.err(
                "missing-argument",
                f'Module "{name}" has no source',
                'Add source = "./modules/<name>" to the module block.',
                block.pos,
                f"module.{name}",
            )
            return
        source = self.lit_string(src, "A module source")
        if source is None:
            return
        count, for_each = body.attribute("count"), body.attribute("for_each")
        if count is not None and for_each is not None:
            self.err(
                "meta-argument",
                'Both "count" and "for_each" are set',
                f"module.{name} can use count or for_each, not both; remove one.",
                for_each.name_pos,
                f"module.{name}",
            )
        for b in body.blocks:
            self.err(
                "unsupported-block",
                f'Unexpected block "{b.type}" in module "{name}"',
                "A module block takes arguments only (lifecycle isn't supported on modules).",
                b.pos,
            )
        providers = body.attribute("providers")
        call = m.ModuleCall(
            name,
            source,
            src.expr.pos,
            self.lit_string(body.attribute("version"), "A module version"),
            count.expr if count else None,
            for_each.expr if for_each else None,
            self.refs(body.attribute("depends_on"), "depends_on"),
            providers.expr if providers else None,
            {a.name: a for a in body.attributes if a.name not in _MODULE_META},
            block.pos,
        )
        if name in self.module_calls:
            self.duplicate("module call", name, self.module_calls[name].pos, block.pos)
            return
        self.module_calls[name] = call

    def moved_block(self, block: ast.Block) -> None:
        body = block.body
        self.only(body, "moved block", {"from", "to"})
        ends = []
        for key in ("from", "to"):
            attr = body.attribute(key)
            if attr is None:
                self.err(
                    "missing-argument",
                    f'Missing "{key}" in moved block',
                    "A moved block needs from = <old address> and to = <new address>.",
                    block.pos,
                )
                return
            address = traversal_address(attr.expr, allow_module=True)
            if address is None:
                self.err(
                    "address",
                    f'moved "{key}" is not a resource or module address',
                    "Write a bare address such as terraform_data.old or module.net (no quotes).",
                    attr.expr.pos,
                )
                return
            ends.append((attr.expr, address))
        self.moved.append(m.Moved(ends[0][0], ends[1][0], ends[0][1], ends[1][1], block.pos))

    def import_block(self, block: ast.Block) -> None:
        body = block.body
        self.only(body, "import block", {"to", "id", "for_each", "provider", "identity"})
        to, id_ = body.attribute("to"), body.attribute("id")
        if to is None or id_ is None:
            missing = "to" if to is None else "id"
            self.err(
                "missing-argument",
                f'Missing "{missing}" in import block',
                "An import block needs to = <resource address> and id = <the object's id>.",
                block.pos,
            )
            return
        address = traversal_address(to.expr, allow_module=False, allow_key_exprs=True)
        if address is None or address.startswith("data."):
            self.err(
                "address",
                'import "to" is not a managed resource address',
                "Write a bare address such as terraform_data.a (no quotes).",
                to.expr.pos,
            )
            return
        provider = None
        p_attr = body.attribute("provider")
        if p_attr is not None:
            provider = provider_ref(p_attr.expr)
            if provider is None:
                self.err(
                    "meta-argument",
                    "Invalid provider reference",
                    "Write provider = NAME or provider = NAME.<alias>, e.g. provider = random.west.",
                    p_attr.expr.pos,
                )
        fe = body.attribute("for_each")
        self.imports.append(
            m.Import(to.expr, address, id_.expr, fe.expr if fe else None, provider, block.pos)
        )

    def removed_block(self, block: ast.Block) -> None:
        """terraform 1.7's removed block. With lifecycle { destroy = false } the objects leave state
        and stay in the cloud (the plan's "forget"); with destroy = true (the default) it says what
        deleting the resource block already does: the objects are destroyed."""
        body = block.body
        # a misspelt argument must not pass unseen: "destory = false" would destroy what it keeps
        self.only(body, "removed block", {"from"}, {"lifecycle"})
        for lifecycle in body.blocks_of("lifecycle"):
            self.only(lifecycle.body, "removed block's lifecycle block", {"destroy"})
        frm = body.attribute("from")
        address = (
            traversal_address(frm.expr, allow_module=True, allow_key_exprs=False) if frm is not None else None
        )
        if address is None:
            self.err(
                "address",
                "A removed block needs from = <resource or module address>",
                "Write a bare address such as azurerm_key_vault_access_policy.deployer (no quotes, no "
                "instance key).",
                (frm.expr.pos if frm is not None else block.pos),
            )
            return
        assert frm is not None
        if "[" in address:  # terraform's words (addrs/parse_target.go); a key would match no object
            what = "Module" if re.search(r"module\.[\w-]+\[", address) else "Resource"  # terraform's order
            self.err(
                "address",
                f"{what} instance keys not allowed",
                f"Write from = {_without_keys(address)}: a removed block takes every instance of what it "
                "names. For one instance only, change count or for_each to destroy it, or run "
                f"`vaultform state rm '{address}'` to let go of it.",
                frm.expr.pos,
            )
            return
        if address.split(".")[-3:-2] == ["data"]:
            self.err(
                "address",
                "Data source address not allowed",
                "Data sources are never destroyed, so they are not valid targets of removed blocks. To "
                "remove the data source from state, remove the data source block from configuration.",
                frm.expr.pos,
            )
            return
        destroy = True
        for lifecycle in body.blocks_of("lifecycle"):
            destroy = self.lit_bool(lifecycle.body.attribute("destroy"), "destroy", True)
        # with destroy = true, the plan says so while state holds its objects (plan.removed_destroys)
        self.removed.append(m.Removed(address, destroy, block.pos))

    def ignored(self, block: ast.Block) -> None:
        self.diags.append(
            warning(
                "unsupported-block",
                f'"{block.type}" blocks are not supported; ignored',
                f"vaultform skips {block.type} blocks; the rest of the configuration is used.",
                range=block.pos.range(),
            )
        )


# the lifecycle of every resource written without a lifecycle block: frozen and holding only
# defaults, so one value serves them all (a configuration of 10,000 resources made 10,000)
_NO_LIFECYCLE = m.Lifecycle()


def _without_keys(address: str) -> str:
    """An address with its instance keys taken out: ``module.a["x"].t.n[0]`` -> ``module.a.t.n``."""
    return re.sub(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\]', "", address)


def _without(body: ast.Body, attrs: set[str], blocks: set[str]) -> ast.Body:
    return ast.Body(
        tuple(a for a in body.attributes if a.name not in attrs),
        tuple(b for b in body.blocks if b.type not in blocks),
        body.pos,
    )


@dataclass(frozen=True, slots=True)
class _Kind:
    labels: int
    label_names: str
    decode: Callable[[_Decoder, ast.Block], None]


_BLOCKS: dict[str, _Kind] = {
    "terraform": _Kind(0, "", _Decoder.terraform),
    "provider": _Kind(1, "the provider name", _Decoder.provider),
    "variable": _Kind(1, "the variable name", _Decoder.variable),
    "locals": _Kind(0, "", _Decoder.locals_block),
    "output": _Kind(1, "the output name", _Decoder.output),
    "resource": _Kind(2, "the resource type and name", lambda d, b: d.resource(b, m.Mode.MANAGED)),
    "data": _Kind(2, "the data source type and name", lambda d, b: d.resource(b, m.Mode.DATA)),
    "module": _Kind(1, "the module name", _Decoder.module_call),
    "moved": _Kind(0, "", _Decoder.moved_block),
    "import": _Kind(0, "", _Decoder.import_block),
    "check": _Kind(1, "the check name", _Decoder.check),
    "removed": _Kind(0, "", _Decoder.removed_block),
}


def decode_module(files: list[ast.File]) -> tuple[m.Module, list[Diagnostic]]:
    d = _Decoder()
    for f in files:
        for attr in f.body.attributes:
            d.err(
                "unexpected-argument",
                f'Unexpected argument "{attr.name}" at the top level',
                "Top-level lines must be blocks such as resource, variable or locals; put "
                f'"{attr.name}" inside a locals block if it is a value.',
                attr.name_pos,
            )
        for block in f.body.blocks:
            kind = _BLOCKS.get(block.type)
            if kind is None:
                d.err(
                    "unknown-block",
                    f'Unknown block type "{block.type}"',
                    "Top-level blocks are: " + ", ".join(sorted(_BLOCKS)) + ".",
                    block.pos,
                )
                continue
            if len(block.labels) != kind.labels:
                want = (
                    f"{kind.labels} label{'s' if kind.labels != 1 else ''} ({kind.label_names})"
                    if kind.labels
                    else "no labels"
                )
                example = {
                    0: f"{block.type} {{",
                    1: f'{block.type} "name" {{',
                    2: f'{block.type} "type" "name" {{',
                }[kind.labels]
                d.err(
                    "label-count",
                    f'A "{block.type}" block needs {want}',
                    f"It has {len(block.labels)}; write {example} ... }}.",
                    block.pos,
                )
                continue
            kind.decode(d, block)
    for address in (r.address for r in d.removed):
        declared = d.resources.get(address) or d.module_calls.get(address.removeprefix("module."))
        if declared is not None:
            d.diags.append(still_declared(address, declared.pos))
    module = m.Module(
        terraform=m.Terraform(
            tuple(d.required_version),
            tuple(d.required_providers.values()),
            d.backend,
            d.terraform_pos,
            d.encryption,
        ),
        providers=tuple(d.providers),
        variables=d.variables,
        locals=d.locals,
        outputs=d.outputs,
        resources=d.resources,
        module_calls=d.module_calls,
        moved=tuple(d.moved),
        imports=tuple(d.imports),
        files=tuple(f.path for f in files),
        removed=tuple(d.removed),
        checks=d.checks,
    )
    return module, d.diags
