"""References: what each expression refers to, for graph edges and undeclared-name checks."""

from __future__ import annotations

import pytest

from reconciler.config.loader import parse_text
from reconciler.config.references import body_references, references


def refs(text: str):
    file, diags = parse_text(f"x = {text}\n", "r.tf")
    assert file is not None, diags
    return [(r.subject, r.remaining) for r in references(file.body.attributes[0].expr)]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("var.region", [(("var", "region"), ())]),
        ("local.tags.env", [(("local", "tags"), ("env",))]),
        ("azurerm_key_vault.kv.id", [(("azurerm_key_vault", "kv"), ("id",))]),
        ("azurerm_key_vault.kv[0].id", [(("azurerm_key_vault", "kv"), (0, "id"))]),
        ('azurerm_key_vault.kv["main"].id', [(("azurerm_key_vault", "kv"), ("main", "id"))]),
        (
            "data.azurerm_client_config.current.tenant_id",
            [(("data", "azurerm_client_config", "current"), ("tenant_id",))],
        ),
        ("module.net.subnet_id", [(("module", "net", "subnet_id"), ())]),
        ("count.index", [(("count", "index"), ())]),
        ("each.value.name", [(("each", "value"), ("name",))]),
        ("path.module", [(("path", "module"), ())]),
        ("terraform.workspace", [(("terraform", "workspace"), ())]),
        ("self.principal_id", [(("self", "principal_id"), ())]),
        ("azurerm_key_vault.kv[var.i].id", [(("azurerm_key_vault", "kv"), ()), (("var", "i"), ())]),
        (
            "azurerm_user_assigned_identity.id[*].principal_id",
            [(("azurerm_user_assigned_identity", "id"), ())],
        ),
        ('"${var.a}-${local.b}"', [(("var", "a"), ()), (("local", "b"), ())]),
        ("length(var.list) > 0 ? var.list[0] : null", [(("var", "list"), ()), (("var", "list"), (0,))]),
        ("{ (var.k) = local.v }", [(("var", "k"), ()), (("local", "v"), ())]),
        ("1 + 2", []),
    ],
)
def test_references(text, expected):
    assert refs(text) == expected


def test_for_expression_variables_are_not_references():
    found = refs("{ for k, v in var.vaults : k => v.id if v.enabled && local.on }")
    assert found == [(("var", "vaults"), ()), (("local", "on"), ())]


def test_template_for_variables_are_not_references():
    found = refs('"%{ for s in var.subnets }${s}-${var.suffix}%{ endfor }"')
    assert found == [(("var", "subnets"), ()), (("var", "suffix"), ())]


def test_a_for_variable_is_only_bound_inside_its_expression():
    found = refs("concat([for s in var.a : s], [s.x])")
    assert found == [(("var", "a"), ()), (("s", "x"), ())]


def test_positions_cover_the_traversal():
    file, _ = parse_text('x = [\n  "a",\n  azurerm_key_vault.kv.vault_uri,\n]\n', "r.tf")
    (ref,) = references(file.body.attributes[0].expr)
    assert (ref.pos.file, ref.pos.line, ref.pos.column) == ("r.tf", 3, 3)
    assert ref.pos.end_column == 3 + len("azurerm_key_vault.kv.vault_uri")
    assert str(ref) == "azurerm_key_vault.kv.vault_uri" and ref.is_resource


def test_body_references_walk_nested_blocks():
    text = (
        'resource "azurerm_recovery_services_vault" "v" {\n  location = var.location\n'
        "  encryption {\n    key_id = azurerm_key_vault_key.k.id\n  }\n}\n"
    )
    file, _ = parse_text(text, "r.tf")
    found = [str(r) for r in body_references(file.body.blocks[0].body)]
    assert found == ["var.location", "azurerm_key_vault_key.k.id"]
