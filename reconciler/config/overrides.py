"""Terraform's override files, merged into the blocks of a module's other files.

``merge_overrides(primary, overrides) -> (files, diagnostics)`` is a pure function over parsed files
(``ast.File``). The override files (``override.tf``, ``*_override.tf``, and the same in .tf.json:
``is_override_file``) are applied after all the module's other files, one after the other in
lexical order of name, each top-level block merged into the block of the same type and labels,
as terraform 1.11 does (internal/configs: module.go ``mergeFile``, module_merge.go,
module_merge_body.go; developer.hashicorp.com/terraform/language/files/override):

* in a ``resource``, ``data``, ``provider``, ``module``, ``variable`` or ``output`` block, an
  argument replaces the base block's argument of that name; the nested blocks of a type replace
  *all* the base's blocks of that type (``dynamic "x"`` counts as type ``x`` either side), others
  stay; nested blocks are never merged into each other. Except:

  - ``lifecycle`` (resources) is merged argument by argument; ``ignore_changes = []`` leaves the
    base's list, and a base ``ignore_changes = all`` stays all. ``replace_triggered_by`` in an
    override is ignored by terraform: here too, with a warning. ``precondition`` and
    ``postcondition`` blocks can't be overridden (an error, as terraform's);
  - ``depends_on`` can't be overridden (resource, data, module, output: an error);
  - a variable's ``validation`` blocks and an output's ``precondition`` blocks can't be
    overridden (errors); an output's ``description = ""`` leaves the base's description, and a
    module's ``providers = {}`` its providers (terraform merges only what is set);
* ``locals``: each value replaces the value of that name, whichever block declares it;
* ``terraform``: ``required_version`` replaces every constraint of the module; each
  ``required_providers`` entry replaces (or adds) the entry of its name; a ``backend`` or
  ``cloud`` block replaces the module's backend or cloud block, whichever it is. Two backend
  blocks in one override file are an error;
* a ``provider`` block without alias and with no base is added as a new configuration;
* ``moved``, ``import`` and ``check`` blocks can't be overridden (errors); ``removed`` blocks and
  ``provider_meta`` are ignored by terraform in override files, here too, with a warning; an
  ``encryption`` block (OpenTofu's) in an override file is an error: vaultform does not merge it;
* an override block with no base block is an error at the override block ("Missing resource to
  override", ...); a block of an unknown type or of the wrong shape is left to the decoder
  (``convert_model``), which reports it as it would in any file.

The merged configuration is then checked as any other: a variable's default that the override's
type doesn't fit (or the other way round) is refused by the variable check, at the default; both
``count`` and ``for_each`` after a merge are refused by the decoder (terraform keeps count then).

The merged blocks keep the base block's position; each argument and nested block keeps the
position of the file it came from, so a problem in merged content points at the override file.
Each override file stays in the result (its name belongs to the module's files, for the digests of
the configuration), with what it adds and does not merge: new ``terraform`` settings, new provider
configurations, and anything malformed, for the decoder to report.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reconciler.config import ast
from reconciler.config.convert_model_exprs import literal_string
from reconciler.diagnostics import Diagnostic, error, warning

__all__ = ["MISSING_CODE", "UNSUPPORTED_CODE", "is_override_file", "merge_overrides"]

MISSING_CODE = "override-missing-base"
UNSUPPORTED_CODE = "override-unsupported"

_NOUNS = {  # block type -> terraform's words in "Missing ... to override"
    "resource": "resource",
    "data": "data resource",
    "variable": "base variable declaration",
    "output": "base output definition",
    "module": "module call",
}


def is_override_file(name: str) -> bool:
    """terraform's override files: ``override.tf``, ``*_override.tf`` and the same in .tf.json."""
    stem = name.removesuffix(".json").removesuffix(".tf")
    return stem == "override" or stem.endswith("_override")


