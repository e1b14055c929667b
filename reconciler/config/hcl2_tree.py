"""python-hcl2's parse, with less of its fixed cost per node (imported where a file is parsed).

``parse(text)`` returns what ``hcl2.parses(text, discard_comments=True)`` returns, raising
the same errors: python-hcl2's own Lark parser and its own ``RuleTransformer``. Two costs
that python-hcl2 pays for every node are paid once instead:

* lark's ``v_args(meta=True)`` methods (all of ``RuleTransformer``'s rule methods) are
  descriptors that build a new wrapper, through ``functools.update_wrapper``, each time the
  transformer looks one up - once per node of the tree. One transformer per process keeps
  each bound wrapper in its own ``__dict__`` (the descriptor has no ``__set__``, so the
  instance's entry wins), so lookups find it ready. The transformer keeps no state between
  trees (``discard_new_line_or_comments`` is its only attribute).
* Every python-hcl2 node links to its parent and its parent to it: the whole tree is one
  cycle, which only the garbage collector can free (about a sixth of a cold parse went to
  collecting parsed trees). ``release(tree)``, once the tree is converted, unlinks every
  node from its parent, so reference counting frees the tree at once.
"""

from __future__ import annotations

import functools

import hcl2
from hcl2.parser import parser
from hcl2.rules.abstract import LarkElement
from hcl2.transformer import RuleTransformer
from lark import visitors


@functools.lru_cache(maxsize=1)
def _transformer() -> RuleTransformer:
    transformer = RuleTransformer(discard_new_line_or_comments=True)
    # lark 1.x's descriptor; were it gone, the methods would just be looked up as usual
    wrapper = getattr(visitors, "_VArgsWrapper", None)
    if wrapper is None:
        return transformer
    for klass in reversed(type(transformer).__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, wrapper):
                transformer.__dict__[name] = getattr(transformer, name)
    return transformer


def prepare() -> None:
    """Load the grammar, the transformer and the converter now (before forking workers)."""
    from reconciler.config import convert, loader_errors  # noqa: F401  # lazy: start-up

    parser()
    _transformer()


def parse(text: str):
    """``hcl2.parses(text, discard_comments=True)``: lark's errors and VisitError alike."""
    return _transformer().transform(hcl2.parses_to_tree(text))


def release(tree) -> None:
    """Unlink every node of a python-hcl2 tree from its parent (the tree is not used again)."""
    stack = [tree]
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        node._parent = None
        children = getattr(node, "_children", None)
        if children:
            extend([child for child in children if isinstance(child, LarkElement)])
