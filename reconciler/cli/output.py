"""Where the CLI writes: colour only on a terminal and never with NO_COLOR."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from reconciler.cli.flags import is_terminal
from reconciler.diagnostics import Diagnostic, SourceCache, render_text


def display_path(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") and os.path.isabs(path) else rel


@dataclass
class Output:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    no_color: bool = False
    sources: SourceCache = field(default_factory=SourceCache)
    # set under -json on plan/apply/destroy: diagnostics and progress become JSON lines
    json_ui: Any = None

    @property
    def color(self) -> bool:
        return not self.no_color and "NO_COLOR" not in os.environ and is_terminal(self.out)

    def print(self, text: str = "") -> None:
        self.out.write(text + ("\n" if not text.endswith("\n") else ""))
        self.out.flush()

    def diagnostics(self, diags: list[Diagnostic], *, stream: TextIO | None = None) -> None:
        if not diags:
            return
        if self.json_ui is not None:
            self.json_ui.diagnostics(diags)
            return
        stream = stream or self.err
        color = not self.no_color and "NO_COLOR" not in os.environ and is_terminal(stream)
        stream.write("\n" + render_text(diags, sources=self.sources, color=color, display_path=display_path))
        stream.flush()

    def style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text
