"""Reliability benchmark: damaged configurations, SIGKILLs and concurrent applies.

Not part of the test suite (it runs for tens of minutes); prints one figure per line.

1. Damaged configurations (``--configs``, 10,000 by default): seed configurations
   (examples/, the crash estate, a terraform_data one) damaged at random - bytes
   flipped, cut short, NUL and non-UTF-8 bytes, brackets added or dropped, blocks
   duplicated, templates and brackets nested hundreds deep, huge strings, and files
   that are dangling links, link loops, named pipes or directories - each through
   ``validate`` (in this process, as ``vaultform validate``) and every tenth through
   ``plan`` too. Counted: tracebacks (an exception out of the command, or its
   "internal error" message) and runs over 10 s. Aim: 0 and 0.
2. SIGKILLs (``--kills``, 100 by default): the crash estate (tests/fixtures/crash/estate,
   46 objects on the local Azure answering 20 ms late) created, updated (a tag on its
   resource group) and destroyed in turns, each run killed after a random number of
   progress lines plus 0-20 ms (tests/crash/crash_harness.py). After each kill the
   state must parse (else: corrupt state), a re-run must succeed without help (else:
   manual intervention) and a plan after it have no changes (else: non-converged), and
   the local Azure must hold exactly what the state records (else: orphans, or
   duplicates when an object is recorded twice or a key has two versions).
3. Concurrent applies (``--rounds`` of ``--concurrent`` applies, 10 x 6 by default):
   applies of one configuration and state, started together with -lock-timeout, each
   setting its own value. Every apply that says it succeeded must have written a new
   state serial (else: a lost update) and the last one's value must be the one left.

Usage: python benchmarks/reliability.py [--configs 10000] [--kills 100] [--rounds 10]
           [--concurrent 6] [--seed 1] [--only configs,kills,concurrent]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "tests" / "crash"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from reconciler.cli.main import main  # noqa: E402
from reconciler.cli.output import Output  # noqa: E402

SLOW_SECONDS = 10.0
ESTATE = ROOT / "tests" / "fixtures" / "crash" / "estate"
SMALL = """variable "name" {
  type    = string
  default = "x"
}

locals {
  tags = { owner = "ops", name = var.name }
}

resource "terraform_data" "a" {
  input = "${var.name}-${length(local.tags)}"
}

resource "terraform_data" "b" {
  input            = { from = terraform_data.a.output, n = [for i in range(3) : i * 2] }
  triggers_replace = [terraform_data.a.id]
}

