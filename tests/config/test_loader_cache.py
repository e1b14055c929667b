"""Parse cache: hits, broken entries, concurrent writers, switches."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from reconciler.config import cache as cache_mod
from reconciler.config.cache import ParseCache, cache_key, decode_entry, encode_entry
from reconciler.config.directory import load_directory
from reconciler.config.loader import parse_text
from reconciler.config.loader_parallel import parse_many

SOURCE = """resource "azurerm_key_vault" "kv" {
  name     = "kv-${var.env}"
  key_opts = [for o in var.opts : upper(o) if o != ""]
  tags     = { (var.k) = 1, b = "x" }
  script   = <<-EOT
    echo ${var.x}
  EOT
}
"""


def _write(directory: Path, files: dict[str, str]) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return [str(directory / n) for n in sorted(files)]


def test_round_trip_of_the_compact_form_is_exact():
    node, diags = parse_text(SOURCE, "main.tf")
    assert encode_entry((node, diags)) is not None
    back = decode_entry(encode_entry((node, diags)))
    assert back == (node, diags)


def test_second_load_is_served_from_the_cache(tmp_path):
    paths = _write(tmp_path / "conf", {"a.tf": SOURCE, "b.tf": "locals {\n  x = 1\n}\n"})
    store = ParseCache(tmp_path / "cache")
    first = parse_many(paths, store, parallel=False)
    assert store.stats.misses == 2 and store.stats.writes == 2 and store.stats.hits == 0
    again = ParseCache(tmp_path / "cache")
    second = parse_many(paths, again, parallel=False)
    assert again.stats.hits == 2 and again.stats.misses == 0
    assert second == first


def test_changed_content_or_path_is_a_different_key():
    assert cache_key("a.tf", b"x = 1") != cache_key("a.tf", b"x = 2")
    assert cache_key("a.tf", b"x = 1") != cache_key("b.tf", b"x = 1")


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"garbage" + data,  # wrong header
        lambda data: cache_mod._FORMAT + b"\x80\x05not a pickle",  # unpicklable
        lambda data: cache_mod._FORMAT + __import__("pickle").dumps(("x", [], "sig")),  # wrong shape
    ],
)
def test_broken_entry_is_ignored_and_rewritten(tmp_path, damage):
    paths = _write(tmp_path / "conf", {"main.tf": SOURCE})
    store = ParseCache(tmp_path / "cache")
    expected = parse_many(paths, store, parallel=False)
    entry = store._entry_path(cache_key(paths[0], Path(paths[0]).read_bytes()))
    entry.write_bytes(damage(entry.read_bytes()))
    again = ParseCache(tmp_path / "cache")
    assert parse_many(paths, again, parallel=False) == expected
    assert again.stats.misses == 1 and again.stats.writes == 1
    assert decode_entry(entry.read_bytes()) is not None  # rewritten whole


def test_unwritable_cache_directory_is_not_fatal(tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    paths = _write(tmp_path / "conf", {"main.tf": SOURCE})
    files, diags = parse_many(paths, ParseCache(blocker / "cache"), parallel=False)
    assert len(files) == 1 and diags == []


def test_syntax_errors_are_cached_with_their_diagnostics(tmp_path):
    paths = _write(tmp_path / "conf", {"main.tf": "locals {\n  a = \n}\n"})
    store = ParseCache(tmp_path / "cache")
    files, diags = parse_many(paths, store, parallel=False)
    again = ParseCache(tmp_path / "cache")
    assert parse_many(paths, again, parallel=False) == (files, diags)
    assert files == [] and diags[0].range.line == 2 and again.stats.hits == 1


def _hammer(args):
    cache_dir, key, payload, rounds = args
    store = ParseCache(cache_dir)
    seen_bad = 0
    for _ in range(rounds):
        store.put_bytes(key, payload)
        if store.get(key) is None:
            seen_bad += 1
    return seen_bad


def test_two_processes_writing_the_same_entry_never_expose_a_partial_file(tmp_path):
    node, diags = parse_text(SOURCE * 20, "main.tf")  # duplicates are diagnostics; still a valid entry
    payload = encode_entry((node, diags))
    key = cache_key("main.tf", b"concurrent")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        bad = pool.map(_hammer, [(str(tmp_path), key, payload, 60)] * 2)
    assert bad == [0, 0]
    leftovers = [p for p in tmp_path.rglob(".tmp-*")]
    assert leftovers == []
    assert ParseCache(tmp_path).get(key) == (node, diags)


def test_environment_switches(tmp_path, monkeypatch):
    conf = tmp_path / "conf"
    _write(conf, {"main.tf": SOURCE})
    monkeypatch.setenv("VAULTFORM_CACHE_DIR", str(tmp_path / "env-cache"))
    load_directory(conf)
    assert list((tmp_path / "env-cache").rglob("*.pickle"))
    monkeypatch.setenv("VAULTFORM_CACHE_DIR", str(tmp_path / "off-cache"))
    monkeypatch.setenv("VAULTFORM_NO_PARSE_CACHE", "1")
    files, diags = load_directory(conf)
    assert len(files) == 1 and not (tmp_path / "off-cache").exists()


def test_pool_and_serial_parsing_agree(tmp_path):
    files = {f"f{i:02d}.tf": SOURCE.replace('"kv"', f'"kv{i}"') for i in range(10)}
    files["bad.tf"] = "locals {\n"
    paths = _write(tmp_path / "conf", files)
    serial = parse_many(paths, None, parallel=False)
    pooled_store = ParseCache(tmp_path / "cache")
    pooled = parse_many(paths, pooled_store, parallel=True)
    assert pooled == serial
    assert len(serial[0]) == 10 and serial[1][0].summary.startswith("Unclosed block")
    # the workers wrote the cache entries
    warm = ParseCache(tmp_path / "cache")
    assert parse_many(paths, warm, parallel=False) == serial and warm.stats.hits == len(paths)


def test_load_directory_reads_only_matching_files_in_sorted_order(tmp_path):
    conf = tmp_path / "conf"
    _write(
        conf,
        {
            "b.tf": "locals {\n  b = 1\n}\n",
            "a.tf": "locals {\n  a = 1\n}\n",
            "notes.txt": "x",
            ".hidden.tf": "broken {",
        },
    )
    files, diags = load_directory(conf, cache=False)
    assert [Path(f.path).name for f in files] == ["a.tf", "b.tf"] and diags == []
    # A directory named like a configuration file is refused, not skipped: skipping a
    # name that looks like configuration could silently drop what it declares.
    (conf / "sub.tf").mkdir()
    files, diags = load_directory(conf, cache=False)
    assert [Path(f.path).name for f in files] == ["a.tf", "b.tf"]
    assert [d.code for d in diags] == ["config-read"] and "sub.tf" in diags[0].summary
    missing, diags = load_directory(tmp_path / "nope")
    assert missing == [] and diags[0].is_error


def test_invalid_utf8_is_a_diagnostic(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "main.tf").write_bytes(b'locals {\n  a = "caf\xe9"\n}\n')
    files, diags = load_directory(conf, cache=False)
    assert files == [] and diags[0].code == "encoding" and diags[0].range.line == 2


def test_a_directory_others_can_write_is_not_used(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    paths = _write(tmp_path / "conf", {"main.tf": SOURCE})
    store = ParseCache(shared)
    files, diags = parse_many(paths, store, parallel=False)
    assert len(files) == 1 and diags == []
    assert store.stats.writes == 0 and not list(shared.rglob("*.pickle"))


def test_new_cache_directory_is_private(tmp_path):
    store = ParseCache(tmp_path / "a" / "b")
    assert store.trusted()
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o700
