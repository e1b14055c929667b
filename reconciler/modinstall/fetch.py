"""Bringing a module's files into a directory: git clones and archives over HTTPS."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path

from reconciler.modinstall.sources import Kind, Source

TIMEOUT = 300  # seconds for one download


class FetchError(Exception):
    """A module couldn't be fetched; the message says what was tried and what to do."""


def fetch(source: Source, dest: Path) -> None:
    """Replace ``dest`` with the module's files (the whole checkout; subdirectories are the caller's)."""
    tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=dest.parent))
    try:
        if source.kind is Kind.GIT:
            _git(source.url, source.ref, tmp / "m")
        elif source.kind is Kind.ARCHIVE:
            _archive(source.url, tmp / "m")
        else:
            raise FetchError(f"{source.url} is a registry address; resolve it to a download first")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp / "m", dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_git(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise FetchError("git is not installed; install git to fetch git module sources") from None
    except subprocess.TimeoutExpired:
        raise FetchError(f"git {args[0]} took longer than {TIMEOUT}s") from None


def _git(url: str, ref: str | None, dest: Path) -> None:
    args = ["clone", "--quiet", "--depth", "1"] + (["--branch", ref] if ref else []) + [url, str(dest)]
    done = _run_git(args)
    if done.returncode != 0 and ref:
        # a commit id can't be cloned by name: fetch everything, then check it out
        shutil.rmtree(dest, ignore_errors=True)
        done = _run_git(["clone", "--quiet", url, str(dest)])
        if done.returncode == 0:
            done = _run_git(["checkout", "--quiet", ref], cwd=dest)
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise FetchError(
            f"git could not fetch {url}{f' at {ref}' if ref else ''}: {reason[-1] if reason else 'failed'}"
        )
    shutil.rmtree(dest / ".git", ignore_errors=True)


def _archive(url: str, dest: Path) -> None:
    import requests  # lazy: start-up

    try:
        response = requests.get(url, timeout=TIMEOUT)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise FetchError(f"could not download {url}: {exc}") from None
    data = response.content
    dest.mkdir(parents=True)
    path = url.split("?")[0]
    try:
        if path.endswith(".zip") or data[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    _inside(dest, member)
                archive.extractall(dest)
        else:
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                archive.extractall(dest, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, ValueError) as exc:
        raise FetchError(f"{url} is not a zip or tar archive vaultform can unpack: {exc}") from None


def _inside(dest: Path, member: str) -> None:
    target = (dest / member).resolve()
    if not str(target).startswith(str(dest.resolve())):
        raise ValueError(f"the archive writes outside its directory ({member})")