def merge_overrides(
    primary: Sequence[ast.File], overrides: Sequence[ast.File], *, report_missing: bool = True
) -> tuple[list[ast.File], list[Diagnostic]]:
    """``primary`` with each override file merged in (in lexical order of name), followed by the
    override files holding what they add; and the problems. ``report_missing=False`` (when a
    primary file could not be read, its blocks are missing) leaves out the errors of override
    blocks without base."""
    merger = _Merger(primary, report_missing)
    for file in sorted(overrides, key=lambda f: os.path.basename(f.path)):
        merger.apply(file)
    return merger.result(), merger.diags


# --------------------------------------------------------------------------- bodies


def _kind(block: ast.Block) -> str:
    """The block type a nested block stands for: ``dynamic "x"`` stands for ``x`` blocks."""
    return block.labels[0] if block.type == "dynamic" and block.labels else block.type


def merge_body(base: ast.Body, over: ast.Body) -> ast.Body:
    """terraform's shallow merge (``MergeBodies``): an argument of ``over`` replaces the one of that
    name in ``base`` (in place), new ones follow; the blocks of ``over`` of a type replace all of
    ``base``'s blocks of that type (where the first of them was), other types of ``base`` stay."""
    replacing = {a.name: a for a in over.attributes}
    attributes = [replacing.get(a.name, a) for a in base.attributes]
    present = {a.name for a in base.attributes}
    attributes += [a for a in over.attributes if a.name not in present]
    groups: dict[str, list[ast.Block]] = {}
    for b in over.blocks:
        groups.setdefault(_kind(b), []).append(b)
    blocks: list[ast.Block] = []
    placed: set[str] = set()
    for b in base.blocks:
        kind = _kind(b)
        if kind not in groups:
            blocks.append(b)
        elif kind not in placed:
            blocks.extend(groups[kind])
            placed.add(kind)
    for kind, group in groups.items():
        if kind not in placed:
            blocks.extend(group)
    return ast.Body(tuple(attributes), tuple(blocks), base.pos)


def _is_all(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Variable) and expr.name == "all"


def _is_empty_string(expr: ast.Expr) -> bool:
    if isinstance(expr, ast.Template):
        return all(part == "" for part in expr.parts)
    return literal_string(expr) == ""


def _is_empty_collection(expr: ast.Expr) -> bool:
    return isinstance(expr, (ast.TupleCons, ast.ObjectCons)) and not expr.items


def _with_body(block: ast.Block, body: ast.Body) -> ast.Block:
    return dataclasses.replace(block, body=body)


def _body(attributes=(), blocks=(), *, pos: ast.Pos) -> ast.Body:
    return ast.Body(tuple(attributes), tuple(blocks), pos)


# --------------------------------------------------------------------------- the module's files

Location = tuple[int, int, int | None]  # file, top-level block, nested block (a check's data source)


@dataclass
class _FileState:
    path: str
    pos: ast.Pos
    attributes: tuple[ast.Attribute, ...]
    blocks: list[ast.Block]
    original: ast.File | None = None  # returned as it was while nothing changed
    changed: bool = False

    def file(self) -> ast.File:
        if self.original is not None and not self.changed:
            return self.original
        return ast.File(self.path, ast.Body(self.attributes, tuple(self.blocks), self.pos))


