"""The azurerm backend: the state in a block blob of an Azure Storage container, locked with a lease.

The layout is Terraform's azurerm backend's (hashicorp/terraform internal/backend/remote-state/azure/
backend_state.go and client.go), so a container Terraform uses is used as it is:

* the default workspace's state is the blob ``KEY``; workspace NAME's is ``KEYenv:NAME``, and the
  workspaces are the blobs listed under the prefix ``KEYenv:`` (names with a ``/`` are not workspaces);
* the lock is a lease on the state blob (created empty when missing), the lease id being the lock id,
  and who holds it is in the blob's metadata ``terraformlockid``: base64 of the lock information's JSON
  (Go reads our lower-case field names too: its JSON decoding matches names case-insensitively);
* ``snapshot`` snapshots the blob before each write.

What Terraform lacks, vaultform adds:

* a **finite lease** (``VAULTFORM_LEASE_SECONDS``, default 60; Azure allows 15 to 60 seconds or
  infinite - https://learn.microsoft.com/rest/api/storageservices/lease-blob) that a background thread
  renews every third of its duration while the holder lives. A holder killed with SIGKILL stops
  renewing, Azure ends its lease, and the next run takes the lock over, saying whose it was; a holder
  on this host whose process is gone is taken over at once (``state.lock.why_gone``), by breaking its
  lease only while the blob is unchanged since its metadata was read (``If-Match``), so a run that
  took the lock meanwhile keeps it.
* every message names the holder (who, operation, since when, pid and host); a lock terraform holds
  (an infinite lease, its lock information without pid or host) is told as terraform's, which never
  expires on its own and which ``force-unlock ID`` removes once that run is gone.
* a **lost-update guard**: a write is conditional on the ETag this run read (``If-Match``), and a
  blob another run wrote meanwhile is refused, as the local file's stamp and pg's row check are.
  Metadata changes (another run's lock and unlock) change the ETag but not the content; the content
  is compared before refusing.
* ``vaultform force-unlock`` breaks the lease and clears the metadata, unless the holder runs on
  this host.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from state.backends.azurerm_auth import SignIn, blob_target, flag, setting
from state.encryption.target import TargetEncryption
from state.errors import StateError
from state.format import StateEncoder, format_time
from state.liveness import own_start, same_process_running
from state.lock import Lock, LockError, LockInfo, Takeover, _user, default_unlock_command, why_gone
from state.model import VAULTFORM_VERSION, State

DEFAULT_WORKSPACE = "default"
KEY_ENV_PREFIX = "env:"  # Terraform's keyEnvPrefix (backend_state.go)
LOCK_META = "terraformlockid"  # Terraform's lockInfoMetaKey (client.go); metadata names are lower case
LEASE_ENV = "VAULTFORM_LEASE_SECONDS"
DEFAULT_LEASE = 60
STORAGE_SCOPE = "https://storage.azure.com/.default"  # the audience azure-storage-blob asks Entra ID for
HOLDER_INFO_GRACE = 5.0  # seconds a run waits for a fresh lease's holder to write its lock information
LEASE_RANGE = (15, 60)  # Lease Blob: x-ms-lease-duration "between 15 and 60 seconds, or -1"


def lease_seconds(environ: Mapping[str, str] | None = None) -> int:
    raw = (os.environ if environ is None else environ).get(LEASE_ENV, "")
    try:
        value = int(raw) if raw.strip() else DEFAULT_LEASE
    except ValueError:
        value = DEFAULT_LEASE
    return min(max(value, LEASE_RANGE[0]), LEASE_RANGE[1])


def _azure() -> Any:
    try:
        import azure.core.exceptions as exceptions
        import azure.storage.blob as blob
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise StateError(
            "azurerm backend",
            "the azure-storage-blob package is missing",
            hint="Install it: pip install azure-storage-blob",
        ) from None
    return blob, exceptions


def encode_lock_info(info: LockInfo) -> str:
    return base64.b64encode(info.to_json().encode("utf-8")).decode("ascii")


def decode_lock_info(value: str | None) -> LockInfo | None:
    """Our lock information, or Terraform's (``ID``, ``Who``, ``Operation``, ``Created``, ...), from the
    metadata value; None when absent or unreadable."""
    if not value:
        return None
    try:
        text = base64.b64decode(value).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    ours = LockInfo.from_json(text)
    if ours is not None:
        return ours
    import json

    try:
        doc = json.loads(text)
        created = datetime.fromisoformat(str(doc.get("Created", "")).replace("Z", "+00:00")[:32])
        return LockInfo(
            id=str(doc["ID"]),
            who=str(doc.get("Who") or "terraform"),
            operation=str(doc.get("Operation") or "unknown"),
            created=created,
            pid=0,
            host="",  # unknown: Terraform records no host apart from who; never judged gone by pid
            version=str(doc.get("Version") or ""),
            path=str(doc.get("Path") or ""),
            tool="terraform",
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class _BlobLock(Lock):
    """A held lease on the state blob, renewed in the background; releasing ends it."""

    def __init__(self, backend: AzurermBackend, info: LockInfo, taken_over: Takeover | None):
        self.state_path = backend.describe()
        self.lock_path = backend.describe()
        self.info = info
        self.taken_over = taken_over
        self._backend: AzurermBackend | None = backend
        self._fd = 0  # "held" for Lock.held

    def release(self) -> None:
        backend, self._backend = self._backend, None
        self._fd = None
        if backend is not None:
            backend._release(self.info)

    def __repr__(self) -> str:
        return f"BlobLock({self.lock_path!r}, id={self.id!r}, held={self.held})"


class _Renewer(threading.Thread):
    """Renews the lease every third of its duration until stopped; notes when it was lost.

    A run can also stall longer than its lease - a paused container or VM, a laptop that slept -
    and another run then takes the lock. Before each cloud operation the apply asks ``confirm``:
    when the last renewal is older than the renewals' rhythm allows, it renews there and then. Blob
    Storage renews a lease that ran out only while no one has leased the blob since it ran out
    (Microsoft Learn, .NET BlobLeaseClient.Renew, the same Lease Blob operation), so
    a refusal means another run had the lock, and this one must not write anything more."""

    def __init__(self, lease: Any, seconds: int):
        super().__init__(name="vaultform-lease-renewal", daemon=True)
        self.lease = lease
        self.seconds = seconds
        self.interval = max(seconds / 3.0, 1.0)
        self.stopped = threading.Event()
        self.lost: str | None = None
        # wall-clock time, not monotonic: a suspended machine's monotonic clock stands still
        # while the lease's time runs out
        self.renewed_at = time.time()
        self._renewing = threading.Lock()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            if self._renew() is False:
                return

    def _renew(self) -> bool | None:
        """Renew once: True when renewed, False when the lease is lost, None on a passing failure."""
        _blob, exceptions = _azure()
        with self._renewing:
            if self.lost:
                return False
            try:
                self.lease.renew()
            except exceptions.HttpResponseError as exc:
                if self.stopped.is_set():
                    return None
                if exc.status_code in (409, 412, 404):  # the lease was broken, taken or the blob removed
                    self.lost = getattr(exc, "error_code", None) or str(exc.status_code)
                    return False
                return None
            except Exception:  # a passing network failure: the next attempt may succeed
                return None
            self.renewed_at = time.time()
            return True

    def confirm(self) -> str | None:
        """Why this run can't be sure it still holds the lease, None while it is."""
        if self.lost:
            return f"its lease was broken or taken ({self.lost})"
        late = time.time() - self.renewed_at
        if late < self.interval * 1.5:
            return None
        if self._renew() is False:
            return f"its lease lapsed while the run stalled for {late:.0f}s and another run took the lock ({self.lost})"
        late = time.time() - self.renewed_at
        if late >= self.seconds:
            return f"its lease could not be renewed for {late:.0f}s, longer than the lease lasts"
        return None

    def stop(self) -> None:
        self.stopped.set()


