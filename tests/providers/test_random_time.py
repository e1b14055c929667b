"""The random and time providers: values as hashicorp/random and hashicorp/time make them,
kept in state, replaced by keepers/triggers, and time on the local Azure's clock."""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime

import bcrypt
import pytest

from providers.base import CreateRequest, ImportRequest, PermanentError, ReadRequest, ValidateRequest
from providers.random.provider import RandomProvider
from providers.random.schema import SCHEMA as RANDOM
from providers.time.clocks import LocalAzureTime
from providers.time.moments import add_date, parse_duration
from providers.time.provider import TimeProvider
from tests.e2e.harness import REPO, Workspace

FIXTURE = REPO / "tests/fixtures/random_time/names_and_waits"


def _defaults(type_name: str, **cfg):
    attrs = RANDOM.resources[type_name].attribute_map.values()
    return {**{a.name: a.default for a in attrs if not a.computed}, **cfg}


def _create(provider, type_name: str, **cfg):
    return provider.create(CreateRequest(type_name, cfg)).state


def test_random_string_honours_classes_and_minimums():
    made = _create(
        RandomProvider(),
        "random_string",
        **_defaults("random_string", length=12, special=False, upper=False, min_numeric=4),
    )
    result = made["result"]
    assert len(result) == 12 and made["id"] == result
    assert set(result) <= set(string.ascii_lowercase + string.digits)
    assert sum(c.isdigit() for c in result) >= 4


def test_random_password_is_sensitive_with_a_matching_bcrypt_hash():
    made = _create(
        RandomProvider(), "random_password", **_defaults("random_password", length=16, min_special=3)
    )
    assert made["id"] == "none" and len(made["result"]) == 16
    assert sum(c in "!@#$%&*()-_=+[]{}<>:?" for c in made["result"]) >= 3
    assert bcrypt.checkpw(made["result"].encode(), made["bcrypt_hash"].encode())
    attrs = RANDOM.resources["random_password"].attribute_map
    assert attrs["result"].sensitive and attrs["bcrypt_hash"].sensitive


def test_minimums_longer_than_the_length_are_refused_at_validate():
    found = RandomProvider().validate(
        ValidateRequest("random_string", "managed", _defaults("random_string", length=2, min_upper=3))
    )
    assert [d.summary for d in found] == ["length (2) is less than the sum of the minimums (3)"]


def test_random_integer_is_in_range_and_repeatable_with_a_seed():
    p = RandomProvider()
    values = {
        _create(p, "random_integer", min=3, max=5, seed=None, keepers=None)["result"] for _ in range(40)
    }
    assert values <= {3, 4, 5} and len(values) > 1
    seeded = {
        _create(p, "random_integer", min=1, max=10**9, seed="s", keepers=None)["result"] for _ in range(3)
    }
    assert len(seeded) == 1


def test_random_id_encodings_agree():
    made = _create(RandomProvider(), "random_id", byte_length=8, prefix="vf-", keepers=None)
    raw = int(made["dec"].removeprefix("vf-"))
    assert made["hex"] == "vf-" + raw.to_bytes(8, "big").hex()
    assert made["id"] == made["b64_url"] and "=" not in made["b64_url"]


def test_random_pet_has_the_asked_number_of_words():
    made = _create(RandomProvider(), "random_pet", length=3, separator="_", prefix="vault", keepers=None)
    assert made["id"].startswith("vault_") and len(made["id"].split("_")) == 4


def test_random_shuffle_keeps_items_and_count():
    made = _create(
        RandomProvider(), "random_shuffle", input=["a", "b", "c"], result_count=5, seed="x", keepers=None
    )
    assert len(made["result"]) == 5 and set(made["result"]) <= {"a", "b", "c"}


