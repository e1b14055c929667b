"""Parse many files: cache look-ups first, then the misses serially or in a process pool.

A pool only pays for itself when there is enough uncached text: starting workers and
sending the converted trees back costs a fixed amount, so small batches parse in this
process. Measured on 2 CPUs with 20 files of 50 blocks (about 500 KB): the pool took
1.3-1.6 s against 1.9-2.6 s serially on an idle machine (``benchmarks/parse.py`` prints
both). The pool is used whatever the load average says: it is a minute's average, so it
still reads high for a while after a busy process ends (the benchmark against terraform
plans right after terraform's own plan has used every CPU), and on a machine that really
is busy, two workers get two shares of the CPUs where one process gets one (10,000
resources in 20 files, load average 4-8 on 2 CPUs: see ``benchmarks/README.md``).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

from reconciler.config import ast
from reconciler.config.cache import Entry, ParseCache, cache_key, decode_entry, encode_entry
from reconciler.config.loader import parse_bytes, paused_gc
from reconciler.config.source_files import ReadProblem, read_source
from reconciler.diagnostics import Diagnostic

PARALLEL_MIN_FILES = 8
PARALLEL_MIN_BYTES = 256 * 1024
_UNCACHED = ".tf.json"  # files parsed every time, never cached: see parse_many


def _worker(job: tuple[bytes, str, str | None, str | None]) -> bytes | None:
    """Parse in a worker process; write the cache entry there; return the compact form."""
    data, name, cache_dir, key = job
    with paused_gc():
        payload = encode_entry(parse_bytes(data, name))
    if payload is not None and cache_dir is not None and key is not None:
        ParseCache(cache_dir).put_bytes(key, payload)
    return payload


def _pool_size(jobs: int) -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, jobs))


def use_pool(sizes: list[int]) -> bool:
    """Enough uncached work, more than one CPU, and no other threads (forking a threaded
    process can copy a lock some other thread holds)."""
    cpus = _pool_size(len(sizes))
    return (
        len(sizes) >= PARALLEL_MIN_FILES
        and sum(sizes) >= PARALLEL_MIN_BYTES
        and cpus > 1
        and threading.active_count() == 1
    )


def _parse_in_pool(jobs, store: ParseCache | None) -> list[Entry] | None:
    cache_dir = str(store.directory) if store is not None and store.trusted() else None
    work = [(data, name, cache_dir, key) for data, name, key in jobs]
    size = _pool_size(len(jobs))
    from reconciler.config import hcl2_tree  # lazy: start-up

    hcl2_tree.prepare()  # once here, so forked workers inherit the parser instead of each loading it
    try:
        ctx = (
            multiprocessing.get_context("fork")
            if "fork" in multiprocessing.get_all_start_methods()
            else multiprocessing.get_context()
        )
        out: list[Entry] = []
        payloads: list[bytes | None] = []
        with ProcessPoolExecutor(max_workers=size, mp_context=ctx) as ex, paused_gc():
            # each result is decoded as it arrives, while the workers go on with the next files;
            # small chunks (one file each for a few dozen files), so no worker idles at the end
            # while the other still has several files to go
            chunks = max(1, len(jobs) // (16 * size))
            for (data, name, _), payload in zip(jobs, ex.map(_worker, work, chunksize=chunks)):
                entry = decode_entry(payload) if payload is not None else None
                out.append(entry if entry is not None else parse_bytes(data, name))
                payloads.append(payload)
    except (OSError, RuntimeError, ImportError):
        return None  # no pool available here (sandbox, no /dev/shm): the caller parses serially
    if cache_dir is not None and store is not None:
        store.stats.writes += sum(1 for (_, _, key), p in zip(jobs, payloads) if p is not None and key)
    return out


# path -> the parse cache's key of the bytes this process last parsed there (path, content and
# parser versions): what a later step that depends only on those bytes keys its own results by.
_digests: dict[str, str] = {}


def content_digest(path: str) -> str | None:
    """The key of the bytes last loaded from ``path`` in this process; None if they weren't hashed."""
    return _digests.get(path)


def parse_many(
    paths: list[str], store: ParseCache | None, *, parallel: bool | None = None
) -> tuple[list[ast.File], list[Diagnostic]]:
    """Parse ``paths`` (kept in the given order) through ``store`` when given."""
    results: list[Entry | None] = [None] * len(paths)
    pending: list[tuple[int, str, bytes, str | None]] = []
    for i, name in enumerate(paths):
        data = read_source(name)
        if isinstance(data, ReadProblem):
            results[i] = (None, [data.diagnostic()])
            _digests.pop(name, None)
            continue
        key = cache_key(name, data) if store is not None else None
        if key is None:
            _digests.pop(name, None)
        else:
            _digests[name] = key
        if name.endswith(_UNCACHED):
            # a JSON file's tree depends on the provider schemas too (which of its properties are
            # nested blocks), and the parse cache is keyed by the bytes and the parser only
            pending.append((i, name, data, None))
            continue
        cached = store.get(key) if store is not None and key is not None else None
        if cached is not None:
            results[i] = cached
        else:
            pending.append((i, name, data, key))
    jobs = [(data, name, key) for _, name, data, key in pending]
    pool = use_pool([len(d) for d, _, _ in jobs]) if parallel is None else parallel
    parsed = _parse_in_pool(jobs, store) if pool and len(jobs) > 1 else None
    if not jobs:
        parsed = []  # all from the cache: nothing parsed, so no collection after parsing to pay for
    if parsed is None:
        with paused_gc():
            parsed = [parse_bytes(data, name) for data, name, _ in jobs]
        if store is not None:
            for (_, _, key), entry in zip(jobs, parsed):
                if key is not None:
                    store.put(key, entry)
    for (i, _, _, _), entry in zip(pending, parsed):
        results[i] = entry
    files: list[ast.File] = []
    diags: list[Diagnostic] = []
    for slot in results:
        assert slot is not None  # every path was read, found in the cache or parsed
        node, found = slot
        if node is not None:
            files.append(node)
        diags.extend(found)
    return files, diags