@dataclass
class _Merger:
    primary: Sequence[ast.File]
    report_missing: bool
    states: list[_FileState] = field(default_factory=list)
    index: dict[tuple[str, ...], Location] = field(default_factory=dict)
    local_values: dict[str, Location] = field(default_factory=dict)  # file, locals block, argument
    diags: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        for f in self.primary:
            state = _FileState(f.path, f.body.pos, f.body.attributes, list(f.body.blocks), f)
            self.states.append(state)
            self._register(len(self.states) - 1)

    def result(self) -> list[ast.File]:
        return [s.file() for s in self.states]

    # ------------------------------------------------------------------ the index of base blocks

    def _register(self, fi: int, start: int = 0) -> None:
        """Index the blocks of file ``fi`` from ``start``: the first block of a header is the one
        an override merges into (a second is a duplicate the decoder reports)."""
        for bi, block in enumerate(self.states[fi].blocks[start:], start):
            key = _key(block)
            if key is not None:
                self.index.setdefault(key, (fi, bi, None))
            if block.type == "locals" and not block.labels:
                for ai, attr in enumerate(block.body.attributes):
                    self.local_values.setdefault(attr.name, (fi, bi, ai))
            if block.type == "check" and len(block.labels) == 1:
                for ni, nested in enumerate(block.body.blocks):
                    if nested.type == "data" and len(nested.labels) == 2:
                        self.index.setdefault(("data", *nested.labels), (fi, bi, ni))

    def _get(self, loc: Location) -> ast.Block:
        fi, bi, ni = loc
        block = self.states[fi].blocks[bi]
        return block if ni is None else block.body.blocks[ni]

    def _set(self, loc: Location, new: ast.Block) -> None:
        fi, bi, ni = loc
        state = self.states[fi]
        if ni is not None:
            outer = state.blocks[bi]
            nested = list(outer.body.blocks)
            nested[ni] = new
            new = _with_body(outer, dataclasses.replace(outer.body, blocks=tuple(nested)))
        state.blocks[bi] = new
        state.changed = True

    # ------------------------------------------------------------------ one override file

    def apply(self, file: ast.File) -> None:
        state = _FileState(file.path, file.body.pos, file.body.attributes, [], changed=True)
        self.states.append(state)
        terraform: list[ast.Block] = []
        for block in file.body.blocks:
            n = len(block.labels)
            match block.type:
                case "terraform" if n == 0:
                    terraform.append(block)
                case "resource" | "data" if n == 2:
                    self._resource(block, state)
                case "variable" | "output" | "module" if n == 1:
                    self._named(block, state)
                case "provider" if n == 1:
                    self._provider(block, state)
                case "locals" if n == 0:
                    self._locals(block, state)
                case "moved" | "import" if n == 0:
                    self._refuse(
                        block,
                        f"Cannot override '{block.type}' blocks",
                        f"{'Records of moved objects' if block.type == 'moved' else 'Import blocks'} can "
                        "appear only in normal files, not in override files. Move this block into "
                        "another .tf file of the module.",
                    )
                case "check" if n == 1:
                    self._refuse(
                        block,
                        "Can't override check blocks",
                        "Override files cannot override check blocks. Change the check block in the "
                        "file that declares it.",
                    )
                case "removed" if n == 0:
                    self._ignored(
                        block,
                        "removed blocks in override files are ignored",
                        "terraform reads no removed block from an override file, and neither does "
                        "vaultform. Move it into another .tf file of the module for it to apply.",
                    )
                case _:  # unknown, or of the wrong shape: the decoder says what is wrong with it
                    state.blocks.append(block)
        if terraform:
            self._terraform(terraform, state)
        fi = len(self.states) - 1
        self._register(fi)

    # ------------------------------------------------------------------ diagnostics

    def _refuse(self, where: ast.Block | ast.Attribute, summary: str, detail: str) -> None:
        self.diags.append(error(UNSUPPORTED_CODE, summary, detail, range=where.pos.range()))

    def _ignored(self, where: ast.Block | ast.Attribute, summary: str, detail: str) -> None:
        self.diags.append(warning(UNSUPPORTED_CODE, summary, detail, range=where.pos.range()))

    def _missing(self, where: ast.Block | ast.Attribute, summary: str, detail: str) -> None:
        if self.report_missing:
            self.diags.append(error(MISSING_CODE, summary, detail, range=where.pos.range()))

    def _depends_on(self, attr: ast.Attribute) -> None:
        self._refuse(
            attr,
            "Unsupported override",
            "The depends_on argument may not be overridden. Set it in the block the override file overrides.",
        )

    def _conditions(self, blocks: Sequence[ast.Block]) -> None:
        for b in blocks:
            self._refuse(
                b,
                f"Can't override {b.type} blocks",
                f'Override files cannot override "{b.type}" blocks. Change them in the block the '
                "override file overrides.",
            )

    # ------------------------------------------------------------------ block kinds

    def _base(self, block: ast.Block) -> Location | None:
        loc = self.index.get((block.type, *block.labels))
        if loc is not None:
            return loc
        name = block.labels[-1]
        what = {
            "resource": (f'no {block.labels[0]} resource named "{name}"', "a resource block"),
            "data": (f'no {block.labels[0]} data resource named "{name}"', "a data block"),
            "variable": (f'no variable named "{name}"', "a variable that was already declared"),
            "output": (f'no output named "{name}"', "an output that was already defined"),
            "module": (f'no module call named "{name}"', "a module call that was defined"),
        }[block.type]
        self._missing(
            block,
            f"Missing {_NOUNS[block.type]} to override",
            f"There is {what[0]}. An override file can only override {what[1]} in a primary "
            "configuration file (one whose name does not end in _override.tf); declare it there, or "
            "fix the labels of this block.",
        )
        return None

    def _resource(self, block: ast.Block, state: _FileState) -> None:
        loc = self._base(block)
        if loc is None:
            return
        base = self._get(loc)
        over = block.body
        attributes = []
        for a in over.attributes:
            if a.name == "depends_on":
                self._depends_on(a)
            else:
                attributes.append(a)
        lifecycles = over.blocks_of("lifecycle")
        others = [b for b in over.blocks if b.type != "lifecycle"]
        body = merge_body(base.body, _body(attributes, others, pos=over.pos))
        if lifecycles:
            body = self._lifecycle(body, lifecycles, managed=block.type == "resource")
        self._set(loc, _with_body(base, body))

    def _lifecycle(self, body: ast.Body, overs: Sequence[ast.Block], *, managed: bool) -> ast.Body:
        over = overs[0]
        for extra in overs[1:]:
            self._refuse(
                extra,
                "Duplicate lifecycle block",
                f"This resource already has a lifecycle block at {over.pos.file}:{over.pos.line}; "
                "merge them.",
            )
        attributes = []
        for a in over.body.attributes:
            if managed and a.name == "replace_triggered_by":
                self._ignored(
                    a,
                    "replace_triggered_by in an override file is ignored",
                    "terraform does not merge replace_triggered_by from an override file into the "
                    "resource, and neither does vaultform: the resource keeps its own. Set it in the "
                    "resource block the override file overrides.",
                )
                continue
            attributes.append(a)
        conditions = [b for b in over.body.blocks if b.type in ("precondition", "postcondition")]
        self._conditions(conditions)
        blocks = [b for b in over.body.blocks if b.type not in ("precondition", "postcondition")]
        if not attributes and not blocks:
            return body
        at = next((i for i, b in enumerate(body.blocks) if b.type == "lifecycle"), None)
        if at is None:  # the base has none: the override's is the resource's lifecycle
            lifecycle = _with_body(over, _body(attributes, blocks, pos=over.body.pos))
            return dataclasses.replace(body, blocks=body.blocks + (lifecycle,))
        base = body.blocks[at]
        merged = []
        replacing = {a.name: a for a in attributes}
        for a in base.body.attributes:
            new = replacing.pop(a.name, None)
            merged.append(a if new is None else _lifecycle_argument(a, new))
        merged += replacing.values()
        lifecycle = _with_body(base, _body(merged, base.body.blocks + tuple(blocks), pos=base.body.pos))
        return dataclasses.replace(body, blocks=body.blocks[:at] + (lifecycle,) + body.blocks[at + 1 :])

    def _named(self, block: ast.Block, state: _FileState) -> None:
        """A variable, output or module call."""
        loc = self._base(block)
        if loc is None:
            return
        base = self._get(loc)
        attributes = []
        for a in block.body.attributes:
            if a.name == "depends_on" and block.type in ("output", "module"):
                self._depends_on(a)
            elif a.name == "description" and block.type == "output" and _is_empty_string(a.expr):
                continue  # terraform takes an output's description from an override only if not ""
            elif a.name == "providers" and block.type == "module" and _is_empty_collection(a.expr):
                continue  # and a module call's providers only if the map has entries
            else:
                attributes.append(a)
        refused = {"variable": "validation", "output": "precondition"}.get(block.type)
        self._conditions([b for b in block.body.blocks if b.type == refused])
        blocks = [b for b in block.body.blocks if b.type != refused]
        self._set(loc, _with_body(base, merge_body(base.body, _body(attributes, blocks, pos=block.body.pos))))

    def _provider(self, block: ast.Block, state: _FileState) -> None:
        alias_attr = block.body.attribute("alias")
        alias = literal_string(alias_attr.expr) if alias_attr is not None else None
        if alias_attr is not None and alias is None:  # not a literal: the decoder reports it
            state.blocks.append(block)
            return
        loc = self.index.get(("provider", block.labels[0], alias or ""))
        if loc is None:
            if alias is None:  # terraform adds a default configuration an override file declares
                state.blocks.append(block)
                self.index[("provider", block.labels[0], "")] = (
                    len(self.states) - 1,
                    len(state.blocks) - 1,
                    None,
                )
                return
            self._missing(
                block,
                "Missing base provider configuration for override",
                f'There is no {block.labels[0]} provider configuration with the alias "{alias}". An '
                "override file can only override an aliased provider configuration that was already "
                "defined in a primary configuration file.",
            )
            return
        base = self._get(loc)
        self._set(loc, _with_body(base, merge_body(base.body, block.body)))

    def _locals(self, block: ast.Block, state: _FileState) -> None:
        for attr in block.body.attributes:
            loc = self.local_values.get(attr.name)
            if loc is None:
                self._missing(
                    attr,
                    "Missing base local value definition to override",
                    f'There is no local value named "{attr.name}". An override file can only override '
                    "a local value that was already defined in a primary configuration file.",
                )
                continue
            fi, bi, ai = loc
            assert ai is not None
            base = self._get((fi, bi, None))
            values = list(base.body.attributes)
            values[ai] = attr
            self._set(
                (fi, bi, None), _with_body(base, dataclasses.replace(base.body, attributes=tuple(values)))
            )
        if block.body.blocks:  # not values: the decoder says a locals block holds none
            state.blocks.append(_with_body(block, _body((), block.body.blocks, pos=block.body.pos)))

    # ------------------------------------------------------------------ terraform blocks

    def _terraform_blocks(self) -> list[tuple[int, int]]:
        return [
            (fi, bi)
            for fi, s in enumerate(self.states)
            for bi, b in enumerate(s.blocks)
            if b.type == "terraform" and not b.labels
        ]

    def _rewrite_terraform(self, change: Callable[[ast.Body], ast.Body]) -> None:
        for fi, bi in self._terraform_blocks():
            block = self.states[fi].blocks[bi]
            body = change(block.body)
            if body is not block.body:
                self._set((fi, bi, None), _with_body(block, body))

    def _terraform(self, blocks: Sequence[ast.Block], state: _FileState) -> None:
        """The terraform blocks of one override file (terraform merges them file by file)."""
        if any(b.body.attribute("required_version") for b in blocks):

            def no_version(body: ast.Body) -> ast.Body:
                if body.attribute("required_version") is None:
                    return body
                kept = tuple(a for a in body.attributes if a.name != "required_version")
                return dataclasses.replace(body, attributes=kept)

            self._rewrite_terraform(no_version)
        replacing: list[ast.Block] = []
        for kind in ("backend", "cloud"):
            found = [n for b in blocks for n in b.body.blocks_of(kind)]
            for again in found[1:]:
                self._refuse(
                    again,
                    f"Duplicate {kind} configuration",
                    f"Each override file may have only one {kind} block. One was already configured "
                    f"at {found[0].pos.file}:{found[0].pos.line}.",
                )
            replacing += found[:1]
        if replacing:

            def no_backend(body: ast.Body) -> ast.Body:
                if not any(b.type in ("backend", "cloud") for b in body.blocks):
                    return body
                kept = tuple(b for b in body.blocks if b.type not in ("backend", "cloud"))
                return dataclasses.replace(body, blocks=kept)

            self._rewrite_terraform(no_backend)
        leftovers = []
        for block in blocks:
            attributes = list(block.body.attributes)
            nested = []
            for b in block.body.blocks:
                if b.type in ("backend", "cloud"):
                    if any(b is r for r in replacing):
                        nested.append(b)
                elif b.type == "required_providers":
                    added = self._required_providers(b)
                    if added is not None:
                        nested.append(added)
                elif b.type == "provider_meta":
                    self._ignored(
                        b,
                        "provider_meta in an override file is ignored",
                        "terraform reads no provider_meta block from an override file, and neither "
                        "does vaultform.",
                    )
                elif b.type == "encryption":
                    self._refuse(
                        b,
                        "Can't override encryption blocks",
                        "vaultform does not merge an encryption block from an override file into the "
                        "module's. Write it in the terraform block of another .tf file of the module.",
                    )
                else:  # unknown here: the decoder reports it
                    nested.append(b)
            if attributes or nested:
                leftovers.append(_with_body(block, _body(attributes, nested, pos=block.body.pos)))
        state.blocks.extend(leftovers)

    def _required_providers(self, block: ast.Block) -> ast.Block | None:
        """Each entry replaces the module's entry of its name, or joins its first required_providers
        block; the entries no block can take come back in a block of their own."""
        for b in block.body.blocks:
            self._refuse(
                b,
                f'Unexpected block "{b.type}" in required_providers',
                'required_providers holds entries such as azurerm = { source = "hashicorp/azurerm" }.',
            )
        new = []
        for entry in block.body.attributes:
            if not self._replace_entry(entry, add=False) and not self._replace_entry(entry, add=True):
                new.append(entry)
        return _with_body(block, _body(new, (), pos=block.body.pos)) if new else None

    def _replace_entry(self, entry: ast.Attribute, *, add: bool) -> bool:
        for fi, bi in self._terraform_blocks():
            block = self.states[fi].blocks[bi]
            for ni, rp in enumerate(block.body.blocks):
                if rp.type != "required_providers":
                    continue
                names = [a.name for a in rp.body.attributes]
                if entry.name in names:
                    entries = tuple(entry if a.name == entry.name else a for a in rp.body.attributes)
                elif add:
                    entries = rp.body.attributes + (entry,)
                else:
                    continue
                nested = list(block.body.blocks)
                nested[ni] = _with_body(rp, dataclasses.replace(rp.body, attributes=entries))
                self._set(
                    (fi, bi, None), _with_body(block, dataclasses.replace(block.body, blocks=tuple(nested)))
                )
                return True
        return False


def _lifecycle_argument(base: ast.Attribute, over: ast.Attribute) -> ast.Attribute:
    """terraform merges ignore_changes only when the override's says something: ``[]`` leaves the
    base's list, and a base ``all`` stays all whatever list the override gives."""
    if over.name != "ignore_changes" or _is_all(over.expr):
        return over
    if isinstance(over.expr, ast.TupleCons) and not over.expr.items:
        return base
    return base if _is_all(base.expr) else over


def _key(block: ast.Block) -> tuple[str, ...] | None:
    """The header an override block is matched by; providers by name and alias."""
    n = len(block.labels)
    if block.type in ("resource", "data") and n == 2:
        return (block.type, *block.labels)
    if block.type in ("variable", "output", "module") and n == 1:
        return (block.type, block.labels[0])
    if block.type == "provider" and n == 1:
        alias = block.body.attribute("alias")
        name = literal_string(alias.expr) if alias is not None else ""
        return None if name is None else ("provider", block.labels[0], name)
    return None
