"""vaultform against terraform on the same terraform_data configuration.

Writes configurations of 1,000 and 10,000 ``terraform_data`` resources (each its own
block, spread over files of 500): half of them in chains of 10 (each input refers to
the previous one's output), half a fan-out (all refer to one root). Then, in a fresh
directory per tool, runs

* ``plan`` on an empty state (everything to create),
* ``apply -auto-approve``,
* ``plan`` again on the full state (refresh of every object, no changes),

and prints the wall time and the peak memory (maximum resident set size of the child,
from ``os.wait4``) of each run, and vaultform's ratio to terraform (below 1: vaultform
is faster or smaller). ``terraform init`` runs first and is not measured: the
built-in ``terraform_data`` provider needs no download, so everything works offline.

A run that takes longer than ``--timeout`` is stopped and shown as such.

Usage: python benchmarks/compare_terraform.py [--sizes 1000,10000] [--keep DIR] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAIN = 10
PER_FILE = 500
STEPS = ("plan (empty state)", "apply", "plan (no changes)")


@dataclass(frozen=True)
class Run:
    tool: str
    size: int
    step: str
    seconds: float
    peak_mib: float
    exit_code: int


def block(n: int, size: int) -> str:
    """Resource ``t{n}``: the first half are chains of CHAIN, the second half a fan-out
    from the first resource of the second half."""
    half = size // 2
    if n < half:
        source = f"terraform_data.t{n - 1}.output" if n % CHAIN else None
    else:
        source = f"terraform_data.t{half}.output" if n > half else None
    value = f'"v{n}"' if source is None else f'"${{{source}}}-{n}"'
    return f'resource "terraform_data" "t{n}" {{\n  input = {value}\n}}\n'


def write_config(directory: Path, size: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for start in range(0, size, PER_FILE):
        text = "\n".join(block(n, size) for n in range(start, min(size, start + PER_FILE)))
        (directory / f"data_{start // PER_FILE:03d}.tf").write_text(text)


TIMED_OUT = -999


def measure(
    tool: str, size: int, step: str, argv: list[str], cwd: Path, env: dict, timeout: float = 1800.0
) -> Run:
    """Run ``argv`` to its end (or kill it after ``timeout`` seconds: exit code TIMED_OUT)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                child.kill()
                _pid, status, usage = os.wait4(child.pid, 0)
                return Run(tool, size, step, timeout, usage.ru_maxrss / 1024, TIMED_OUT)
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        code = child.returncode
        if code not in (0, 2):
            err.seek(0)
            print(
                f"  {tool} {step} failed (exit {code}):\n{err.read().decode(errors='replace')[-2000:]}",
                file=sys.stderr,
            )
    return Run(tool, size, step, seconds, usage.ru_maxrss / 1024, code)


def vaultform_argv() -> list[str]:
    found = shutil.which("vaultform")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]


def bench(size: int, base: Path, timeout: float) -> list[Run]:
    runs: list[Run] = []
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "NO_COLOR": "1"}
    tf_dir, vf_dir = base / f"terraform-{size}", base / f"vaultform-{size}"
    write_config(tf_dir, size)
    write_config(vf_dir, size)
    subprocess.run(
        ["terraform", "init", "-input=false", "-no-color"],
        cwd=tf_dir,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tf = ["terraform"]
    tf_steps = [
        tf + ["plan", "-input=false", "-no-color"],
        tf + ["apply", "-auto-approve", "-input=false", "-no-color"],
        tf + ["plan", "-input=false", "-no-color", "-detailed-exitcode"],
    ]
    vf = vaultform_argv()
    vf_steps = [
        vf + ["plan", "-no-color", "."],
        vf + ["apply", "-auto-approve", "-no-color", "."],
        vf + ["plan", "-no-color", "-detailed-exitcode", "."],
    ]
    tf_ok = True
    for step, tf_argv, vf_argv in zip(STEPS, tf_steps, vf_steps):
        tf_run = (
            measure("terraform", size, step, tf_argv, tf_dir, env, timeout)
            if tf_ok
            else Run("terraform", size, step, float("nan"), float("nan"), TIMED_OUT)
        )
        tf_ok = tf_ok and tf_run.exit_code != TIMED_OUT
        runs += [tf_run, measure("vaultform", size, step, vf_argv, vf_dir, env, timeout)]
        print(report_line(runs[-2], runs[-1]), flush=True)
    return runs


def report_line(tf: Run, vf: Run) -> str:
    if vf.exit_code == TIMED_OUT:
        return f"{tf.size:>6}  {tf.step:<20} vaultform stopped after {vf.seconds:.0f} s"
    if tf.exit_code == TIMED_OUT:
        shown = "not run" if tf.seconds != tf.seconds else f"> {tf.seconds:.0f} s (stopped)"
        return (
            f"{tf.size:>6}  {tf.step:<20} terraform {shown:>22} | "
            f"vaultform {vf.seconds:7.2f} s {vf.peak_mib:7.1f} MiB"
        )
    return (
        f"{tf.size:>6}  {tf.step:<20} terraform {tf.seconds:7.2f} s {tf.peak_mib:7.1f} MiB | "
        f"vaultform {vf.seconds:7.2f} s {vf.peak_mib:7.1f} MiB | ratio time {vf.seconds / tf.seconds:5.2f} "
        f"memory {vf.peak_mib / tf.peak_mib:5.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument(
        "--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary directory)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="stop a run after this many seconds (default 1800); later terraform steps are skipped",
    )
    args = parser.parse_args()
    if shutil.which("terraform") is None:
        print("terraform is not on PATH", file=sys.stderr)
        return 1
    sizes = [int(s) for s in args.sizes.split(",") if s]
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vf-compare-"))
    print(f"{'size':>6}  {'step':<20} (wall time, peak RSS of the child)")
    try:
        for size in sizes:
            bench(size, base, args.timeout)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
