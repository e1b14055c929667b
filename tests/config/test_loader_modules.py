"""Local module trees: recursion, cycles, remote and missing sources."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.config.modules import SourceKind, classify_source, load_module_tree

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "loader"
_MARK = re.compile(r"#\s*ERROR:\s*(.+?)\s*$")


def test_tree_loads_nested_local_modules():
    tree, diags = load_module_tree(FIXTURES / "modules_tree", cache=False)
    assert diags == []
    assert tree.path == () and list(tree.children) == ["net", "net_dr"]
    net = tree.children["net"]
    assert net.address == "module.net" and net.directory.name == "net"
    assert list(net.module.resources) == ["terraform_data.net"]
    subnet = net.children["subnet"]
    assert subnet.path == ("net", "subnet") and subnet.address == "module.net.module.subnet"
    assert list(subnet.module.variables) == ["cidr"]
    assert [t.address for t in tree.walk()] == [
        "",
        "module.net",
        "module.net.module.subnet",
        "module.net_dr",
        "module.net_dr.module.subnet",
    ]


@pytest.mark.parametrize("case", ["modules_cycle", "modules_remote"])
def test_source_errors_point_at_the_source_line(case):
    root = FIXTURES / case
    tree, diags = load_module_tree(root, cache=False)
    marks = {
        (p.resolve(), n): m.group(1)
        for p in root.rglob("*.tf")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if (m := _MARK.search(line))
    }
    errors = [d for d in diags if d.is_error]
    assert len(errors) == len(marks)
    for d in errors:
        key = (Path(d.range.file).resolve(), d.range.line)
        assert key in marks, (d.summary, key)
        assert marks[key] in d.summary or marks[key] in d.detail, (d.summary, marks[key])
        assert d.address and d.address.startswith("module.")
    assert tree.module is not None


def test_remote_source_not_installed_says_to_run_init_or_vendor():
    _, diags = load_module_tree(FIXTURES / "modules_remote", cache=False)
    registry = next(d for d in diags if "registry" in d.summary)
    assert registry.summary.endswith("is not installed")
    assert "Run `vaultform init`" in registry.detail and "vendor the module" in registry.detail
    missing = next(d for d in diags if "does not exist" in d.summary)
    assert str((FIXTURES / "modules_remote" / "modules" / "not-there").resolve()) in missing.summary


def test_cycle_stops_and_names_the_chain():
    tree, diags = load_module_tree(FIXTURES / "modules_cycle", cache=False)
    (cycle,) = diags
    assert cycle.address == "module.a.module.b.module.back_to_a"
    assert "module.a -> module.b -> module.back_to_a" in cycle.detail
    assert tree.children["a"].children["b"].children == {}


@pytest.mark.parametrize(
    "source, kind",
    [
        ("./x", SourceKind.LOCAL),
        ("../x", SourceKind.LOCAL),
        ("hashicorp/consul/aws", SourceKind.REGISTRY),
        ("app.terraform.io/org/name/azurerm", SourceKind.REGISTRY),
        ("git::ssh://git@example.com/x.git", SourceKind.GIT),
        ("git@github.com:org/repo.git", SourceKind.GIT),
        ("github.com/org/repo", SourceKind.GITHUB),
        ("bitbucket.org/org/repo", SourceKind.BITBUCKET),
        ("https://example.com/m.zip", SourceKind.HTTP),
        ("s3::https://s3.amazonaws.com/b/m.zip", SourceKind.BUCKET),
        ("gcs::https://www.googleapis.com/storage/v1/b/m", SourceKind.BUCKET),
        ("hg::http://x/y", SourceKind.MERCURIAL),
        ("/abs/path", SourceKind.ABSOLUTE),
        ("modules/net", SourceKind.OTHER),
    ],
)
def test_classify_source(source, kind):
    assert classify_source(source) is kind


def test_root_with_syntax_error_still_returns_a_tree(tmp_path):
    (tmp_path / "main.tf").write_text('resource "a" "b" {\n')
    tree, diags = load_module_tree(tmp_path, cache=False)
    assert tree.module.resources == {} and diags[0].code == "syntax" and diags[0].range.line == 1


def test_path_without_dot_prefix_is_explained(tmp_path):
    (tmp_path / "modules" / "net").mkdir(parents=True)
    (tmp_path / "modules" / "net" / "main.tf").write_text("locals {}\n")
    (tmp_path / "main.tf").write_text('module "net" {\n  source = "modules/net"\n}\n')
    _, diags = load_module_tree(tmp_path, cache=False)
    (d,) = diags
    assert (
        'must start with "./"' in d.summary and 'source = "./modules/net"' in d.detail and d.range.line == 2
    )
