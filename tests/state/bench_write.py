"""Measure LocalBackend.write as the apply loop uses it (not collected by pytest).

    python tests/state/bench_write.py [RESOURCES] [UPDATES]

Builds a state of RESOURCES resources, writes it once, then makes UPDATES
successive single-resource updates, writing after each, and reports the time
spent encoding (reused fragments) and in file I/O (temp file, fsync, backup
link, rename, directory fsync).
"""

from __future__ import annotations

import sys
import tempfile
import time

from state.backends.local import LocalBackend
from state.format import encode_state
from state.model import InstanceState, State


def _attributes(i: int, version: int) -> dict:
    return {
        "id": f"/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv{i}",
        "name": f"kv{i}", "location": "westeurope", "sku_name": "premium",
        "purge_protection_enabled": True, "soft_delete_retention_days": 90,
        "tags": {"env": "bench", "version": str(version)},
    }


def main(resources: int = 5000, updates: int = 5000) -> None:
    state = State.new()
    for i in range(resources):
        state = state.with_instance(f"azurerm_key_vault.kv{i}", InstanceState(attributes=_attributes(i, 0)),
                                    provider="registry.terraform.io/hashicorp/azurerm")
    with tempfile.TemporaryDirectory() as tmp:
        backend = LocalBackend.for_directory(tmp)
        start = time.perf_counter()
        state = backend.write(state)
        first = time.perf_counter() - start
        size = len(encode_state(state))
        encode_time = 0.0
        original = backend._encoder.encode_chunks

        def timed(s):
            nonlocal encode_time
            t0 = time.perf_counter()
            try:
                return original(s)
            finally:
                encode_time += time.perf_counter() - t0

        backend._encoder.encode_chunks = timed
        start = time.perf_counter()
        for n in range(updates):
            address = f"azurerm_key_vault.kv{(n * 7919) % resources}"
            inst = state.instance(address)
            state = backend.write(state.with_instance(address, inst.with_attributes(_attributes(n, n + 1))))
        total = time.perf_counter() - start
    print(f"{resources} resources, state file {size / 1e6:.1f} MB; first full write {first * 1e3:.0f} ms")
    print(f"{updates} single-resource writes: {total:.1f} s total, {total / updates * 1e3:.2f} ms each "
          f"(encoding {encode_time / updates * 1e3:.2f} ms, file I/O "
          f"{(total - encode_time) / updates * 1e3:.2f} ms); final serial {state.serial}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
