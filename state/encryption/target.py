"""One encryption target - the state, a saved plan, a remote state read - with its method and
fallbacks (OpenTofu's internal/encryption/base.go and targets.go).

Writing always uses the first method (``method``); an ``unencrypted`` first method writes the
data as it is. Reading tries the methods in order - the method, then each ``fallback`` - and
accepts unencrypted data only when one of them is ``unencrypted``: that is how a configuration
migrates an existing state to encryption (and back). ``enforced`` refuses unencrypted methods
altogether (checked when the configuration is read).

Every failure is a ``StateError`` that names the target's block (``main.tf:12``) and says what
to change; nothing is written when reading or encrypting fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from state.encryption import envelope
from state.encryption.keys import KeyUnavailable
from state.encryption.methods import AesGcm, Method, Unencrypted
from state.errors import StateError

MIGRATE_HINT = (
    'To read an unencrypted {what} once and write it encrypted, declare method "unencrypted" "migrate" {{}} '
    "and add fallback {{ method = method.unencrypted.migrate }} to the {block} block; after the next "
    "apply has written it encrypted, remove the fallback."
)


class TargetEncryption:
    def __init__(
        self, name: str, methods: tuple[Method, ...], *, enforced: bool = False, declared_at: str = ""
    ) -> None:
        if not methods:
            raise ValueError("a target needs at least one method")
        self.name = name  # "state", "plan", "remote_state_data_sources.default" ...
        self.methods = methods
        self.enforced = enforced
        self.declared_at = declared_at

    @property
    def block(self) -> str:
        return f"{self.name} block" + (f" at {self.declared_at}" if self.declared_at else "")

    @property
    def primary(self) -> Method:
        return self.methods[0]

    @property
    def reads_unencrypted(self) -> bool:
        return any(isinstance(m, Unencrypted) for m in self.methods)

    # ------------------------------------------------------------------ writing

    def encrypt(
        self, data: bytes, *, source: str, serial: int | None = None, lineage: str | None = None
    ) -> bytes:
        """``data`` in the envelope (as it is, when the method is ``unencrypted``)."""
        method = self.primary
        if isinstance(method, Unencrypted):
            return data
        assert isinstance(method, AesGcm)
        try:
            sealed, meta = method.encrypt(data)
        except KeyUnavailable as exc:
            raise StateError(
                source,
                f"cannot encrypt the {self.what} with {method.label.address}: {exc.problem}",
                hint=(exc.hint + " " if exc.hint else "")
                + f"Fix the key provider of {method.label} (the {self.block}). Nothing was written; the "
                "stored data is unchanged.",
            ) from None
        wrapped = envelope.Envelope(meta, sealed, serial=serial, lineage=lineage)
        return envelope.encode(wrapped, state=self.name != "plan")

    @property
    def what(self) -> str:
        return "plan" if self.name == "plan" else "state"

    # ------------------------------------------------------------------ reading

    def decrypt(self, data: bytes, *, source: str) -> bytes:
        """The plain data of ``data`` (encrypted or, where a method allows it, not)."""
        return self.read(data, source=source)[0]

    def read(self, data: bytes, *, source: str) -> tuple[bytes, bool]:
        """The plain data of ``data``, and whether it is stored as the method writes it (False:
        a fallback read it - an old key, or unencrypted data to migrate - so the next write
        should store it again)."""
        try:
            found = envelope.decode(data)
        except envelope.EnvelopeError as exc:
            raise StateError(
                source,
                f"the encrypted {self.what} is damaged: {exc}",
                hint="Restore it from a backup. Nothing was changed.",
            ) from None
        if found is None:
            return self._plain(data, source), isinstance(self.primary, Unencrypted)
        if found.version != envelope.VERSION:
            raise StateError(
                source,
                f"encrypted with encryption_version {found.version!r}; this vaultform reads "
                f"{envelope.VERSION!r}",
                hint="Upgrade vaultform to read it. Nothing was changed.",
            )
        failures = []
        for method in self.methods:
            if not isinstance(method, AesGcm):
                continue
            try:
                plain = method.decrypt(found.data, found.meta)
            except KeyUnavailable as exc:
                failures.append(
                    f"{method.label.address}: {exc.problem}" + (f" ({exc.hint})" if exc.hint else "")
                )
                continue
            return plain, method is self.primary
        if not failures:
            raise StateError(
                source,
                f"the {self.what} is encrypted, and the {self.block} names only the unencrypted method",
                hint=f"Keep the method it was written with as the method or a fallback of the {self.name} "
                "block. Nothing was changed.",
            )
        raise StateError(
            source,
            f"cannot decrypt the {self.what}: " + "; ".join(failures),
            hint=f"Use the passphrase or key it was written with in the key provider the {self.block} "
            "uses (TF_ENCRYPTION overrides the configuration's settings). After changing a passphrase or key, "
            f"keep the old one as a fallback {{ method = ... }} of the {self.name} block until the next write. "
            "Nothing was changed.",
        )

    def _plain(self, data: bytes, source: str) -> bytes:
        if self.reads_unencrypted:
            return data
        hint = MIGRATE_HINT.format(what=self.what, block=self.name)
        if self.enforced:
            hint = f"The {self.block} sets enforced = true, which refuses unencrypted data."
        raise StateError(
            source,
            f"the {self.what} is not encrypted, and the {self.block} reads only encrypted data",
            hint=hint + " Nothing was changed.",
        )


@dataclass(frozen=True)
class Encryption:
    """What a configuration's ``encryption`` block (with ``TF_ENCRYPTION``) sets up."""

    state: TargetEncryption | None = None
    plan: TargetEncryption | None = None
    remote_default: TargetEncryption | None = None
    remotes: Mapping[str, TargetEncryption] = field(default_factory=dict)

    def remote(self, name: str) -> TargetEncryption | None:
        return self.remotes.get(name, self.remote_default)
