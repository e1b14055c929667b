"""The cost of a team backend: plan and apply of N ``terraform_data`` resources with the state in
Azure Blob Storage (a real Azurite) and in PostgreSQL, against the local file.

For each backend, in a fresh directory of the same configuration, runs

* ``plan`` on an empty state,
* ``apply -auto-approve``,
* ``plan`` again on the full state (no changes),

as child processes, and prints the wall time of each run and its ratio to the local file's (the
aim: at most 1.2). ``init`` runs first and is not measured. Azurite and PostgreSQL are started as
the tests start them (tests/backends/conftest.py: Azurite from PATH or the cache, installed there
with npm when missing; ``initdb`` and ``pg_ctl`` on PATH), each in a temporary directory on a free
port, and stopped at the end.

Usage: python benchmarks/backends.py [--resources 1000] [--repeat 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]
STEPS = ("plan (empty state)", "apply", "plan (no changes)")
BACKENDS = ("local", "azurerm", "pg")


def _servers():
    spec = importlib.util.spec_from_file_location(
        "backend_servers", ROOT / "tests" / "backends" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_configuration(directory: Path, count: int) -> None:
    directory.mkdir(parents=True)
    per_file = 500
    for start in range(0, count, per_file):
        blocks = [
            f'resource "terraform_data" "r{i}" {{\n  input = "value {i}"\n}}\n'
            for i in range(start, min(start + per_file, count))
        ]
        (directory / f"r{start // per_file:03}.tf").write_text("\n".join(blocks))


def run(args: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(CHILD + args, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 2):
        raise SystemExit(
            f"vaultform {' '.join(args)} failed in {cwd}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each step; the fastest counts")
    parser.add_argument("--keep", type=Path, default=None, help="keep the working directories here")
    options = parser.parse_args()

    servers = _servers()
    base = options.keep or Path(tempfile.mkdtemp(prefix="vaultform-bench-backends-"))
    base.mkdir(parents=True, exist_ok=True)
    azurite_program = servers._azurite_program()
    if azurite_program is None:
        raise SystemExit("Azurite needs node and npm")
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        raise SystemExit("PostgreSQL needs initdb and pg_ctl on PATH")
    azurite = servers.Azurite(azurite_program, base / "azurite")
    (base / "azurite").mkdir(exist_ok=True)
    run_as = None
    pg_dir = base / "pg"
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        import pwd

        run_as = "postgres"
        pg_dir = Path(tempfile.mkdtemp(prefix="vaultform-bench-pg-"))
        account = pwd.getpwnam(run_as)
        os.chown(pg_dir, account.pw_uid, account.pw_gid)
    else:
        pg_dir.mkdir(exist_ok=True)
    postgres = servers.Postgres(pg_dir, run_as)
    azurite.start()
    postgres.start()
    # PYTHONDONTWRITEBYTECODE would make every child compile vaultform's modules again (~0.1 s), hiding
    # the backends' overhead behind a slower local run: the children cache bytecode, as an install does
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_WORKSPACE", "VAULTFORM_CLOUD", "PYTHONDONTWRITEBYTECODE")
    }
    env.update(
        {
            "ARM_ACCESS_KEY": servers.AZURITE_KEY,
            "VAULTFORM_LOCAL_AZURE": str(base / "local-azure.db"),
            "VAULTFORM_CACHE_DIR": str(base / "cache"),
        }
    )
    times: dict[str, dict[str, float]] = {}
    try:
        for repeat in range(options.repeat):
            for kind in BACKENDS:
                work = base / f"{kind}-{repeat}"
                write_configuration(work, options.resources)
                init_args: list[str] = []
                if kind == "azurerm":
                    container = f"bench{repeat}"
                    azurite.container(container)
                    (work / "backend.tf").write_text(
                        'terraform {\n  backend "azurerm" {\n'
                        f'    storage_account_name = "{servers.AZURITE_ACCOUNT}"\n'
                        f'    container_name = "{container}"\n    key = "bench.tfstate"\n'
                        f'    blob_endpoint = "{azurite.endpoint}"\n  }}\n}}\n'
                    )
                elif kind == "pg":
                    (work / "backend.tf").write_text(
                        f'terraform {{\n  backend "pg" {{\n    schema_name = "bench{repeat}"\n  }}\n}}\n'
                    )
                    init_args = [f"-backend-config=conn_str={postgres.conn_str()}"]
                run(["init", "-no-color", *init_args], env, work)
                steps = (
                    ["plan", "-no-color", "-detailed-exitcode"],
                    ["apply", "-auto-approve", "-no-color"],
                    ["plan", "-no-color", "-detailed-exitcode"],
                )
                for step, args in zip(STEPS, steps, strict=True):
                    elapsed = run(args, env, work)
                    best = times.setdefault(kind, {}).get(step)
                    times[kind][step] = elapsed if best is None else min(best, elapsed)
    finally:
        azurite.stop()
        postgres.stop()
        if run_as:
            shutil.rmtree(pg_dir, ignore_errors=True)
        if options.keep is None:
            shutil.rmtree(base, ignore_errors=True)

    print(f"{options.resources} terraform_data resources, best of {options.repeat}; ratio to the local file")
    header = (
        f"{'step':<20}" + "".join(f"{k:>12}" for k in BACKENDS) + f"{'azurerm/local':>15}{'pg/local':>10}"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    for step in STEPS:
        local = times["local"][step]
        ratios = [times[k][step] / local for k in ("azurerm", "pg")]
        worst = max(worst, *ratios)
        print(
            f"{step:<20}"
            + "".join(f"{times[k][step]:>11.2f}s" for k in BACKENDS)
            + f"{ratios[0]:>14.2f}x{ratios[1]:>9.2f}x"
        )
    print(f"worst overhead: {worst:.2f}x (aim: at most 1.20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
