"""`vaultform audit [DIR]`: the CMK compliance of every Recovery Services vault in the subscription.

Works on the embedded local Azure (the default) or real Azure (``VAULTFORM_CLOUD=azure``,
or a configuration directory whose ``provider "azurerm"`` block says which subscription).
Exit 0 when every vault is compliant, 2 when any is not, 1 on error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from providers.base import ProviderError
from reconciler import providers_registry as registry
from reconciler.cli.flags import flag
from reconciler.cli.output import Output
from reconciler.diagnostics import DiagnosticsError, error


def setup(parser) -> None:
    parser.add_argument(
        "dir",
        nargs="?",
        default=None,
        help="configuration directory whose provider block selects the cloud (optional)",
    )
    flag(parser, "json", action="store_true", help="the audit as JSON (reconciler/drift/SCHEMA.md)")
    flag(parser, "markdown", metavar="FILE", default=None, help="also write the audit as markdown")
    flag(parser, "no-color", action="store_true", help="no colour in the output")


def _provider(args):
    """The azurerm provider, configured by DIR's provider block when DIR has a configuration."""
    if args.dir and any(Path(args.dir).glob("*.tf")):
        from reconciler import session as steps

        session = steps.open_session(args.dir)
        provider = session.providers.get("azurerm")
        if provider is not None:
            return provider, session.close
        session.close()
    provider = registry.create_provider("azurerm")
    if provider is None:
        raise DiagnosticsError(
            error(
                "no_provider",
                "The azurerm provider is not installed",
                "vaultform audit reads Recovery Services vaults through the azurerm "
                "provider; reinstall vaultform.",
            )
        )
    diags = provider.configure({})
    if any(d.is_error for d in diags):
        raise DiagnosticsError([d for d in diags if d.is_error])
    return provider, provider.close


def run(args, out: Output) -> int:
    from reconciler.drift.audit_render import AuditReport, render_json, render_markdown, render_text

    provider, close = _provider(args)
    try:
        audit = getattr(provider, "audit", None)
        if audit is None:
            raise DiagnosticsError(
                error("audit_unsupported", "This provider can't audit vaults", "Use the azurerm provider.")
            )
        try:
            vaults = audit()
            cloud = provider.describe()
        except ProviderError as exc:
            raise DiagnosticsError(
                error(
                    exc.code or "audit_failed",
                    "Reading the subscription failed",
                    f"{exc.message} Check the credentials and that the caller may read "
                    f"Recovery Services vaults and key vaults.",
                )
            )
    finally:
        close()
    report = AuditReport(vaults, cloud, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
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
            )
    return report.exit_code
