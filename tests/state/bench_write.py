"""Measure LocalBackend.write as the apply loop uses it (not collected by pytest).

    python tests/state/bench_write.py [RESOURCES] [UPDATES]

Phase 1 creates RESOURCES resources one at a time, writing the state after each
(as an apply that creates everything does); phase 2 makes UPDATES successive
single-resource updates, writing after each. For each phase it reports the time
per write, split into encoding (with reused fragments) and the rest (building
the new state value, temp file, fsync, backup link, rename, directory fsync).
"""

from __future__ import annotations

import sys
import tempfile
import time

from state.backends.local import LocalBackend
from state.model import InstanceState, State

AZURERM = "registry.terraform.io/hashicorp/azurerm"


def _attributes(i: int, version: int) -> dict:
    return {
        "id": f"/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv{i}",
        "name": f"kv{i}",
        "location": "westeurope",
        "sku_name": "premium",
        "purge_protection_enabled": True,
        "soft_delete_retention_days": 90,
        "tags": {"env": "bench", "version": str(version)},
    }


class _Timed:
    def __init__(self, backend: LocalBackend):
        self.spent = 0.0
        self._encode = backend._encoder.encode_chunks
        backend._encoder.encode_chunks = self

    def __call__(self, state):
        t0 = time.perf_counter()
        try:
            return self._encode(state)
        finally:
            self.spent += time.perf_counter() - t0


def _report(phase: str, writes: int, total: float, encoding: float) -> None:
    print(
        f"{phase}: {writes} writes in {total:.1f} s, {total / writes * 1e3:.2f} ms each "
        f"(encoding {encoding / writes * 1e3:.2f} ms, the rest {(total - encoding) / writes * 1e3:.2f} ms)"
    )


def main(resources: int = 5000, updates: int = 5000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend = LocalBackend.for_directory(tmp)
        timer = _Timed(backend)
        state = backend.write(State.new())
        start = time.perf_counter()
        for i in range(resources):
            state = backend.write(
                state.with_instance(
                    f"azurerm_key_vault.kv{i}", InstanceState(attributes=_attributes(i, 0)), provider=AZURERM
                )
            )
        _report(f"create {resources} resources", resources, time.perf_counter() - start, timer.spent)
        with open(backend.path, "rb") as fh:
            size = len(fh.read())
        timer.spent = 0.0
        start = time.perf_counter()
        for n in range(updates):
            address = f"azurerm_key_vault.kv{(n * 7919) % resources}"
            inst = state.instance(address)
            state = backend.write(state.with_instance(address, inst.with_attributes(_attributes(n, n + 1))))
        _report(f"update one of {resources} resources", updates, time.perf_counter() - start, timer.spent)
    print(f"final state file {size / 1e6:.1f} MB, serial {state.serial}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