class AzurermBackend:
    """State in Azure Blob Storage (see the module's doc)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        workspace: str = DEFAULT_WORKSPACE,
        directory: str | None = None,
        sign_in: Callable[[], SignIn] | None = None,
        lease: int | None = None,
        encryption: TargetEncryption | None = None,
    ):
        missing = [n for n in ("storage_account_name", "container_name", "key") if not config.get(n)]
        if missing:
            raise StateError(
                "azurerm backend",
                f"missing {', '.join(missing)}",
                hint="Set them in the backend block or pass -backend-config=NAME=VALUE to `vaultform init`.",
            )
        self.config = dict(config)
        self.account = str(config["storage_account_name"])
        self.container = str(config["container_name"])
        self.key = str(config["key"])
        self.workspace = workspace
        self.directory = directory
        self.snapshot = flag(config, "snapshot", "ARM_SNAPSHOT")
        self.lease_seconds = lease if lease is not None else lease_seconds()
        self._sign_in = sign_in
        self._service: Any = None
        self._blobs: dict[str, Any] = {}  # one client per blob name, sharing the service's pipeline
        self._encoder = StateEncoder(encryption)
        self._etag: str | None = None  # of the blob as last read or written by this run
        self._digest: str | None = None  # of its content
        self._loaded = False
        self._lineage: str | None = None
        self._known: tuple[State | None] | None = None  # the state as last read or written
        self._lease: Any = None  # BlobLeaseClient while this run holds the lock
        self._renewer: _Renewer | None = None
        self._metadata: dict[str, str] = {}
        # the first stamp() downloads the blob, and the read() that follows takes that download
        self._prefetched: tuple[bytes | None, str | None, dict[str, str]] | None = None
        # while this run holds the lease and its last read or write is what is stored, the ETag it
        # knows is the stored one: nobody else can write a leased blob or its metadata
        self._etag_held = False

    # ------------------------------------------------------------------ naming

    def blob_name(self, workspace: str | None = None) -> str:
        name = self.workspace if workspace is None else workspace
        return self.key if name == DEFAULT_WORKSPACE else f"{self.key}{KEY_ENV_PREFIX}{name}"

    def _where(self) -> str:
        endpoint = setting(self.config, "blob_endpoint", "ARM_BLOB_ENDPOINT")
        return endpoint.rstrip("/") if endpoint else self.account

    def describe(self) -> str:
        return f"azurerm backend {self._where()}/{self.container}/{self.blob_name()}"

    def identity(self) -> str:
        return f"azurerm:{self._where()}/{self.container}/{self.blob_name()}"

    def unlock_arguments(self) -> list[str]:
        if self.directory is None or os.path.normpath(self.directory) == ".":
            return []
        return [self.directory]

    def __repr__(self) -> str:
        return f"AzurermBackend({self.identity()!r})"

    # ------------------------------------------------------------------ clients

    def _container(self) -> Any:
        if self._service is None:
            blob, _exceptions = _azure()
            target = blob_target(self.config, self._sign_in)
            if target.how == "Entra ID":
                # Sign in before the first request: the SDK's storage retry policy takes a refused
                # sign-in (ClientAuthenticationError) for a transient failure and retries it with
                # its exponential back-off (15 s, 18 s, 24 s: over a minute before the error).
                # The token is cached by the credential, so the SDK's own request costs nothing.
                target.credential.get_token(STORAGE_SCOPE)
            self._service = blob.BlobServiceClient(
                target.account_url, credential=target.credential, retry_total=3, connection_timeout=20
            )
        return self._service.get_container_client(self.container)

    def _blob(self, workspace: str | None = None) -> Any:
        name = self.blob_name(workspace)
        client = self._blobs.get(name)
        if client is None:
            client = self._blobs[name] = self._container().get_blob_client(name)
        return client

    def close(self) -> None:
        if self._renewer is not None:
            self._renewer.stop()
        if self._service is not None:
            with contextlib.suppress(Exception):
                self._service.close()
            self._service = None
            self._blobs.clear()

    def _fail(self, exc: Exception, what: str) -> StateError:
        _blob, exceptions = _azure()
        code = getattr(exc, "error_code", None)
        if code == "ContainerNotFound":
            return StateError(
                self.describe(),
                f"the container {self.container!r} does not exist in storage account {self.account}",
                hint="Create it (az storage container create) or fix container_name.",
            )
        if isinstance(exc, exceptions.ClientAuthenticationError) and getattr(exc, "response", None) is None:
            # no answer from the storage account: Entra ID gave no token (azure-identity's error)
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return StateError(
                self.describe(),
                f"{what}: could not sign in with Entra ID ({reason})",
                hint="Check the sign-in settings (client_id, client_secret, use_oidc, use_msi, use_cli or their "
                "ARM_* variables) and tenant_id, as for the azurerm provider.",
            )
        if isinstance(exc, exceptions.ClientAuthenticationError) or code in (
            "AuthenticationFailed",
            "AuthorizationFailure",
            "AuthorizationPermissionMismatch",
        ):
            return StateError(
                self.describe(),
                f"{what}: the storage account refused the credentials ({code or type(exc).__name__})",
                hint="Check access_key (ARM_ACCESS_KEY), sas_token (ARM_SAS_TOKEN) or, with use_azuread_auth, "
                "that the identity has the Storage Blob Data Contributor role.",
            )
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StateError(self.describe(), f"{what} ({message})")

    # ------------------------------------------------------------------ reading

    def _download(self, workspace: str | None = None) -> tuple[bytes | None, str | None, dict[str, str]]:
        """The blob's content (None when missing or empty), ETag and metadata."""
        _blob, exceptions = _azure()
        try:
            stream = self._blob(workspace).download_blob()
            data = stream.readall()
        except exceptions.ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "ContainerNotFound":
                raise self._fail(exc, "cannot read the state") from None
            return None, None, {}
        except exceptions.AzureError as exc:
            raise self._fail(exc, "cannot read the state") from None
        props = stream.properties
        return (data or None), props.etag, dict(props.metadata or {})

    def read(self) -> State | None:
        fetched, self._prefetched = self._prefetched, None
        data, etag, metadata = fetched if fetched is not None else self._download()
        state = self._encoder.decode(data, source=self.describe()) if data is not None else None
        self._remember(etag, _digest(data), state)
        if self._lease is None:
            self._metadata = metadata
        return state

    def _remember(self, etag: str | None, digest: str | None, state: State | None) -> None:
        """The blob as this run last read or wrote it."""
        self._etag, self._digest, self._loaded, self._known = etag, digest, True, (state,)
        self._lineage = state.lineage if state is not None else None

    def _current_etag(self) -> str | None:
        if self._holds_etag():
            return self._etag
        _blob, exceptions = _azure()
        try:
            return str(self._blob().get_blob_properties().etag)
        except exceptions.ResourceNotFoundError:
            return None
        except exceptions.AzureError as exc:
            raise self._fail(exc, "cannot read the state") from None

    def stored_lineage(self) -> str | None:
        if self._loaded and self._etag is not None and self._current_etag() == self._etag:
            return self._lineage  # unchanged since this run read or wrote it
        data, _etag, _meta = self._download()
        return self._encoder.decode(data, source=self.describe()).lineage if data is not None else None

    def _holds_etag(self) -> bool:
        """Whether the ETag this run knows is the stored one without asking: it holds the lease (Lease
        Blob: a leased blob's writes, metadata included, need the lease id -
        https://learn.microsoft.com/rest/api/storageservices/lease-blob), has not lost it, and saw the
        blob unchanged when it took it."""
        return (
            self._etag_held
            and self._lease is not None
            and (self._renewer is None or self._renewer.lost is None)
        )

    def stamp(self) -> str | None:
        """What is stored now (``reload_state_if_changed`` compares it): the content's digest while the
        blob is as this run last saw it (its own lock's metadata aside), else the blob's ETag; a missing
        blob and an empty one are alike (no state).

        Before the first read, one download answers both: it is kept for the ``read()`` that follows,
        which so reads exactly what this stamp describes, with one round trip instead of two."""
        if not self._loaded:
            self._prefetched = self._download()
            data, etag, _metadata = self._prefetched
            return _content_stamp(_digest(data))
        etag = self._current_etag()
        if etag is None:
            return _content_stamp(None)
        if etag == self._etag:
            return _content_stamp(self._digest)
        return f"etag:{etag}"

    def workspaces(self) -> list[str]:
        _blob, exceptions = _azure()
        prefix = self.key + KEY_ENV_PREFIX
        try:
            names = [b.name for b in self._container().list_blobs(name_starts_with=prefix)]
        except exceptions.AzureError as exc:
            raise self._fail(exc, "cannot list the workspaces") from None
        found = {n[len(prefix) :] for n in names if n.startswith(prefix) and "/" not in n[len(prefix) :]}
        return [DEFAULT_WORKSPACE] + sorted(found - {DEFAULT_WORKSPACE, ""})

    def delete_workspace(self, name: str) -> None:
        if name == DEFAULT_WORKSPACE:
            raise StateError(self.describe(), "can't delete the default workspace")
        _blob, exceptions = _azure()
        lease = self._lease if name == self.workspace else None
        if lease is not None and self._renewer is not None:
            self._renewer.stop()
        try:
            self._blob(name).delete_blob(delete_snapshots="include", lease=lease)
        except exceptions.ResourceNotFoundError:
            pass
        except exceptions.AzureError as exc:
            raise self._fail(exc, f'cannot delete workspace "{name}"') from None
        if lease is not None:
            self._lease = None

    def lock_lost(self) -> str | None:
        """Why this run may no longer hold the lock it took (its lease lapsed and another run took
        it, or it was broken), None while it surely does or holds none."""
        renewer = self._renewer
        return renewer.confirm() if renewer is not None else None

    # ------------------------------------------------------------------ writing

    def write(self, state: State, *, force: bool = False) -> State:
        _blob, exceptions = _azure()
        if self._renewer is not None and self._renewer.lost:
            raise StateError(
                self.describe(),
                f"this run lost the state lock ({self._renewer.lost}): its lease was broken or ran out",
                hint="Someone force-unlocked the state, or this run could not renew its lease in time. Nothing "
                "was written; run again to start from the stored state.",
            )
        for attempt in range(5):
            current: State | None = None
            etag: str | None
            digest: str | None
            if attempt == 0 and self._known is not None and self._etag is not None:
                # what this run last read or wrote; the conditional upload proves it is still what is stored
                etag, current, digest = self._etag, self._known[0], self._digest
            else:
                data, etag, _meta = self._download()
                digest = _digest(data)
                if self._loaded and not force and digest != self._digest:
                    raise StateError(
                        self.describe(),
                        "the stored state changed since this run read it",
                        hint="Another run wrote it, probably without the state lock. Nothing was written; "
                        "run again to start from the stored state.",
                    )
                if data is not None:
                    try:
                        current = self._encoder.decode(data, source=self.describe())
                    except StateError:
                        if not force:
                            raise
            if current is not None:
                if state.lineage != current.lineage and not force:
                    raise StateError(
                        self.describe(),
                        f"refusing to write a state of lineage {state.lineage} over the "
                        f"stored state of lineage {current.lineage}",
                        hint="The two states have different histories. Use `vaultform state push "
                        "-force` if you really mean to replace the stored state.",
                    )
                if state.same_content(current) and not self._encoder.outdated:
                    self._remember(etag, digest, current)
                    return current
                serial = current.serial + 1
                if force:
                    serial = max(serial, state.serial)
            else:
                serial = state.serial + 1
            new = state.with_serial(serial)
            body = b"".join(self._encoder.encode_chunks(new))
            try:
                written = self._upload(body, etag)
            except exceptions.ResourceModifiedError:
                continue  # changed between our read and write (metadata or content): look again
            except exceptions.AzureError as exc:
                raise self._write_error(exc) from None
            self._remember(written, _digest(body), new)
            return new
        raise StateError(
            self.describe(),
            "the state blob kept changing while this run wrote it",
            hint="Another run is writing it, probably without the state lock. Nothing was written.",
        )

    def _upload(self, body: bytes, etag: str | None) -> str:
        blob, _exceptions = _azure()
        client = self._blob()
        if self.snapshot and etag is not None:
            client.create_snapshot(lease=self._lease)
        conditions: dict[str, Any] = (
            {"etag": etag, "match_condition": _match().IfNotModified}
            if etag is not None
            else {"match_condition": _match().IfMissing}
        )
        answer = client.upload_blob(
            body,
            blob_type=blob.BlobType.BLOCKBLOB,
            overwrite=True,
            metadata=self._metadata or None,
            lease=self._lease,
            content_settings=blob.ContentSettings(content_type="application/json"),
            **conditions,
        )
        return str(answer["etag"])

    def _write_error(self, exc: Exception) -> StateError:
        code = getattr(exc, "error_code", None)
        if code in (
            "LeaseIdMissing",
            "LeaseIdMismatchWithBlobOperation",
            "LeaseLost",
            "LeaseNotPresentWithBlobOperation",
        ):
            holder = self._holder_info()
            who = f" by {holder.describe()}" if holder else ""
            return StateError(
                self.describe(),
                f"could not write the state: it is locked{who} ({code})",
                hint="Nothing was written. Run again with the state lock (without -lock=false), or wait for "
                "that run to finish.",
            )
        return self._fail(exc, "could not write the state")

    # ------------------------------------------------------------------ locking

    def _holder_info(self) -> LockInfo | None:
        _blob, exceptions = _azure()
        try:
            props = self._blob().get_blob_properties()
        except exceptions.AzureError:
            return None
        return decode_lock_info((props.metadata or {}).get(LOCK_META))

    def _await_holder_info(self, grace: float = HOLDER_INFO_GRACE) -> LockInfo | None:
        """The holder of a fresh lease writes its lock information right after taking the lease: a run
        that finds the lease but not yet the information waits that moment, so its message names the
        holder."""
        deadline = time.monotonic() + grace
        while True:
            holder = self._holder_info()
            if holder is not None or time.monotonic() >= deadline:
                return holder
            time.sleep(0.1)

    def lock_info(self) -> LockInfo | None:
        _blob, exceptions = _azure()
        try:
            props = self._blob().get_blob_properties()
        except exceptions.ResourceNotFoundError:
            return None
        except exceptions.AzureError as exc:
            raise self._fail(exc, "cannot read the lock") from None
        if props.lease.state != "leased":
            return None
        return decode_lock_info((props.metadata or {}).get(LOCK_META))

    def _ensure_blob(self) -> None:
        """Terraform locks a missing state by creating it empty first (client.go Lock)."""
        blob, exceptions = _azure()
        try:
            answer = self._blob().upload_blob(
                b"",
                blob_type=blob.BlobType.BLOCKBLOB,
                overwrite=True,
                match_condition=_match().IfMissing,
                content_settings=blob.ContentSettings(content_type="application/json"),
            )
            if self._loaded and self._etag is None and self._digest is None:
                # this run saw no blob, and the empty one it made holds no state either
                self._etag, self._metadata = str(answer["etag"]), {}
        except (exceptions.ResourceExistsError, exceptions.ResourceModifiedError):
            pass
        except exceptions.HttpResponseError as exc:
            if exc.status_code not in (409, 412):
                raise

    def lock(
        self,
        operation: str,
        timeout: float = 0.0,
        *,
        unlock_command: Callable[[str], str] = default_unlock_command,
        poll_interval: float = 0.5,
        **_options: Any,
    ) -> Lock:
        """Lease the state blob, waiting up to ``timeout`` seconds; ``LockError`` naming the holder."""
        blob, exceptions = _azure()
        deadline = time.monotonic() + max(timeout, 0.0)
        host = socket.gethostname()
        broke: Takeover | None = None
        try:
            if not self._loaded or self._etag is None:  # a blob this run saw needs no creating
                self._ensure_blob()
            while True:
                lock_id = str(uuid.uuid4())
                try:
                    lease = self._blob().acquire_lease(lease_duration=self.lease_seconds, lease_id=lock_id)
                except exceptions.HttpResponseError as exc:
                    if exc.status_code == 404:
                        self._ensure_blob()
                        continue
                    if exc.status_code != 409:  # LeaseAlreadyPresent
                        raise
                    props = self._blob().get_blob_properties()
                    holder = decode_lock_info((props.metadata or {}).get(LOCK_META))
                    gone = (
                        why_gone(holder, host=host, now=datetime.now(UTC))
                        if holder is not None and holder.host
                        else None
                    )
                    if gone is not None and holder is not None and props.lease.state == "leased":
                        with contextlib.suppress(exceptions.HttpResponseError):
                            blob.BlobLeaseClient(self._blob()).break_lease(
                                lease_break_period=0, etag=props.etag, match_condition=_match().IfNotModified
                            )
                            broke = Takeover(holder, f"{gone}, so vaultform broke its lease")
                        continue
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        if holder is None:
                            holder = self._await_holder_info()
                        infinite = props.lease.duration == "infinite"
                        raise self._held_error(holder, timeout, unlock_command, infinite=infinite) from None
                    time.sleep(min(poll_interval, remaining))
                    continue
                taken = self._take(lease, operation, host, broke)
                if taken is not None:
                    return taken
        except exceptions.AzureError as exc:
            raise LockError(
                f"Cannot lock the state in {self.describe()}", str(self._fail(exc, "lease"))
            ) from None

    def _take(self, lease: Any, operation: str, host: str, broke: Takeover | None) -> Lock | None:
        """Record the lock information under the new lease; None when the lease was lost meanwhile
        (a run that saw the previous holder gone broke it): then try again."""
        _blob, exceptions = _azure()
        client = self._blob()
        props_etag: str | None
        if self._etag is not None and getattr(lease, "etag", None) == self._etag:
            # the lease's answer carries the blob's ETag (a lease leaves it as it is): unchanged since
            # this run read it, so its metadata is the one that read brought
            props_etag, metadata = self._etag, dict(self._metadata)
        else:
            props = client.get_blob_properties(lease=lease)
            props_etag, metadata = props.etag, dict(props.metadata or {})
        previous = decode_lock_info(metadata.get(LOCK_META))
        taken_over = broke
        if previous is not None and taken_over is None:
            taken_over = Takeover(
                previous,
                "its lease was broken or released without its lock information being removed"
                if previous.tool
                else "its lease ran out without being renewed (the run ended, or stalled, without unlocking)",
            )
        info = LockInfo(
            id=lease.id,
            who=f"{_user()}@{host}",
            operation=operation,
            created=datetime.now(UTC),
            pid=os.getpid(),
            host=host,
            version=VAULTFORM_VERSION,
            path=self.describe(),
            process_start=own_start(),
        )
        metadata[LOCK_META] = encode_lock_info(info)
        try:
            answer = client.set_blob_metadata(metadata, lease=lease)
        except exceptions.HttpResponseError as exc:
            if exc.status_code in (409, 412):
                return None
            raise
        if self._etag == props_etag:  # only our own lock changed the blob since this run read it
            self._etag = str(answer["etag"])
            self._etag_held = True
        self._lease, self._metadata = lease, metadata
        self._prefetched = None  # a download from before the lock is not read under it
        self._renewer = _Renewer(lease, self.lease_seconds)
        self._renewer.start()
        return _BlobLock(self, info, taken_over)

    def _release(self, info: LockInfo) -> None:
        _blob, exceptions = _azure()
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            renewer.stop()
        lease, self._lease = self._lease, None
        self._etag_held = False
        if lease is None:
            return
        metadata = {k: v for k, v in self._metadata.items() if k != LOCK_META}
        self._metadata = metadata
        with contextlib.suppress(exceptions.AzureError):
            answer = self._blob().set_blob_metadata(metadata, lease=lease)
            self._etag = str(answer["etag"]) if self._etag is not None else None
        with contextlib.suppress(exceptions.AzureError):
            lease.release()

    def _held_error(
        self, holder: LockInfo | None, waited: float, command: Callable[[str], str], *, infinite: bool = False
    ) -> LockError:
        where = self.describe()
        lines = []
        if holder is None:
            lines.append(f"{where} is leased by a run that has not written its lock information (yet).")
        elif holder.tool:
            lines.append(f"{where} is locked by a {holder.tool} run:")
            lines.append(_foreign_lock_info(holder))
        else:
            lines.append(f"{where} is locked by {holder.describe()}.")
            lines.append(f"Lock ID: {holder.id}")
        if waited > 0:
            lines.append(f"vaultform waited {waited:g}s for it.")
        lines.append(
            "Wait for that run to finish and try again, or let vaultform wait for the lock with -lock-timeout=90s."
        )
        if infinite:  # terraform's lease (client.go Lock: LeaseDuration -1), or another tool's
            lines.append(
                "The lock is an infinite blob lease: it does not expire on its own, and ends only when "
                "the run that holds it unlocks the state."
            )
        else:
            lines.append(
                f"The lock is a {self.lease_seconds}s blob lease that its run renews while it lives: if "
                "that run was killed, its lease ends by itself within that time."
            )
        if holder is not None and (infinite or holder.tool):
            lines.append(
                "Only if that run is gone (killed, or its machine lost), remove its lock with:\n"
                f"  {command(holder.id)}"
            )
        elif holder is not None:
            lines.append(f"If you are sure the run has ended: {command(holder.id)}")
        return LockError("The state is locked by another run", "\n".join(lines), holder=holder)

    def force_unlock(self, lock_id: str, **_options: Any) -> LockInfo:
        """Break the lease of lock ``lock_id`` and clear its information; a holder running on this host is
        refused (stop it first)."""
        blob, exceptions = _azure()
        try:
            props = self._blob().get_blob_properties()
        except exceptions.ResourceNotFoundError:
            raise LockError(f"{self.describe()} is not locked", "There is no state blob.") from None
        except exceptions.AzureError as exc:
            raise LockError(
                f"Cannot read the lock of {self.describe()}", str(self._fail(exc, "lease"))
            ) from None
        info = decode_lock_info((props.metadata or {}).get(LOCK_META))
        if info is None:
            raise LockError(f"{self.describe()} is not locked", "There is no lock to remove.")
        if info.id != lock_id:
            raise LockError(
                f"Lock ID {lock_id!r} does not match the lock on {self.describe()}",
                f"The lock's ID is {info.id}, held by {info.describe()}.",
                holder=info,
            )
        if info.host == socket.gethostname() and same_process_running(info.pid, info.process_start):
            raise LockError(
                f"The lock on {self.describe()} is held by a running process",
                f"{info.describe()} is still running on this host; force-unlock removes only locks whose run "
                f"has ended. Wait for it, or stop process {info.pid} first.",
                holder=info,
            )
        try:
            if props.lease.state == "leased":
                blob.BlobLeaseClient(self._blob()).break_lease(lease_break_period=0)
            lease = self._blob().acquire_lease(lease_duration=LEASE_RANGE[0])
            metadata = {k: v for k, v in (props.metadata or {}).items() if k != LOCK_META}
            self._blob().set_blob_metadata(metadata, lease=lease)
            lease.release()
        except exceptions.AzureError as exc:
            raise LockError(f"Cannot unlock {self.describe()}", str(self._fail(exc, "lease"))) from None
        return info


def _foreign_lock_info(info: LockInfo) -> str:
    """The lock information another program (terraform) wrote, under its own names (statemgr.LockInfo)."""
    return "\n".join(
        [
            f"  ID:        {info.id}",
            f"  Path:      {info.path}",
            f"  Operation: {info.operation}",
            f"  Who:       {info.who}",
            f"  Version:   {info.version}",
            f"  Created:   {format_time(info.created.replace(microsecond=0))}",
        ]
    )


def _match() -> Any:
    from azure.core import MatchConditions

    return MatchConditions


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _content_stamp(digest: str | None) -> str:
    return f"sha256:{digest}" if digest is not None else "empty"