output "o" {
  value = terraform_data.b.output
}
"""


def run_cli(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue() + err.getvalue()


# --------------------------------------------------------------------------- 1. damaged configurations


def seeds() -> list[dict[str, bytes]]:
    found = [{"main.tf": SMALL.encode()}, {"main.tf": (ESTATE / "main.tf").read_bytes()}]
    for example in sorted((ROOT / "examples").iterdir()):
        files = {p.name: p.read_bytes() for p in example.glob("*.tf")}
        if files and not any(example.glob("modules")):
            found.append(files)
    return found


def _flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def _cut(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _insert(data: bytes, rng: random.Random, what: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + what + data[at:]


def _delete_chars(data: bytes, rng: random.Random, chars: bytes) -> bytes:
    places = [i for i, c in enumerate(data) if c in chars]
    if not places:
        return data
    i = rng.choice(places)
    return data[:i] + data[i + 1 :]


def _nest(rng: random.Random) -> bytes:
    depth = rng.choice([50, 150, 500, 3000])
    if rng.random() < 0.5:
        inner = '"x"'
        for _ in range(depth):
            inner = '"${' + inner + '}"'
    else:
        inner = "[" * depth + "1" + "]" * depth
    return f"\nlocals {{\n  deep_{rng.randrange(10**6)} = {inner}\n}}\n".encode()


TOKENS = [
    b"{",
    b"}",
    b"[",
    b"]",
    b"(",
    b")",
    b'"',
    b"${",
    b"%{",
    b"<<EOT\n",
    b"=",
    b"\\",
    b"#",
    b"/*",
    b"\x00",
]
TOKENS += [b"\xff\xfe", b"\xe9", "\u202e".encode(), b"\r", b"\t", b"var.", b"local.", b"..."]


def damage_text(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return _flip(data, rng)
    if kind == 1:
        return _cut(data, rng)
    if kind == 2:
        return _insert(data, rng, rng.choice(TOKENS))
    if kind == 3:
        return _delete_chars(data, rng, b'{}[]()"')
    if kind == 4:
        return data + _nest(rng)
    if kind == 5:
        return data + data  # every block declared twice
    if kind == 6:
        return _insert(data, rng, b'"' + b"x" * rng.choice([10**3, 10**5, 10**6]) + b'"')
    if kind == 7:
        lines = data.split(b"\n")
        rng.shuffle(lines)
        return b"\n".join(lines)
    if kind == 8:
        return _insert(data, rng, bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))))
    return damage_text(damage_text(data, rng), rng)


def write_damaged(directory: Path, files: dict[str, bytes], rng: random.Random) -> str:
    """Write one damaged configuration; returns what was done (for the report of a failure)."""
    victim = rng.choice(sorted(files))
    if rng.random() < 0.08:
        what = rng.choice(["dangling link", "link loop", "named pipe", "directory"])
        for name, data in files.items():
            if name != victim:
                (directory / name).write_bytes(data)
        target = directory / victim
        if what == "dangling link":
            target.symlink_to(directory / "nowhere.tf")
        elif what == "link loop":
            target.symlink_to(victim)
        elif what == "named pipe":
            os.mkfifo(target)
        else:
            target.mkdir()
        return f"{victim} is a {what}"
    for name, data in files.items():
        (directory / name).write_bytes(damage_text(data, rng) if name == victim else data)
    return f"{victim} damaged"


def damaged_configurations(count: int, rng: random.Random) -> dict[str, float]:
    seeds_ = seeds()
    tracebacks, slow, refused, plans = 0, 0, 0, 0
    worst = 0.0
    examples: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vaultform-damaged-") as tmp:
        for i in range(count):
            conf = Path(tmp) / f"c{i % 50}"
            if conf.exists():
                shutil.rmtree(conf)
            conf.mkdir()
            what = write_damaged(conf, rng.choice(seeds_), rng)
            commands = [["validate", "-no-color", str(conf)]]
            if i % 10 == 0:
                commands.append(["plan", "-no-color", "-state", str(Path(tmp) / f"s{i}.tfstate"), str(conf)])
                plans += 1
            for argv in commands:
                t0 = time.monotonic()
                try:
                    code, text = run_cli(*argv)
                    crashed = "internal error in vaultform" in text
                except BaseException as exc:
                    code, text, crashed = -1, "".join(traceback.format_exception(exc)), True
                elapsed = time.monotonic() - t0
                worst = max(worst, elapsed)
                if crashed:
                    tracebacks += 1
                    if len(examples) < 5:
                        examples.append(f"{argv[0]} ({what}): {text.strip().splitlines()[-1][:200]}")
                if elapsed > SLOW_SECONDS:
                    slow += 1
                    if len(examples) < 5:
                        examples.append(f"{argv[0]} ({what}) took {elapsed:.1f} s")
                refused += code != 0
            if (i + 1) % 1000 == 0:
                print(f"  ... {i + 1} configurations, {tracebacks} tracebacks, {slow} slow", flush=True)
    for line in examples:
        print(f"  example: {line}")
    return {
        "damaged configurations": count,
        "runs (validate + plan)": count + plans,
        "refused with a diagnostic": refused,
        "tracebacks": tracebacks,
        f"runs over {SLOW_SECONDS:g} s": slow,
        "slowest run, s": round(worst, 2),
        "minutes": round((time.monotonic() - started) / 60, 1),
    }


# --------------------------------------------------------------------------- 2. SIGKILLs


def _set_tag(work: Path, round_: int) -> None:
    """An in-place update: the resource group's tag changes every update round."""
    main_tf = work / "main.tf"
    text = main_tf.read_text()
    head = 'resource "azurerm_resource_group" "crash" {\n'
    start = text.index(head) + len(head)
    end = text.index("\n}\n", start)
    body = [line for line in text[start:end].split("\n") if not line.strip().startswith("tags")]
    body.append(f'  tags     = {{ round = "{round_}" }}')
    main_tf.write_text(text[:start] + "\n".join(body) + text[end:])


