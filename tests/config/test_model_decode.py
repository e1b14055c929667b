"""Module model: a full valid module decodes into the expected records."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config import ast
from reconciler.config.convert_model import decode_module
from reconciler.config.directory import load_directory
from reconciler.config.loader import parse_text
from reconciler.config.model import Mode

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "loader" / "module_valid"


@pytest.fixture(scope="module")
def module():
    files, diags = load_directory(FIXTURE, cache=False)
    assert diags == []
    mod, diags = decode_module(files)
    assert diags == []
    return mod


def _line(text: str) -> int:
    for n, line in enumerate((FIXTURE / "main.tf").read_text().splitlines(), 1):
        if text in line:
            return n
    raise AssertionError(text)


def test_terraform_block(module):
    tf = module.terraform
    assert [e.value for e in tf.required_version] == [">= 1.5.0"]
    azurerm = tf.provider("azurerm")
    assert (azurerm.source, azurerm.version) == ("hashicorp/azurerm", "~> 3.100")
    assert tf.provider("legacy").version == "1.0" and tf.provider("legacy").source is None
    assert tf.backend.type == "local"
    assert tf.backend.config.attribute("path").expr.value == "state/vaultform.tfstate"
    assert tf.pos.line == 1


def test_provider_configs(module):
    assert [p.key for p in module.providers] == ["azurerm", "azurerm.dr"]
    dr = module.provider_config("azurerm.dr")
    assert dr.body.attribute("alias") is None  # alias is not a provider argument
    assert dr.body.attribute("subscription_id") is not None
    assert [b.type for b in dr.body.blocks] == ["features"]


def test_variables(module):
    env = module.variables["env"]
    assert isinstance(env.type_expr, ast.Variable) and env.type_expr.name == "string"
    assert env.default_expr.value == "dev" and env.description == "Deployment stage"
    assert (env.sensitive, env.nullable, env.required) == (False, True, False)
    (rule,) = env.validations
    assert isinstance(rule.condition, ast.Call) and rule.error_message.value == "env must be dev or prod."
    assert rule.pos.line == _line("validation {")
    dr = module.variables["dr_subscription"]
    assert (dr.sensitive, dr.nullable, dr.required) == (True, False, True)


def test_locals_keep_raw_expressions(module):
    tags = module.locals["tags"]
    assert isinstance(tags.expr, ast.ObjectCons) and tags.pos.line == _line("tags = { env")


def test_resource_meta_arguments_are_split_from_the_body(module):
    kv = module.resources["azurerm_key_vault.kv"]
    assert kv.mode is Mode.MANAGED and kv.address == "azurerm_key_vault.kv"
    assert isinstance(kv.for_each, ast.Call) and kv.count is None
    assert str(kv.provider) == "azurerm.dr" and kv.provider_name == "azurerm"
    assert [type(d).__name__ for d in kv.depends_on] == ["GetAttr", "GetAttr"]
    assert [a.name for a in kv.body.attributes] == ["name"]
    assert [b.type for b in kv.body.blocks] == ["dynamic"]  # lifecycle removed, dynamic kept
    life = kv.lifecycle
    assert (life.prevent_destroy, life.create_before_destroy, life.ignore_all_changes) == (True, False, False)
    assert len(life.ignore_changes) == 2 and len(life.replace_triggered_by) == 1
    assert life.preconditions[0].error_message.value == "env is empty"
    assert kv.pos.line == _line('resource "azurerm_key_vault" "kv"')


def test_ignore_changes_all_and_count(module):
    rot = module.resources["terraform_data.rotation"]
    assert rot.lifecycle.ignore_all_changes and rot.lifecycle.ignore_changes == ()
    assert rot.count.value == 1 and rot.provider_name == "terraform"


def test_data_sources(module):
    current = module.resources["data.azurerm_client_config.current"]
    assert current.mode is Mode.DATA and module.data_resources == (current,)
    assert len(module.managed_resources) == 2


def test_module_call(module):
    net = module.module_calls["net"]
    assert net.source == "./modules/net" and net.source_pos.line == _line('source     = "./modules/net"')
    assert list(net.arguments) == ["cidr"] and len(net.depends_on) == 1
    assert net.version is None and net.count is None


def test_moved_and_import(module):
    assert [(m.from_address, m.to_address) for m in module.moved] == [
        ("azurerm_key_vault.old", 'azurerm_key_vault.kv["a"]'),
        ("module.old_net", "module.net"),
    ]
    (imp,) = module.imports
    assert imp.to_address == "azurerm_key_vault.kv[each.key]" and imp.for_each is not None


def test_output(module):
    out = module.outputs["vault_ids"]
    assert isinstance(out.value, ast.For) and out.description == "Vault ids" and not out.sensitive
    assert len(out.depends_on) == 1


def test_module_records_are_frozen(module):
    with pytest.raises(AttributeError):
        module.resources["azurerm_key_vault.kv"].name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text, summary",
    [
        ('variable "count" {}', 'Invalid variable name "count"'),
        ('variable "v" {\n  bogus = 1\n}', 'Unsupported argument "bogus" in variable block'),
        ('output "o" {}', 'Output "o" has no value'),
        ('module "m" {\n  source = "./${var.x}"\n}', "A module source must be a literal string"),
        ('resource "a" "b" {\n  provider = "azurerm"\n}', "Invalid provider reference"),
        (
            'data "a" "b" {\n  lifecycle {\n    prevent_destroy = true\n  }\n}',
            'Unknown lifecycle argument "prevent_destroy"',
        ),
        (
            'resource "a" "b" {\n  lifecycle {\n    ignore_changes = [1]\n  }\n}',
            "ignore_changes must be a list",
        ),
        ("moved {\n  from = a.b\n}", 'Missing "to" in moved block'),
        (
            'terraform {\n  backend "local" {}\n}\nterraform {\n  backend "azurerm" {}\n}',
            'Duplicate backend "azurerm"',
        ),
        ('provider "azurerm" {}\nprovider "azurerm" {}', 'Duplicate provider configuration "azurerm"'),
    ],
)
def test_structural_errors(text, summary):
    node, diags = parse_text(text, "main.tf")
    assert diags == []
    _, diags = decode_module([node])
    assert any(summary in d.summary and d.is_error and d.range is not None for d in diags), [
        d.summary for d in diags
    ]


def test_check_blocks_are_decoded_with_their_assertions():
    node, _ = parse_text(
        'check "health" {\n  assert {\n    condition = var.up\n    error_message = "x"\n  }\n}', "m.tf"
    )
    mod, diags = decode_module([node])
    assert diags == [] and mod.resources == {}
    assert list(mod.checks) == ["health"] and len(mod.checks["health"].asserts) == 1


def test_quoted_references_are_taken_with_a_deprecation_warning():
    """As terraform: depends_on and ignore_changes take "terraform_data.b" as terraform_data.b, each
    quoted one with a warning at its place; replace_triggered_by does not (an error, as terraform's)."""
    text = (
        'resource "terraform_data" "a" {\n'
        '  depends_on = ["terraform_data.b", module.m]\n'
        "  lifecycle {\n"
        '    ignore_changes       = ["input", "tags[\\"team\\"]", triggers_replace]\n'
        '    replace_triggered_by = ["terraform_data.b"]\n'
        "  }\n"
        "}\n"
    )
    node, _ = parse_text(text, "m.tf")
    mod, diags = decode_module([node])
    found = sorted((d.severity.value, d.code, d.range.line, d.range.column) for d in diags)
    assert found == [
        ("error", "lifecycle", 5, 29),
        ("warning", "quoted_reference", 2, 17),
        ("warning", "quoted_reference", 4, 29),
        ("warning", "quoted_reference", 4, 38),
    ]
    res = mod.resources["terraform_data.a"]
    assert [type(e).__name__ for e in res.depends_on] == ["GetAttr", "GetAttr"]
    tags = res.lifecycle.ignore_changes[1]
    assert isinstance(tags, ast.Index) and tags.key.value == "team" and tags.obj.name == "tags"


def test_replace_triggered_by_takes_the_instances_own_key():
    """As terraform 1.11: an index written with count.index or each.key names the instance with the
    same key; any other reference in an index is refused."""
    text = (
        'resource "terraform_data" "a" {\n'
        "  count = 2\n"
        "  lifecycle {\n"
        "    replace_triggered_by = [terraform_data.b[count.index], terraform_data.b[0].output]\n"
        "  }\n"
        "}\n"
        'resource "terraform_data" "c" {\n'
        "  for_each = toset([])\n"
        "  lifecycle {\n"
        '    replace_triggered_by = [terraform_data.d[each.key].output, terraform_data.d["${each.key}"]]\n'
        "  }\n"
        "}\n"
        'resource "terraform_data" "e" {\n'
        "  for_each = toset([])\n"
        "  lifecycle {\n"
        "    replace_triggered_by = [terraform_data.d[each.value]]\n"
        "  }\n"
        "}\n"
        'resource "terraform_data" "f" {\n'
        "  lifecycle {\n"
        "    replace_triggered_by = [terraform_data.d[var.k]]\n"
        "  }\n"
        "}\n"
    )
    node, _ = parse_text(text, "m.tf")
    mod, diags = decode_module([node])
    found = sorted((d.code, d.summary, d.range.line) for d in diags)
    assert found == [
        ("lifecycle", "replace_triggered_by must be a list of references", 16),
        ("lifecycle", "replace_triggered_by must be a list of references", 21),
    ]
    assert len(mod.resources["terraform_data.a"].lifecycle.replace_triggered_by) == 2
    assert len(mod.resources["terraform_data.c"].lifecycle.replace_triggered_by) == 2
