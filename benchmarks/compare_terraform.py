"""vaultform against terraform on the same terraform_data configuration.

Writes configurations of 1,000 and 10,000 ``terraform_data`` resources (each its own
block, spread over files of 500): half of them in chains of 10 (each input refers to
the previous one's output), half a fan-out (all refer to one root). Then, in a fresh
directory per tool, runs

* ``plan`` on an empty state (everything to create; vaultform with an empty parse cache),
* vaultform's ``plan`` on an empty state again, its parse cache warm (terraform has no
  such cache: its row repeats terraform's plan),
* ``apply -auto-approve``,
* ``plan`` again on the full state (refresh of every object, no changes),

and prints the wall time and the peak memory (maximum resident set size of the child,
from ``os.wait4``) of each run, and vaultform's ratio to terraform (below 1: vaultform
is faster or smaller). ``terraform init`` runs first and is not measured: the
built-in ``terraform_data`` provider needs no download, so everything works offline.

A run that takes longer than ``--timeout`` is stopped and shown as such. terraform's
apply of 10,000 takes close to an hour; ``--tf-state-from-vaultform`` skips it and gives
terraform a copy of the version-4 state vaultform's apply wrote (terraform plans no
changes over it), so the no-change plans can still be compared. ``--repeat N`` runs each
plan step N times and keeps the fastest (the machine may be shared).

vaultform runs as an installed package does: its modules compiled to bytecode first
(pip compiles them on install), with its parse cache in a fresh directory of its own.

Usage: python benchmarks/compare_terraform.py [--sizes 1000,10000] [--keep DIR] [--timeout 1800]
       [--repeat N] [--tf-state-from-vaultform]
"""

from __future__ import annotations

import argparse
import compileall
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
STEPS = ("plan (empty state)", "plan (warm cache)", "apply", "plan (no changes)")


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
SKIPPED = -998


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


def compile_vaultform() -> None:
    """Bytecode for vaultform's modules, as an install leaves them."""
    for package in ("reconciler", "state", "providers"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def vaultform_argv() -> list[str]:
    found = shutil.which("vaultform")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]


def fastest(repeat: int, run) -> Run:
    """The fastest of ``repeat`` runs (a failed or stopped run is returned at once)."""
    best: Run | None = None
    for _ in range(max(1, repeat)):
        got = run()
        if got.exit_code not in (0, 2):
            return got
        best = got if best is None or got.seconds < best.seconds else best
    assert best is not None
    return best


def bench(
    size: int, base: Path, timeout: float, repeat: int = 1, tf_state_from_vf: bool = False
) -> list[Run]:
    runs: list[Run] = []
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "NO_COLOR": "1"}
    vf_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    vf_env["VAULTFORM_CACHE_DIR"] = str(base / f"parse-cache-{size}")
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
    tf_plan = tf + ["plan", "-input=false", "-no-color"]
    tf_steps = [
        tf_plan,
        None,  # no warm cache: terraform's row repeats its plan
        None if tf_state_from_vf else tf + ["apply", "-auto-approve", "-input=false", "-no-color"],
        tf + ["plan", "-input=false", "-no-color", "-detailed-exitcode"],
    ]
    vf = vaultform_argv()
    vf_steps = [
        vf + ["plan", "-no-color", "."],
        vf + ["plan", "-no-color", "."],
        vf + ["apply", "-auto-approve", "-no-color", "."],
        vf + ["plan", "-no-color", "-detailed-exitcode", "."],
    ]
    tf_ok = True
    for step, tf_argv, vf_argv in zip(STEPS, tf_steps, vf_steps):
        is_plan = step.startswith("plan")
        times = repeat if is_plan else 1
        if step == "plan (warm cache)":
            tf_run = Run("terraform", size, step, runs[0].seconds, runs[0].peak_mib, runs[0].exit_code)
        elif tf_argv is None:
            tf_run = Run("terraform", size, step, float("nan"), float("nan"), SKIPPED)
        elif tf_ok:
            tf_run = fastest(
                times, lambda a=tf_argv, s=step: measure("terraform", size, s, a, tf_dir, env, timeout)
            )
        else:
            tf_run = Run("terraform", size, step, float("nan"), float("nan"), TIMED_OUT)
        tf_ok = tf_ok and tf_run.exit_code != TIMED_OUT
        if step == "plan (empty state)":  # cold: one run, with the parse cache empty
            vf_run = measure("vaultform", size, step, vf_argv, vf_dir, vf_env, timeout)
        else:
            vf_run = fastest(
                times, lambda a=vf_argv, s=step: measure("vaultform", size, s, a, vf_dir, vf_env, timeout)
            )
        runs += [tf_run, vf_run]
        if step == "apply" and tf_state_from_vf:
            shutil.copyfile(vf_dir / "vaultform.tfstate", tf_dir / "terraform.tfstate")
        print(report_line(runs[-2], runs[-1]), flush=True)
    return runs


def report_line(tf: Run, vf: Run) -> str:
    if vf.exit_code == TIMED_OUT:
        return f"{tf.size:>6}  {tf.step:<20} vaultform stopped after {vf.seconds:.0f} s"
    if tf.exit_code in (TIMED_OUT, SKIPPED):
        shown = (
            "skipped"
            if tf.exit_code == SKIPPED
            else "not run"
            if tf.seconds != tf.seconds
            else f"> {tf.seconds:.0f} s (stopped)"
        )
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
    parser.add_argument("--repeat", type=int, default=1, help="runs of each plan step; the fastest is shown")
    parser.add_argument(
        "--tf-state-from-vaultform",
        action="store_true",
        help="skip terraform's apply; its no-change plan reads a copy of the state vaultform applied",
    )
    args = parser.parse_args()
    if shutil.which("terraform") is None:
        print("terraform is not on PATH", file=sys.stderr)
        return 1
    sizes = [int(s) for s in args.sizes.split(",") if s]
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vf-compare-"))
    print(f"{'size':>6}  {'step':<20} (wall time, peak RSS of the child)")
    try:
        compile_vaultform()
        for size in sizes:
            bench(size, base, args.timeout, args.repeat, args.tf_state_from_vaultform)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
