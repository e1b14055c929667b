"""Terraform's module registry protocol: service discovery, versions, download location.

https://developer.hashicorp.com/terraform/internals/module-registry-protocol:
``GET https://HOST/.well-known/terraform.json`` names the ``modules.v1`` base; ``BASE/NS/NAME/
PROVIDER/versions`` lists versions; ``BASE/NS/NAME/PROVIDER/VERSION/download`` answers 204 with
an ``X-Terraform-Get`` header saying where the files are (a go-getter address).
"""

from __future__ import annotations

from urllib.parse import urljoin

from reconciler.modinstall.fetch import FetchError
from reconciler.modinstall.sources import Source, parse_source
from reconciler.modinstall.versions import newest_matching

TIMEOUT = 60


def _get(url: str, what: str):
    import requests  # lazy: start-up

    try:
        response = requests.get(url, timeout=TIMEOUT, allow_redirects=True)
    except requests.RequestException as exc:
        raise FetchError(
            f"the module registry can't be reached for {what} ({exc.__class__.__name__}). vaultform init "
            "needs the network to fetch registry modules; on a machine without it, vendor the module "
            "into the repository and use a local source (./modules/NAME)."
        ) from None
    if response.status_code == 404:
        raise FetchError(f"the registry has no {what} ({url} answered 404)")
    if response.status_code >= 400:
        raise FetchError(f"the registry answered {response.status_code} for {what} ({url})")
    return response


def resolve(address: str, constraint: str | None) -> tuple[str, Source]:
    """The chosen version of registry module ``address`` and the source its files come from."""
    host, ns, name, provider = address.split("/", 3)[0], *address.split("/")[1:4]
    discovery = _get(f"https://{host}/.well-known/terraform.json", f"{host}'s service discovery").json()
    base = discovery.get("modules.v1")
    if not base:
        raise FetchError(f"{host} serves no module registry (its discovery document has no modules.v1)")
    base = urljoin(f"https://{host}/.well-known/terraform.json", base)
    if not base.endswith("/"):
        base += "/"
    listing = _get(f"{base}{ns}/{name}/{provider}/versions", f"module {address}").json()
    versions = [v["version"] for m in listing.get("modules", []) for v in m.get("versions", [])]
    chosen = newest_matching(versions, constraint)
    if chosen is None:
        wanted = f" matching {constraint!r}" if constraint else ""
        raise FetchError(
            f"module {address} has no version{wanted}; the registry lists {', '.join(versions) or 'none'}"
        )
    download_url = f"{base}{ns}/{name}/{provider}/{chosen}/download"
    response = _get(download_url, f"module {address} {chosen}")
    where = response.headers.get("X-Terraform-Get")
    if not where:
        raise FetchError(f"the registry gave no download location for {address} {chosen}")
    if where.startswith(("./", "../", "/")):
        where = urljoin(download_url, where)
    source = parse_source(where)
    if source is None:
        raise FetchError(f"module {address} {chosen} is stored at {where!r}, which vaultform can't fetch")
    return chosen, source
