"""`vaultform audit [DIR]`: the compliance audit of everything the providers' credentials can read.

Each provider that has an audit (``SupportsAudit``) says what it checks; for the azurerm
provider, for example, the CMK compliance of every Recovery Services vault in the
subscription, on the embedded local Azure (the default) or real Azure. With DIR, the
configuration's providers are audited, configured by its provider blocks; without, every
installed provider that can audit, with its defaults. A provider that can audit across its
credentials' accounts (``SupportsTenantAudit``) reads every subscription they can see, or the ones
named with ``-subscription`` (repeatable), printing a progress line per subscription on stderr; a
subscription that can't be read is reported and the others are still audited. Exit 0 when
everything audited is compliant, 2 when anything is not, 1 when nothing is non-compliant but a
subscription could not be read, and 1 on error (including no provider with an audit).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from providers.base import (
    Clock,
    ProviderError,
    RetryableError,
    SupportsAudit,
    SupportsTenantAudit,
    TenantAudit,
)
from reconciler import providers_registry as registry
from reconciler import session as steps
from reconciler.apply.progress import format_delay
from reconciler.apply.retry_policy import RetryPolicy
from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.diagnostics import DiagnosticsError, error
from reconciler.drift.audit_render import AuditReport, render_json, render_markdown, render_text


def setup(parser) -> None:
    parser.add_argument(
        "dir",
        nargs="?",
        default=None,
        help="configuration directory whose provider blocks select the cloud (optional)",
    )
    flag(parser, "json", action="store_true", help="the audit as JSON (reconciler/drift/SCHEMA.md)")
    flag(parser, "markdown", metavar="FILE", default=None, help="also write the audit as markdown")
    flag(parser, "no-color", action="store_true", help="no colour in the output")
    flag(
        parser,
        "subscription",
        action="append",
        metavar="ID",
        default=None,
        help="audit this subscription (repeat for several); default: every subscription the "
        "credentials can see",
    )


def _configured(providers: list) -> list:
    for p in providers:
        diags = p.configure({})
        if any(d.is_error for d in diags):
            raise DiagnosticsError([d for d in diags if d.is_error])
    return providers


def auditors(providers: list, where: str) -> list[SupportsAudit]:
    """The providers that can audit; none is an error that names them."""
    able = [p for p in providers if isinstance(p, SupportsAudit)]
    if able:
        return able
    names = ", ".join(sorted(str(getattr(p, "name", type(p).__name__)) for p in providers)) or "none"
    raise DiagnosticsError(
        error(
            "audit_unsupported",
            f"No provider {where} has an audit",
            f"The providers {where} ({names}) offer no audit; audit needs a provider that implements "
            "one. Run it on a configuration that uses such a provider, or without a directory to "
            "use every installed one.",
        )
    )


def audit_all(
    providers: list, scopes: list[str] | None = None, progress: Callable[[str], None] = lambda _m: None
) -> tuple[TenantAudit, str]:
    """Everything the providers audit, and which clouds they read: across every account a provider's
    credentials can see (or ``scopes``) when it can (``SupportsTenantAudit``)."""
    found = TenantAudit()

    def waiting(refusal: RetryableError, _attempt: int, delay: float) -> None:
        first = (refusal.message.strip().splitlines() or [""])[0].rstrip(" .")
        progress(f"{first}; reading again in {format_delay(delay)}")

    def patiently(read: Callable[[], T]) -> T:
        # a read Azure refuses for now (throttled past the SDK's retries) is waited out, as a plan's
        return RetryPolicy().run(read, sleep=Clock().sleep, jitter=random.random, on_wait=waiting)

    for p in providers:
        try:
            if isinstance(p, SupportsTenantAudit):  # each subscription's reads waited out on their own
                got: TenantAudit | list[dict] = p.audit_tenant(scopes, progress, patiently)
            else:
                got = patiently(p.audit)
        except ProviderError as exc:
            raise DiagnosticsError(
                error(
                    exc.code or "audit_failed",
                    "Reading the cloud for the audit failed",
                    f"{exc.message} Check the credentials and that the caller may read what the "
                    f"{getattr(p, 'name', 'provider')} provider audits.",
                )
            ) from exc
        if isinstance(got, TenantAudit):
            found.objects += got.objects
            found.accounts += got.accounts
            found.unreadable += got.unreadable
        else:
            found.objects += got
    try:
        cloud = registry.describe_cloud(providers)
    except ProviderError as exc:
        cloud = f"unavailable cloud ({exc.message})"
    return found, cloud


def _close(providers: list) -> None:
    for p in providers:
        close = getattr(p, "close", None)
        if close is not None:
            close()


T = TypeVar("T")

_SUBSCRIPTION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _subscriptions(given: list[str] | None) -> list[str] | None:
    """The ``-subscription`` ids, lower case and each once; an id that isn't one (an unset CI
    variable gives "") is refused rather than auditing something else."""
    if not given:
        return None
    out: list[str] = []
    for text in given:
        wanted = text.strip().lower()
        if not _SUBSCRIPTION_ID.fullmatch(wanted):
            raise DiagnosticsError(
                error(
                    "audit_subscription",
                    "Invalid subscription id",
                    f"-subscription {text!r} is not a subscription id: give the subscription's GUID "
                    "(as `az account list` shows it), or leave -subscription out to audit every "
                    "subscription the credentials can see.",
                )
            )
        if wanted not in out:
            out.append(wanted)
    return out


def _check_places(args) -> None:
    """A directory that isn't there, or a -markdown file that can't be made, is said before the
    audit reads anything rather than after."""
    if args.dir and not Path(args.dir).is_dir():
        raise DiagnosticsError(
            error(
                "audit_dir",
                f"No directory {args.dir}",
                "Give the directory of a configuration whose provider blocks say where to audit, "
                "or leave DIR out to audit with the installed providers' settings.",
            )
        )
    if args.markdown and (Path(args.markdown).is_dir() or not Path(args.markdown).resolve().parent.is_dir()):
        raise DiagnosticsError(
            error(
                "markdown_write",
                f"Can't write {args.markdown}",
                "It is a directory, or its directory does not exist; choose a writable file path for "
                "-markdown.",
            )
        )


def run(args, out: Output) -> int:
    scopes = _subscriptions(args.subscription)
    _check_places(args)

    def progress(line: str) -> None:
        out.err.write(f"audit: {line}\n")
        out.err.flush()

    if args.dir and any(any(Path(args.dir).glob(pattern)) for pattern in ("*.tf", "*.tf.json")):
        session = steps.open_session(args.dir)  # configures the providers from the provider blocks
        try:
            found, cloud = audit_all(
                auditors(list(session.providers.values()), "in this configuration"), scopes, progress
            )
        finally:
            session.close()
    else:
        installed = registry.installed_providers()
        try:
            found, cloud = audit_all(_configured(auditors(installed, "installed")), scopes, progress)
        finally:
            _close(installed)
    report = AuditReport(
        found.objects,
        cloud,
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        subscriptions=found.accounts,
        unreadable=found.unreadable,
    )
    out.print(render_json(report) if args.json else render_text(report))
    if args.markdown:
        try:
            Path(args.markdown).write_text(render_markdown(report))
        except OSError as exc:
            raise DiagnosticsError(
                error(
                    "markdown_write",
                    f"Can't write {args.markdown}",
                    f"{exc.strerror or exc}; choose a writable path for -markdown.",
                )
            ) from exc
    return report.exit_code
