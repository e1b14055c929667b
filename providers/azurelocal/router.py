"""Case-insensitive path routing for the emulator's REST surfaces."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from providers.azurelocal.http import AzureError, Request, Response

Handler = Callable[[Request], Response]

ARM = "arm"  # management.azure.com
VAULT = "vault"  # {name}.vault.azure.net


@dataclass(frozen=True)
class Route:
    surface: str
    method: str
    pattern: re.Pattern
    template: str
    handler: Handler


def _compile(template: str) -> re.Pattern:
    """'/subscriptions/{sub}/resourceGroups/{rg}' -> a case-insensitive regex.

    ``{name}`` matches one segment; ``{name:path}`` matches one or more segments.
    """
    out = ""
    for part in re.split(r"(\{[^}]+\})", template.rstrip("/")):
        if part.startswith("{"):
            name, _, kind = part[1:-1].partition(":")
            out += f"(?P<{name}>.+)" if kind == "path" else f"(?P<{name}>[^/]+)"
        else:
            out += re.escape(part)
    return re.compile(f"^{out}/?$", re.IGNORECASE)


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, surface: str, method: str, template: str, handler: Handler) -> None:
        self.routes.append(Route(surface, method.upper(), _compile(template), template, handler))

    def route(self, surface: str, method: str, template: str):
        def deco(fn: Handler) -> Handler:
            self.add(surface, method, template, fn)
            return fn

        return deco

    def match(self, surface: str, request: Request) -> tuple[Route, dict[str, str]]:
        allowed = False
        best: tuple[Route, dict[str, str]] | None = None
        for r in self.routes:
            if r.surface != surface:
                continue
            m = r.pattern.match(request.path)
            if not m:
                continue
            if r.method != request.method:
                allowed = True
                continue
            # the most specific template (most literal characters) wins
            if best is None or len(r.template) > len(best[0].template):
                best = (r, m.groupdict())
        if best:
            return best
        if allowed:
            raise AzureError(
                405,
                "MethodNotAllowed",
                f"The requested resource does not support http method '{request.method}'.",
            )
        raise AzureError(
            404,
            "NoRegisteredProviderFound" if surface == ARM else "NotFound",
            f"No route for {request.method} {request.path}",
        )
