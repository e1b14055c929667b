"""References to things that don't exist, or used where they can't be.

Runs over the sites of a module, using the static references of each expression.
Every problem is a diagnostic at the reference's own position with a "did you mean".
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass

from providers.schema import BlockSchema
from reconciler.addresses import Mode
from reconciler.checks.sites import Site
from reconciler.config.convert_model_exprs import past_whole_object
from reconciler.config.model import Module
from reconciler.config.references import Reference, references
from reconciler.diagnostics import Diagnostic, error

CODE = "reference"

PATH_ATTRS = ("module", "root", "cwd")
SchemaLookup = Callable[[Mode, str], "BlockSchema | None"]


# A hint compares the name with every candidate; with thousands of both, hinting every
# error was quadratic (a 3 MB configuration spent minutes here). Past this many
# comparisons in one check, errors come without a hint.
HINT_COMPARISONS = 200_000
_hint_budget = [HINT_COMPARISONS]


def _hint(name: str, candidates: Iterable[str]) -> str:
    if _hint_budget[0] <= 0 or (isinstance(candidates, Sized) and len(candidates) > _hint_budget[0]):
        return ""
    names = sorted(set(candidates))
    if len(names) > _hint_budget[0]:
        return ""
    _hint_budget[0] -= len(names)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""


# The checker's method for each root name; any other root names a managed resource.
_HANDLERS = {
    "var": "_var",
    "local": "_local",
    "module": "_module",
    "data": "_data",
    "count": "_count",
    "each": "_each",
    "path": "_path",
    "terraform": "_terraform",
    "self": "_self",
}


@dataclass
class ReferenceChecker:
    module: Module
    children: dict[str, Module | None]  # module call name -> loaded child (None: failed to load)
    schema_of: SchemaLookup

    def check(self, sites: Iterable[Site]) -> list[Diagnostic]:
        _hint_budget[0] = HINT_COMPARISONS
        out: list[Diagnostic] = []
        for site in sites:
            if site.kind == "depends_on" and past_whole_object(site.expr) is not None:
                continue  # refused as a whole (Invalid depends_on reference), as terraform 1.11 does
            for ref in references(site.expr):
                if ref.root in site.bound:
                    continue
                diag = self.check_one(ref, site)
                if diag is not None:
                    out.append(diag)
        return out

    # ------------------------------------------------------------------ per root name

    def check_one(self, ref: Reference, site: Site) -> Diagnostic | None:
        handler: Callable[[Reference, Site], Diagnostic | None] = getattr(
            self, _HANDLERS.get(ref.root, "_resource")
        )
        return handler(ref, site)

    def _err(self, ref: Reference, summary: str, detail: str) -> Diagnostic:
        return error(CODE, summary, detail, range=ref.pos.range())

    def _var(self, ref: Reference, site: Site) -> Diagnostic | None:
        name = ref.subject[1] if len(ref.subject) > 1 else ""
        if name in self.module.variables:
            return None
        return self._err(
            ref,
            "Reference to undeclared input variable",
            f'An input variable named "{name}" has not been declared. Declare it with '
            f'variable "{name}" {{ type = string }}.' + _hint(name, self.module.variables),
        )

    def _local(self, ref: Reference, site: Site) -> Diagnostic | None:
        name = ref.subject[1] if len(ref.subject) > 1 else ""
        if name in self.module.locals:
            return None
        return self._err(
            ref,
            "Reference to undeclared local value",
            f'No local value named "{name}" is declared. Add it to a locals {{ }} block.'
            + _hint(name, self.module.locals),
        )

    def _module(self, ref: Reference, site: Site) -> Diagnostic | None:
        if len(ref.subject) < 2:
            return self._err(ref, "Invalid reference", 'Write "module.<name>.<output>".')
        name = ref.subject[1]
        call = self.module.module_calls.get(name)
        if call is None:
            return self._err(
                ref,
                "Reference to undeclared module",
                f'No module call named "{name}" is declared in this module.'
                + _hint(name, self.module.module_calls),
            )
        child = self.children.get(name)
        if child is None or len(ref.subject) < 3:
            return None
        output = ref.subject[2]
        if output in child.outputs:
            return None
        return self._err(
            ref,
            "Unsupported attribute",
            f'Module "{name}" has no output named "{output}".' + _hint(output, child.outputs),
        )

    def _data(self, ref: Reference, site: Site) -> Diagnostic | None:
        if len(ref.subject) < 3:
            return self._err(ref, "Invalid data source reference", 'Write "data.<type>.<name>.<attribute>".')
        return self._resource_like(ref, Mode.DATA, ref.subject[1], ref.subject[2], site)

    def _resource(self, ref: Reference, site: Site) -> Diagnostic | None:
        if len(ref.subject) < 2:
            return self._err(
                ref,
                "Invalid reference",
                f'"{ref.root}" alone is not a value. A resource is referred to as '
                f"<type>.<name>.<attribute>; other names are var.*, local.*, module.*, data.*.",
            )
        return self._resource_like(ref, Mode.MANAGED, ref.subject[0], ref.subject[1], site)

    def _addresses_by_mode(self) -> dict[Mode, list[str]]:
        """The module's resource addresses per mode, listed once per check (not per error)."""
        cached = self.__dict__.get("_by_mode")
        if cached is None:
            cached = {}
            for address, resource in self.module.resources.items():
                cached.setdefault(resource.mode, []).append(address)
            self.__dict__["_by_mode"] = cached
        return cached

    def _inside_check(self, site: Site, check: str) -> bool:
        """Whether ``site`` is in check block ``check``: an assert, or a data block scoped to it."""
        if site.node == f"check.{check}":
            return True
        enclosing = self.module.resources.get(site.node.partition("#")[0])
        return enclosing is not None and enclosing.check == check

    def _resource_like(
        self, ref: Reference, mode: Mode, rtype: str, name: str, site: Site
    ) -> Diagnostic | None:
        prefix = "data." if mode is Mode.DATA else ""
        address = f"{prefix}{rtype}.{name}"
        resource = self.module.resources.get(address)
        if resource is None:
            same_mode = self._addresses_by_mode().get(mode, [])
            return self._err(
                ref,
                "Reference to undeclared resource",
                f"A {'data source' if mode is Mode.DATA else 'managed resource'} "
                f'"{rtype}" "{name}" has not been declared in this module.' + _hint(address, same_mode),
            )
        if resource.check and not self._inside_check(site, resource.check):
            return self._err(
                ref,
                "Reference to scoped resource",
                f'The data source "{rtype}" "{name}" is declared inside check "{resource.check}", so '
                "only that check block can refer to it. Move the data block out of the check to use "
                "it elsewhere.",
            )
        steps = list(ref.remaining)
        multi = resource.count is not None or resource.for_each is not None
        if multi:
            if steps and not ref.is_index(0):
                how = "[count.index] or [0]" if resource.count is not None else '[each.key] or ["name"]'
                return self._err(
                    ref,
                    "Missing resource instance key",
                    f'{address} has "{"count" if resource.count is not None else "for_each"}" '
                    f"set, so its attributes belong to specific instances. Pick one with {how}, "
                    f"or all of them with {address}[*].{steps[0]}.",
                )
            if steps:
                steps = steps[1:]
        elif steps and ref.is_index(0):
            return self._err(
                ref,
                "Unexpected resource instance key",
                f'{address} has no "count" or "for_each", so it has one instance: '
                f"write {address}.<attribute> without an index.",
            )
        if not steps or not isinstance(steps[0], str):
            return None
        schema = self.schema_of(mode, rtype)
        if schema is None:
            return None
        attr = steps[0]
        if attr in schema.attribute_map or attr in schema.block_map:
            return None
        names = schema.names()
        return self._err(
            ref,
            "Unsupported attribute",
            f'{rtype} has no attribute named "{attr}".'
            + (_hint(attr, names) or f" Its attributes are: {', '.join(sorted(names))}."),
        )

    def _count(self, ref: Reference, site: Site) -> Diagnostic | None:
        if len(ref.subject) > 1 and ref.subject[1] != "index":
            return self._err(ref, "Invalid count attribute", 'The only attribute of "count" is "index".')
        if not site.has_count:
            return self._err(
                ref,
                'Reference to "count" in non-counted context',
                '"count.index" is only available in a resource or module block that sets count.',
            )
        return None

    def _each(self, ref: Reference, site: Site) -> Diagnostic | None:
        if len(ref.subject) > 1 and ref.subject[1] not in ("key", "value"):
            return self._err(ref, 'Invalid "each" attribute', '"each" has only "key" and "value".')
        if not site.has_for_each:
            return self._err(
                ref,
                'Reference to "each" in context without for_each',
                '"each.key" and "each.value" are only available in a block that sets for_each.',
            )
        return None

    def _path(self, ref: Reference, site: Site) -> Diagnostic | None:
        if len(ref.subject) > 1 and ref.subject[1] in PATH_ATTRS:
            return None
        return self._err(ref, 'Invalid "path" attribute', "Use path.module, path.root or path.cwd.")

    def _terraform(self, ref: Reference, site: Site) -> Diagnostic | None:
        if len(ref.subject) > 1 and ref.subject[1] == "workspace":
            return None
        return self._err(ref, 'Invalid "terraform" attribute', "The only attribute is terraform.workspace.")

    def _self(self, ref: Reference, site: Site) -> Diagnostic | None:
        return self._err(
            ref,
            'Invalid "self" reference',
            '"self" names the object itself only in a postcondition block of its lifecycle. '
            "Elsewhere, refer to the resource by its address.",
        )
