"""Module source addresses as Terraform reads them, for the kinds ``init`` can fetch.

``git::URL[//subdir][?ref=REF]`` (and ``github.com/org/repo``, ``git@host:org/repo.git``),
registry addresses ``[HOST/]NAMESPACE/NAME/PROVIDER[//subdir]`` (host registry.terraform.io
by default), and archives over HTTPS (``.zip``, ``.tar.gz``, ``.tgz``, or ``?archive=``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_REGISTRY = "registry.terraform.io"
_REGISTRY = re.compile(
    r"^(?:(?P<host>[a-z0-9.-]+(?::\d+)?)/)?(?P<ns>[A-Za-z0-9_-]+)/(?P<name>[A-Za-z0-9_-]+)/(?P<provider>[a-z0-9]+)$"
)


class Kind(enum.Enum):
    GIT = "git"
    REGISTRY = "registry"
    ARCHIVE = "archive"


@dataclass(frozen=True)
class Source:
    kind: Kind
    url: str  # git URL, archive URL, or the registry address HOST/NS/NAME/PROVIDER
    ref: str | None = None
    subdir: str = ""

    def describe(self) -> str:
        ref = f" (ref {self.ref})" if self.ref else ""
        sub = f" //{self.subdir}" if self.subdir else ""
        return f"{self.url}{ref}{sub}"


def _split_subdir(text: str) -> tuple[str, str]:
    """``URL//sub/dir?q`` -> (``URL?q``, ``sub/dir``); the ``//`` after a scheme doesn't count."""
    start = text.find("://")
    start = start + 3 if start >= 0 else 0
    cut = text.find("//", start)
    if cut < 0:
        return text, ""
    rest = text[cut + 2 :]
    sub, q, query = rest.partition("?")
    return text[:cut] + (q + query if q else ""), sub.strip("/")


def _take_ref(url: str) -> tuple[str, str | None]:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ref = next((v for k, v in query if k == "ref"), None)
    rest = [(k, v) for k, v in query if k != "ref"]
    return urlunsplit(parts._replace(query=urlencode(rest))), ref


def parse_source(text: str) -> Source | None:
    """The fetchable source ``text`` names, or None for a local path or a kind init can't fetch."""
    if text.startswith(("./", "../", "/")) or text in (".", ".."):
        return None
    forced = text.startswith("git::")
    body = text[5:] if forced else text
    if body.startswith("github.com/"):
        body, forced = "https://" + body, True
        head, sub = _split_subdir(body)
        head, q, query = head.partition("?")
        if not head.endswith(".git"):
            head += ".git"
        body = head + (q + query if q else "") + (f"//{sub}" if sub else "")
    if body.startswith("git@"):
        forced = True
    if forced:
        url, sub = _split_subdir(body)
        url, ref = (
            _take_ref(url)
            if "://" in url
            else (url.partition("?")[0], dict(parse_qsl(url.partition("?")[2])).get("ref"))
        )
        return Source(Kind.GIT, url, ref, sub)
    if body.startswith("https://") or body.startswith("http://"):
        url, sub = _split_subdir(body)
        return Source(Kind.ARCHIVE, url, None, sub)
    head, sub = _split_subdir(body)
    m = _REGISTRY.match(head)
    if m:
        host = m.group("host") or DEFAULT_REGISTRY
        return Source(
            Kind.REGISTRY, f"{host}/{m.group('ns')}/{m.group('name')}/{m.group('provider')}", None, sub
        )
    return None
