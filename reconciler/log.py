"""Logging users can turn on, as Terraform's TF_LOG works.

``VAULTFORM_LOG=TRACE|DEBUG|INFO|WARN|ERROR|OFF`` (any case) turns it on; lines go to stderr, or are
appended to the file ``VAULTFORM_LOG_PATH`` names. Terraform's own ``TF_LOG`` and ``TF_LOG_PATH`` work
too, where the vaultform names are not set, so a pipeline's habits carry over. An unknown level warns and logs at TRACE, as
terraform does (``TF_LOG=foo`` -> ``[WARN] Invalid log level: "FOO". Defaulting to level: TRACE``).
Lines look like terraform's: ``2026-01-01T12:00:00.000Z [DEBUG] reconciler.apply.graph: ...``.

Modules log with ``logging.getLogger(__name__)``; only vaultform's own loggers (``reconciler``, ``state``,
``providers``, ``vaultform``) are routed here, not the Azure SDK's. At TRACE the provider logs every HTTP
request and response, redacted (providers/azurerm/clients.py); a last filter here blanks anything that
still looks like a bearer token, a JWT or a secret form field, so a line that slipped past its module's
redaction still doesn't leak.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
from collections.abc import Mapping
from typing import TextIO

TRACE = 5
logging.addLevelName(TRACE, "TRACE")
LEVELS = {
    "TRACE": TRACE,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}
NAMESPACES = ("reconciler", "state", "providers", "vaultform")
_SHOWN = {TRACE: "TRACE", logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARN"}
REDACTED = "<redacted>"
_SECRET_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # a JWT
    re.compile(
        r"(?i)((?:client_secret|client_assertion|access_token|refresh_token|id_token|password)=)[^&\s\"']+"
    ),
)


def scrub(text: str) -> str:
    """``text`` with bearer tokens, JWTs and secret form fields blanked."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
    return text


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        level = f"[{_SHOWN.get(record.levelno, record.levelname)}]"
        text = f"{stamp}.{int(record.msecs):03d}Z {level:<7} {record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return scrub(text)


_installed: list[tuple[logging.StreamHandler, list[logging.Logger], bool]] = []


def _setting(environ: Mapping[str, str], name: str, terraform_name: str) -> str:
    return (environ.get(name) or environ.get(terraform_name) or "").strip()


def configure(environ: Mapping[str, str] | None = None, stderr: TextIO | None = None) -> int | None:
    """Route vaultform's loggers as ``VAULTFORM_LOG`` / ``VAULTFORM_LOG_PATH`` say; returns the level, or
    None when logging stays off. Calling it again replaces the previous set-up."""
    environ = os.environ if environ is None else environ
    reset()
    _keep_sdk_off_stderr()
    wanted = _setting(environ, "VAULTFORM_LOG", "TF_LOG").upper()
    if not wanted or wanted == "OFF":
        return None
    level = LEVELS.get(wanted)
    path = _setting(environ, "VAULTFORM_LOG_PATH", "TF_LOG_PATH")
    stream: TextIO
    owned = False
    if path:
        try:
            fd = os.open(os.path.expanduser(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            stream = os.fdopen(fd, "a", encoding="utf-8", buffering=1)
            owned = True
        except OSError as exc:
            (stderr or sys.stderr).write(
                f"[WARN] VAULTFORM_LOG_PATH {path} can't be opened ({exc.strerror or exc}); logging to stderr\n"
            )
            stream = stderr or sys.stderr
    else:
        stream = stderr or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_Format())
    loggers = [logging.getLogger(name) for name in NAMESPACES]
    for logger in loggers:
        logger.setLevel(level or TRACE)
        logger.addHandler(handler)
        logger.propagate = False
    # the Azure SDK's own warnings (a failed token request, ...) join the log; its request-by-request
    # detail would drown it
    sdk = logging.getLogger(SDK_NAMESPACE)
    sdk.setLevel(max(level or TRACE, logging.WARNING))
    sdk.addHandler(handler)
    loggers.append(sdk)
    _installed.append((handler, loggers, owned))
    if level is None:
        logging.getLogger("vaultform").warning(
            'Invalid log level: "%s". Defaulting to level: TRACE. Valid levels are: '
            "[TRACE DEBUG INFO WARN ERROR OFF]",
            wanted,
        )
    return level or TRACE


SDK_NAMESPACE = "azure"
_SDK_QUIET = logging.NullHandler()


def _keep_sdk_off_stderr() -> None:
    """The Azure SDK logs a failed sign-in as a warning; with no handler of its own Python prints
    that on stderr (``logging.lastResort``), beside the error vaultform reports for the same
    failure. A handler that drops it keeps the terminal to vaultform's words."""
    sdk = logging.getLogger(SDK_NAMESPACE)
    if _SDK_QUIET not in sdk.handlers:
        sdk.addHandler(_SDK_QUIET)


def reset() -> None:
    """Take back what ``configure`` installed (tests and repeated ``main`` calls in one process)."""
    while _installed:
        handler, loggers, owned = _installed.pop()
        for logger in loggers:
            logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
        handler.close()
        if owned:
            with contextlib.suppress(OSError, ValueError):
                handler.stream.close()
