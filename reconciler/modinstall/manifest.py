"""Where ``init`` put each installed module: ``.vaultform/modules/modules.json``.

The same shape as Terraform's ``.terraform/modules/modules.json``: one entry per module call
by its key (``net`` or ``net.subnet``), with the source as written, the version chosen (for
registry modules), and the directory (relative to the configuration root).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

MODULES_DIR = Path(".vaultform") / "modules"
MANIFEST = MODULES_DIR / "modules.json"


@dataclass(frozen=True)
class Entry:  # field names as in Terraform's manifest
    Key: str
    Source: str
    Version: str
    Dir: str


@dataclass(frozen=True)
class Manifest:
    """The installed modules of the configuration at ``root``."""

    root: Path
    entries: dict[str, Entry]

    def get(self, key: str) -> Entry | None:
        return self.entries.get(key)

    def directory(self, entry: Entry) -> Path:
        return self.root / entry.Dir


def load(root: Path) -> Manifest:
    return Manifest(root, read(root))


def read(root: Path) -> dict[str, Entry]:
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # an unreadable manifest: the modules are reported as not installed
    out = {}
    for item in data.get("Modules", []):
        try:
            entry = Entry(
                str(item["Key"]), str(item["Source"]), str(item.get("Version", "")), str(item["Dir"])
            )
        except (KeyError, TypeError):
            continue
        out[entry.Key] = entry
    return out


def write(root: Path, entries: dict[str, Entry]) -> None:
    path = root / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"Modules": [asdict(e) for _k, e in sorted(entries.items())]}, indent=2) + "\n")
    os.replace(tmp, path)
