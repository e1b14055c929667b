"""Parse benchmark: blocks/second and files/second, cold and warm cache, peak memory.

Generates configurations of 100, 1,000 and 10,000 resource blocks (azurerm-like
key vaults, keys, identities, role assignments, Recovery Services vaults, and
terraform_data), spread over files of about 50 blocks, in a temporary
directory, then loads each with ``load_directory``:

* cold: an empty cache directory (every file parsed and written to the cache),
* warm: the same directory again (every file read from the cache),
* cold serial / cold pool: the process pool forced off and on, to show what it
  buys on this machine now (sizes up to ``--serial-up-to``, 1,000 by default, to
  keep the run short). The plain "cold" row uses the loader's own choice.

Peak memory is the process's maximum resident set size (ru_maxrss) after each
size, and the tracemalloc peak of one warm load (the Python heap only).

Then one file of about ``--validate-mb`` MB (3 by default) and half of it go through
``validate_directory`` (parse without the cache, decode, references, schema checks,
cycles), printing MB/s for each: the two rates match when validation is linear in the
size of the configuration. (Before the duplicate check of diagnostics and the "did you
mean" hints were bounded, a file twice as large took about four times as long.)

Usage: python benchmarks/parse.py [--sizes 100,1000,10000] [--blocks-per-file 50] [--validate-mb 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reconciler.config.cache import ParseCache  # noqa: E402
from reconciler.config.directory import list_config_files  # noqa: E402
from reconciler.config.loader_parallel import parse_many  # noqa: E402

TEMPLATES = [
    """resource "azurerm_user_assigned_identity" "id_{n}" {{
  name                = "id-backup-{n}"
  location            = var.location
  resource_group_name = azurerm_resource_group.rg.name
  tags                = merge(local.tags, {{ index = "{n}" }})
}}
""",
    """resource "azurerm_key_vault" "kv_{n}" {{
  name                       = "kv-${{var.env}}-{n}"
  location                   = var.location
  resource_group_name        = azurerm_resource_group.rg.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "premium"
  purge_protection_enabled   = true
  soft_delete_retention_days = 90
  network_acls {{
    default_action = "Deny"
    bypass         = "AzureServices"
    ip_rules       = [for ip in var.allowed_ips : "${{ip}}/32"]
  }}
  lifecycle {{
    prevent_destroy = true
  }}
}}
""",
    """resource "azurerm_key_vault_key" "key_{n}" {{
  name         = "backup-cmk-{n}"
  key_vault_id = azurerm_key_vault.kv_{n}.id
  key_type     = "RSA"
  key_size     = 3072
  key_opts     = ["wrapKey", "unwrapKey"]
  rotation_policy {{
    automatic {{
      time_before_expiry = "P30D"
    }}
    expire_after = "P90D"
  }}
}}
""",
    """resource "azurerm_role_assignment" "kv_crypto_{n}" {{
  scope                = azurerm_key_vault.kv_{n}.id
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.id_{n}.principal_id
  depends_on           = [azurerm_key_vault_key.key_{n}]
}}
""",
    """resource "azurerm_recovery_services_vault" "rsv_{n}" {{
  name                = "rsv-{n}"
  location            = var.location
  resource_group_name = azurerm_resource_group.rg.name
  sku                 = "Standard"
  soft_delete_enabled = true
  identity {{
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.id_{n}.id]
  }}
  encryption {{
    key_id                            = azurerm_key_vault_key.key_{n}.versionless_id
    infrastructure_encryption_enabled = false
    user_assigned_identity_id         = azurerm_user_assigned_identity.id_{n}.id
    use_system_assigned_identity      = false
  }}
}}
""",
    """resource "terraform_data" "marker_{n}" {{
  input            = {{ vault = azurerm_recovery_services_vault.rsv_{n}.id, n = {n} }}
  triggers_replace = [var.env, length(var.allowed_ips) > 0 ? "open" : "closed"]
}}
""",
]


def generate(directory: Path, blocks: int, per_file: int) -> int:
    files = 0
    chunk: list[str] = []
    for n in range(blocks):
        chunk.append(TEMPLATES[n % len(TEMPLATES)].format(n=n // len(TEMPLATES)))
        if len(chunk) == per_file or n == blocks - 1:
            (directory / f"part_{files:04d}.tf").write_text("\n".join(chunk))
            files += 1
            chunk = []
    return files


def timed_load(directory: Path, cache_dir: Path | None, parallel: bool | None):
    store = ParseCache(cache_dir) if cache_dir is not None else None
    paths = [str(p) for p in list_config_files(directory)]
    t0 = time.perf_counter()
    files, diags = parse_many(paths, store, parallel=parallel)
    elapsed = time.perf_counter() - t0
    errors = [d for d in diags if d.is_error]
    if errors:
        raise SystemExit(f"benchmark configuration has errors: {errors[0]}")
    blocks = sum(len(f.body.blocks) for f in files)
    return elapsed, blocks, len(files)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:10,.0f}/s" if seconds > 0 else "       inf/s"


def main(argv: list[str] | None = None) -> int:
    from reconciler.config.loader_parallel import use_pool

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--blocks-per-file", type=int, default=50)
    ap.add_argument(
        "--serial-up-to",
        type=int,
        default=1000,
        help="also time forced serial and forced pool cold loads for sizes up to this",
    )
    ap.add_argument(
        "--validate-mb", type=float, default=3.0, help="size of the one-file validate run (0: skip)"
    )
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"python-hcl2 parse benchmark, {os.cpu_count()} CPUs (load average {load:.1f}), "
        f"{args.blocks_per_file} blocks per file; cold = process pool when the loader would use one "
        f"(it would now for 20 files: {use_pool([25_000] * 20)})"
    )
    print(f"{'blocks':>7} {'files':>6} {'mode':<12} {'seconds':>8} {'blocks/s':>12} {'files/s':>12}")
    with tempfile.TemporaryDirectory(prefix="vaultform-bench-") as tmp:
        for size in sizes:
            conf = Path(tmp) / f"conf_{size}"
            conf.mkdir()
            generate(conf, size, args.blocks_per_file)
            cache_dir = Path(tmp) / f"cache_{size}"
            runs = [("cold", cache_dir, None), ("warm", cache_dir, None)]
            if size <= args.serial_up_to:
                runs.append(("cold serial", Path(tmp) / f"cache_serial_{size}", False))
                runs.append(("cold pool", Path(tmp) / f"cache_pool_{size}", True))
            for mode, cdir, parallel in runs:
                seconds, blocks, files = timed_load(conf, cdir, parallel)
                print(
                    f"{blocks:>7} {files:>6} {mode:<12} {seconds:8.2f} {rate(blocks, seconds):>12} "
                    f"{rate(files, seconds):>12}"
                )
            tracemalloc.start()
            timed_load(conf, cache_dir, None)
            _, heap_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{'':>7} {'':>6} peak memory: {rss:,.0f} MiB max RSS so far, "
                f"{heap_peak / 2**20:,.1f} MiB Python heap in a warm load"
            )
        if args.validate_mb > 0:
            validate_rates(Path(tmp), args.validate_mb)
    return 0


def validate_rates(tmp: Path, megabytes: float) -> None:
    """validate one big file and one half its size: MB/s of each (equal when linear)."""
    from reconciler.validate import validate_directory

    print(f"\nvalidate, one file, no parse cache ({megabytes:g} MB and half of it):")
    print(f"{'MB':>7} {'blocks':>7} {'seconds':>8} {'MB/s':>8} {'blocks/s':>12}")
    os.environ["VAULTFORM_NO_PARSE_CACHE"] = "1"
    for share in (0.5, 1.0):
        conf = tmp / f"validate_{share}"
        conf.mkdir()
        parts, size, n = [], 0, 0
        while size < megabytes * 1_000_000 * share:
            parts.append(TEMPLATES[n % len(TEMPLATES)].format(n=n // len(TEMPLATES)))
            size += len(parts[-1]) + 1
            n += 1
        (conf / "main.tf").write_text("\n".join(parts))
        t0 = time.perf_counter()
        validate_directory(conf)  # the generated blocks refer to undeclared names: thousands of errors
        seconds = time.perf_counter() - t0
        print(f"{size / 1e6:7.2f} {n:>7} {seconds:8.2f} {size / 1e6 / seconds:8.3f} {rate(n, seconds):>12}")


if __name__ == "__main__":
    raise SystemExit(main())
