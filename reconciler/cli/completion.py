"""Shell completion for bash and zsh, the way Terraform does it.

The shell runs ``vaultform`` itself to complete (``complete -C vaultform vaultform``): with
``COMP_LINE`` and ``COMP_POINT`` set it prints the candidates, one a line. ``vaultform
-install-autocomplete`` adds that line to ~/.bashrc and ~/.zshrc (the latter with bash's
completion loaded), ``-uninstall-autocomplete`` takes it out again, and ``vaultform completion
bash|zsh`` prints it for those who keep their own shell files.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

MARK = "# vaultform completion"


def shell_lines(shell: str) -> str:
    exe = shutil.which("vaultform") or os.path.abspath(sys.argv[0])
    line = f"complete -o nospace -C {exe} vaultform"
    if shell == "zsh":
        return f"autoload -U +X bashcompinit && bashcompinit {MARK}\n{line} {MARK}\n"
    return f"{line} {MARK}\n"


def candidates(line: str, point: int, commands: dict[str, object], flags_of) -> list[str]:
    """What may follow the text before the cursor: commands first, then that command's flags or paths."""
    words = line[:point].split(" ")[1:]
    current = words[-1] if words else ""
    before = [w for w in words[:-1] if w]
    command = next((w for w in before if not w.startswith("-")), None)
    if command is None and not current.startswith("-"):
        return sorted(c for c in commands if c.startswith(current))
    if current.startswith("-"):
        names = flags_of(command) if command else ["-chdir=", "-help", "-version"]
        return sorted(n for n in names if n.startswith(current))
    return _paths(current)


def _paths(prefix: str) -> list[str]:
    folder, _, start = prefix.rpartition("/")
    base = Path(folder or ".")
    try:
        entries = sorted(base.iterdir())
    except OSError:
        return []
    out = []
    for entry in entries:
        if not entry.name.startswith(start) or entry.name.startswith("."):
            continue
        text = f"{folder}/{entry.name}" if folder else entry.name
        if entry.is_dir():
            out.append(text + "/")
        elif entry.suffix in (".tf", ".tfvars", ".tfplan", ".tfstate", ".json"):
            out.append(text)
    return out


def rc_files() -> list[Path]:
    home = Path.home()
    return [home / ".bashrc", home / ".zshrc"]


def install() -> list[str]:
    """Add the completion line to each shell's rc file that exists; returns what was changed."""
    changed = []
    for rc in rc_files():
        shell = "zsh" if rc.name == ".zshrc" else "bash"
        if not rc.exists() and shell == "zsh":
            continue
        text = rc.read_text() if rc.exists() else ""
        if MARK in text:
            continue
        rc.write_text(text + ("" if text.endswith("\n") or not text else "\n") + shell_lines(shell))
        changed.append(str(rc))
    return changed


def uninstall() -> list[str]:
    changed = []
    for rc in rc_files():
        if not rc.exists():
            continue
        lines = rc.read_text().splitlines(keepends=True)
        kept = [line for line in lines if MARK not in line]
        if kept != lines:
            rc.write_text("".join(kept))
            changed.append(str(rc))
    return changed
