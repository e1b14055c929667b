"""How each random value is made: the character sets, counts and encodings of hashicorp/random.

Every value comes from ``secrets`` unless a ``seed`` asks for a repeatable one (random_integer
and random_shuffle), in which case a seeded generator is used, as the provider does.
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
from typing import Any

LOWER = "abcdefghijklmnopqrstuvwxyz"
UPPER = LOWER.upper()
DIGITS = "0123456789"
SPECIAL = "!@#$%&*()-_=+[]{}<>:?"  # the provider's default special characters


class ArgumentError(ValueError):
    """The arguments ask for a value that can't exist (e.g. minimums longer than the length)."""


def string_value(cfg: dict[str, Any], rng: secrets.SystemRandom | random.Random) -> str:
    """A string honouring length, the character classes and their minimums."""
    length = int(cfg["length"])
    digits = bool(cfg.get("numeric", True)) and bool(cfg.get("number", True))
    special = cfg.get("override_special")
    classes = [
        (bool(cfg.get("lower", True)), LOWER, int(cfg.get("min_lower") or 0)),
        (bool(cfg.get("upper", True)), UPPER, int(cfg.get("min_upper") or 0)),
        (digits, DIGITS, int(cfg.get("min_numeric") or 0)),
        (bool(cfg.get("special", True)), special if special else SPECIAL, int(cfg.get("min_special") or 0)),
    ]
    minimums = sum(m for _on, _chars, m in classes)
    if minimums > length:
        raise ArgumentError(f"length ({length}) is less than the sum of the minimums ({minimums})")
    chosen: list[str] = []
    pool = ""
    for on, chars, minimum in classes:
        if minimum and chars:
            chosen.extend(rng.choice(chars) for _ in range(minimum))
        if on:
            pool += chars
    if not pool and len(chosen) < length:
        raise ArgumentError(
            "no character class is enabled: set at least one of lower, upper, numeric or special"
        )
    chosen.extend(rng.choice(pool) for _ in range(length - len(chosen)))
    rng.shuffle(chosen)
    return "".join(chosen)


def bcrypt_hash(secret: str) -> str:
    import bcrypt  # lazy: start-up; only random_password needs it

    # bcrypt reads at most 72 bytes, as the provider's hash does
    return bcrypt.hashpw(secret.encode()[:72], bcrypt.gensalt(rounds=10)).decode()


def seeded(seed: str | None) -> random.Random | secrets.SystemRandom:
    if seed is None or seed == "":
        return secrets.SystemRandom()
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))


def integer_value(cfg: dict[str, Any]) -> int:
    low, high = int(cfg["min"]), int(cfg["max"])
    if high < low:
        raise ArgumentError(f"min ({low}) is greater than max ({high})")
    return seeded(cfg.get("seed")).randint(low, high)


def id_values(raw: bytes, prefix: str) -> dict[str, str]:
    url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return {
        "b64_url": url,
        "b64_std": prefix + base64.standard_b64encode(raw).decode(),
        "hex": prefix + raw.hex(),
        "dec": prefix + str(int.from_bytes(raw, "big")),
        "id": url,
    }


def decode_b64_url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def shuffled(cfg: dict[str, Any]) -> list[str]:
    items = list(cfg.get("input") or [])
    seeded(cfg.get("seed")).shuffle(items)
    count = cfg.get("result_count")
    if count is None:
        return items
    count = int(count)
    # more than the input repeats it, as the provider does
    return [items[i % len(items)] for i in range(count)] if items else []