def kills(count: int, rng: random.Random) -> dict[str, float]:
    from crash_harness import clean_env, cloud_ids, lock_holder_pid, read_state, run_and_kill, state_ids

    from providers.azurelocal.app import Emulator

    figures = dict.fromkeys(
        [
            "kills",
            "kills inside an operation",
            "corrupt states",
            "orphans",
            "duplicates",
            "non-converged runs",
            "manual interventions",
            "locks taken over",
        ],
        0,
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vaultform-kills-") as tmp:
        work = Path(tmp) / "estate"
        shutil.copytree(ESTATE, work)
        db = Path(tmp) / "local-azure.db"
        os.environ["VAULTFORM_LOCAL_AZURE"] = str(db)
        emulator = Emulator(db)
        emulator.configure_faults(latency_ms=20)
        emulator.store.close()
        env = clean_env(db)
        state_path = work / "vaultform.tfstate"
        operations = ["apply", "update", "destroy"]
        progress_lines = {"apply": 100, "update": 6, "destroy": 95}
        for i in range(count):
            operation = operations[i % 3]
            if operation == "update":
                _set_tag(work, i)
            command = "destroy" if operation == "destroy" else "apply"
            if operation == "update" and not state_ids(read_state(state_path)):
                code, _ = run_cli("apply", "-auto-approve", "-no-color", str(work))  # nothing to update yet
            lines = rng.randint(1, progress_lines[operation])
            killed = run_and_kill(
                [command, "-auto-approve", "-no-color", str(work)], env, lines, rng.random() / 50
            )
            figures["kills"] += 1
            figures["kills inside an operation"] += not killed.finished
            try:
                read_state(state_path)
            except Exception:
                figures["corrupt states"] += 1
                print(f"  kill {i}: {operation} after {lines} lines left a state that doesn't parse")
                continue
            left_lock = lock_holder_pid(state_path) == killed.pid
            code, text = run_cli(command, "-auto-approve", "-no-color", str(work))
            if code != 0:
                figures["manual interventions"] += 1
                figures["non-converged runs"] += 1
                print(f"  kill {i}: re-run of {operation} failed: {text.strip().splitlines()[-1][:200]}")
                run_cli("force-unlock", "-force", str(work))
                continue
            figures["locks taken over"] += left_lock and "Took over the state lock" in text
            plan = ["plan", "-detailed-exitcode", "-no-color"] + (
                ["-destroy"] if command == "destroy" else []
            )
            code, text = run_cli(*plan, str(work))
            if code != 0:
                figures["non-converged runs"] += 1
                print(f"  kill {i}: plan after re-running {operation} has changes (exit {code})")
            state = read_state(state_path)
            in_state = state_ids(state)
            in_cloud, versions = cloud_ids(db, "rg-crash-")
            orphans = set(in_cloud) - set(in_state)
            figures["orphans"] += len(orphans)
            figures["duplicates"] += (len(in_state) - len(set(in_state))) + sum(
                n - 1 for n in versions.values()
            )
            if orphans:
                print(f"  kill {i}: {len(orphans)} objects in the local Azure but not in state")
            if (i + 1) % 10 == 0:
                print(f"  ... {i + 1} kills", flush=True)
    figures["minutes"] = round((time.monotonic() - started) / 60, 1)
    return figures


# --------------------------------------------------------------------------- 3. concurrent applies


def concurrent_applies(rounds: int, parallel: int) -> dict[str, float]:
    from state.backends.local import LocalBackend

    child = [sys.executable, "-c", "import sys; from reconciler.cli.main import main; sys.exit(main())"]
    figures = {"rounds": rounds, "applies": 0, "succeeded": 0, "lost updates": 0, "wrong final values": 0}
    with tempfile.TemporaryDirectory(prefix="vaultform-concurrent-") as tmp:
        work = Path(tmp) / "cfg"
        work.mkdir()
        (work / "main.tf").write_text(SMALL)
        env = {**os.environ, "VAULTFORM_LOCAL_AZURE": str(Path(tmp) / "la.db")}
        state_path = work / "vaultform.tfstate"
        for r in range(rounds):
            before = LocalBackend(state_path).read()
            serial_before = before.serial if before else 0
            procs = []
            for p in range(parallel):
                argv = [
                    "apply",
                    "-auto-approve",
                    "-no-color",
                    "-lock-timeout=120s",
                    f"-var=name=r{r}p{p}",
                    str(work),
                ]
                procs.append(
                    (
                        f"r{r}p{p}",
                        subprocess.Popen(
                            child + argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                        ),
                    )
                )
            finished = []
            for name, proc in procs:
                out, _ = proc.communicate(timeout=600)
                figures["applies"] += 1
                if proc.returncode == 0:
                    figures["succeeded"] += 1
                    finished.append(name)
            after = LocalBackend(state_path).read()
            written = (after.serial if after else 0) - serial_before
            # each successful apply changed the value, so each wrote at least one new serial
            figures["lost updates"] += max(0, len(finished) - written)
            value = None
            if after is not None:
                for _addr, res, inst in after.instances():
                    if res.name == "a":
                        value = inst.attributes.get("input")
            if value is None or not any(value.startswith(f"{n}-") for n in finished):
                figures["wrong final values"] += 1
    return figures


def report(title: str, figures: dict[str, float]) -> None:
    print(f"\n{title}")
    for name, value in figures.items():
        print(f"  {name:<32} {value}")


def main_(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", type=int, default=10_000)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--concurrent", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="configs,kills,concurrent")
    args = ap.parse_args(argv)
    parts = {p.strip() for p in args.only.split(",")}
    rng = random.Random(args.seed)
    os.environ["VAULTFORM_NO_PARSE_CACHE"] = "1"  # 10,000 configurations would fill the cache
    home = tempfile.mkdtemp(prefix="vaultform-reliability-home-")
    os.environ["HOME"] = home  # never the user's local Azure or plan key
    os.environ["VAULTFORM_LOCAL_AZURE"] = str(Path(home) / "local-azure.db")
    print(f"vaultform reliability benchmark, seed {args.seed}, {os.cpu_count()} CPUs", flush=True)
    try:
        if "configs" in parts:
            report(
                "Damaged configurations (aim: 0 tracebacks, 0 slow runs)",
                damaged_configurations(args.configs, rng),
            )
        if "kills" in parts:
            report("SIGKILL during create/update/destroy (aim: all 0)", kills(args.kills, rng))
        if "concurrent" in parts:
            report(
                "Concurrent applies (aim: 0 lost updates)", concurrent_applies(args.rounds, args.concurrent)
            )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main_())