@pytest.mark.parametrize(
    "type_name, import_id, expected",
    [
        ("random_string", "abc123", {"result": "abc123", "length": 6, "id": "abc123"}),
        ("random_integer", "7,1,9", {"result": 7, "min": 1, "max": 9, "id": "7"}),
        ("random_id", "p-,AAE", {"hex": "p-0001", "byte_length": 2}),
        (
            "random_uuid",
            "6F9619FF-8B86-D011-B42D-00C04FC964FF",
            {"result": "6f9619ff-8b86-d011-b42d-00c04fc964ff"},
        ),
    ],
)
def test_imports_take_the_ids_hashicorp_random_takes(type_name, import_id, expected):
    got = RandomProvider().import_(ImportRequest(type_name, import_id)).state
    assert {k: got[k] for k in expected} == expected


def test_a_bad_import_id_says_what_it_should_be():
    with pytest.raises(PermanentError, match="result,min,max"):
        RandomProvider().import_(ImportRequest("random_integer", "seven"))


@pytest.mark.parametrize(
    "text, seconds", [("30s", 30), ("1h30m", 5400), ("300ms", 0.3), ("-2s", -2), ("1.5h", 5400), ("0", 0)]
)
def test_go_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "5x", "1h 30m"])
def test_not_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_months_overflow_as_go_adds_dates():
    jan31 = datetime(2026, 1, 31, 8, tzinfo=UTC)
    assert add_date(jan31, months=1) == datetime(2026, 3, 3, 8, tzinfo=UTC)
    assert add_date(jan31, years=1, days=1) == datetime(2027, 2, 1, 8, tzinfo=UTC)


def test_time_sleep_and_rotation_run_on_the_local_azure_clock(tmp_path):
    source = LocalAzureTime(str(tmp_path / "azure.db"))
    provider = TimeProvider(source=source)
    before = source.now()
    made = provider.create(CreateRequest("time_sleep", {"create_duration": "10m", "triggers": None})).state
    assert (source.now() - before).total_seconds() >= 600  # the emulated clock moved, no real wait
    assert made["id"] == source.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    rotating = provider.create(CreateRequest("time_rotating", {"rotation_days": 7})).state
    assert provider.read(ReadRequest("time_rotating", rotating)).state == rotating
    source.wait(7 * 86400)
    assert provider.read(ReadRequest("time_rotating", rotating)).state is None  # rotated


def test_time_offset_and_static_parts():
    provider = TimeProvider(source=LocalAzureTime(None))
    static = provider.create(CreateRequest("time_static", {"rfc3339": "2026-02-28T23:30:00Z"})).state
    assert (static["year"], static["month"], static["day"], static["hour"]) == (2026, 2, 28, 23)
    offset = provider.create(
        CreateRequest("time_offset", {"base_rfc3339": "2026-02-28T23:30:00Z", "offset_hours": 1})
    ).state
    assert offset["rfc3339"] == "2026-03-01T00:30:00Z" and offset["id"] == "2026-02-28T23:30:00Z"


def test_names_and_waits_apply_then_plan_clean_with_the_wait_on_the_local_azure_clock(tmp_path):
    ws = Workspace(tmp_path, FIXTURE)
    started = datetime.now(UTC).replace(microsecond=0)  # the id is written to the second
    applied = ws.ok("apply", "-auto-approve")
    assert "Apply complete! Resources: 7 added" in applied.out
    state = str(ws.state_path)
    group = ws.run("output", "-state", state, "-raw", "group").out
    assert group.startswith("rg-backup-") and len(group) == len("rg-backup-") + 6
    assert group in json.dumps(ws.inventory())  # the local Azure holds the group by that name
    password = ws.run("output", "-state", state, "-raw", "admin_password").out
    assert len(password) == 24 and password not in applied.text
    assert ws.ok("plan", "-detailed-exitcode").code == 0
    sleep_id = ws.state()["resources"]
    stamps = [i["attributes"]["id"] for r in sleep_id if r["type"] == "time_sleep" for i in r["instances"]]
    waited_until = datetime.fromisoformat(stamps[0].replace("Z", "+00:00"))
    assert (waited_until - started).total_seconds() >= 90  # the local Azure's clock, moved by the wait
    assert (datetime.now(UTC) - started).total_seconds() < 90  # ...not the wall clock
