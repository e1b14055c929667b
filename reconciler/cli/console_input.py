"""When an interactive console line continues on the next one, as terraform console decides it.

terraform's heuristic (internal/repl/continuation.go, ExpressionEntryCouldContinue): the entry
continues while an opening bracket, brace, parenthesis, heredoc or template interpolation is
left open and every closing one so far matched; an empty last line, or input that can't be
balanced, ends the entry so it is evaluated (and an error reported) at once.
"""

from __future__ import annotations

import re

_HEREDOC = re.compile(r"<<-?([A-Za-z_][\w-]*)[ \t]*$")
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def could_continue(lines: list[str]) -> bool:
    if not lines or not lines[-1].strip():
        return False
    stack: list[str] = []
    heredoc: str | None = None
    for line in lines:
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
                stack.pop()
            continue
        balanced = _scan(line, stack)
        if balanced is False:
            return False
        opened = _HEREDOC.search(line)
        if opened and (not stack or stack[-1] != '"'):
            heredoc = opened.group(1)
            stack.append("<<")
    return bool(stack)


def _scan(line: str, stack: list[str]) -> bool:
    """Brackets and strings of one line onto ``stack``; False when a closer matches nothing."""
    i = 0
    while i < len(line):
        c = line[i]
        in_string = bool(stack) and stack[-1] == '"'
        if in_string:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                stack.pop()
            elif line.startswith("${", i) or line.startswith("%{", i):
                stack.append("${")
                i += 2
                continue
        elif c == '"':
            stack.append('"')
        elif c == "#" or line.startswith("//", i):
            return True
        elif c in "([{":
            stack.append(c)
        elif c == "}" and stack and stack[-1] == "${":
            stack.pop()
        elif c in _CLOSERS:
            if not stack or stack[-1] != _CLOSERS[c]:
                return False
            stack.pop()
        i += 1
    # a quoted string can't span lines: evaluate it and let the error say so
    return not (stack and stack[-1] == '"')
