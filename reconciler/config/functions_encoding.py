"""Encoding, hashing, network and impure built-in functions.

``uuid()`` and ``timestamp()`` are impure: their value is only chosen at apply
time, so at plan time they return ``UNKNOWN`` (Terraform shows them as
"known after apply" for the same reason).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import ipaddress
import json
import struct
import urllib.parse
import zlib
from datetime import UTC, datetime
from decimal import Decimal

from reconciler.config.functions_spec import FunctionError, Param, ParamType, spec, table
from reconciler.config.types import ConversionError, normalize_number
from state.format import go_json

_STR = Param("str", ParamType.STRING)


# --------------------------------------------------------------------------- JSON


def _json_ready(value):
    if isinstance(value, dict):
        return {k: _json_ready(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def json_text(value) -> str:
    # as terraform's encoder (Go's) writes: HTML-safe escapes, the JavaScript line separators, and
    # numbers in plain decimal (0.0000001, not 1e-07)
    return go_json(_json_ready(value))


@spec("jsonencode", Param("val", ParamType.ANY, nullable=True))
def _jsonencode(value):
    return json_text(value)


def _parse_json_number(text: str):
    d = Decimal(text)
    if d == d.to_integral_value() and abs(d) < Decimal(10) ** 300:
        return int(d)
    try:
        return normalize_number(float(d))
    except ConversionError:
        raise FunctionError(f"the number {text} is out of range", 0) from None


@spec("jsondecode", _STR)
def _jsondecode(text):
    try:
        return json.loads(
            text,
            parse_float=_parse_json_number,
            parse_int=_parse_json_number,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise FunctionError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", 0) from None


def _reject_constant(name: str):
    raise FunctionError(f"invalid JSON: {name} is not a JSON value", 0)


# --------------------------------------------------------------------------- base64, hashes, URLs


@spec("base64encode", _STR)
def _base64encode(s):
    return base64.b64encode(s.encode()).decode()


@spec("base64decode", _STR)
def _base64decode(s):
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise FunctionError("the string is not valid base64", 0) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FunctionError("the decoded bytes are not valid UTF-8", 0) from None


def _hasher(name: str, algorithm: str):
    @spec(name, _STR)
    def fn(s):
        return hashlib.new(algorithm, s.encode()).hexdigest()

    return fn


@spec("base64sha256", _STR)
def _base64sha256(s):
    return base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()


@spec("base64sha512", _STR)
def _base64sha512(s):
    return base64.b64encode(hashlib.sha512(s.encode()).digest()).decode()


# What Go's gzip.Writer puts around the deflate stream (terraform's base64gzip, funcs/encoding.go):
# no name, no modification time, OS "unknown" (255); the body is flushed (an empty stored block
# ending 00 00 ff ff) before Close adds a final empty stored block. The compressed body is zlib's:
# the same bytes as Go's compress/flate for text without repeats (checked side by side), but Go
# finds matches its own way, so repetitive text can compress to other (equally valid) bytes.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_GO_FINAL_BLOCK = b"\x01\x00\x00\xff\xff"


@spec("base64gzip", _STR)
def _base64gzip(s):
    data = s.encode()
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = deflate.compress(data) + deflate.flush(zlib.Z_SYNC_FLUSH) + _GO_FINAL_BLOCK
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return base64.b64encode(_GZIP_HEADER + body + trailer).decode()


# Python's codecs that are no IANA character set (transformations, Python's own escapes)
_NOT_IANA = frozenset(
    {"idna", "punycode", "unicode_escape", "raw_unicode_escape", "utf_8_sig", "undefined", "mbcs", "oem"}
)


def _text_codec(name: str) -> tuple[codecs.CodecInfo, str]:
    """The codec for an IANA character set name or alias (Python's codec registry knows the
    IANA names and aliases terraform's golang.org/x/text/encoding/ianaindex does, and more
    besides), and the name to report."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        info = None
    if (
        info is None
        or not getattr(info, "_is_text_encoding", True)
        or info.name.replace("-", "_") in _NOT_IANA
    ):
        raise FunctionError(
            f'"{name}" is not a supported IANA encoding name or alias in this Terraform version', 1
        )
    return info, name.upper()


@spec("textencodebase64", Param("string", ParamType.STRING), Param("encoding", ParamType.STRING))
def _textencodebase64(s, encoding):
    info, label = _text_codec(encoding)
    try:
        raw = info.encode(s)[0]
    except UnicodeEncodeError:
        raise FunctionError(
            f"the given string contains characters that cannot be represented in {label}", 0
        ) from None
    return base64.b64encode(raw).decode()


@spec("textdecodebase64", Param("source", ParamType.STRING), Param("encoding", ParamType.STRING))
def _textdecodebase64(s, encoding):
    info, label = _text_codec(encoding)
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        offset = next(
            (i for i, ch in enumerate(s) if not (ch.isascii() and (ch.isalnum() or ch in "+/="))), 0
        )
        raise FunctionError(
            f"the given value is has an invalid base64 symbol at offset {offset}", 0
        ) from None
    try:
        return info.decode(raw)[0]
    except UnicodeDecodeError:
        raise FunctionError(
            f"the given string contains symbols that are not defined for {label}", 0
        ) from None


@spec("urlencode", _STR)
def _urlencode(s):
    return urllib.parse.quote_plus(s, safe="-._~")


@spec("uuidv5", Param("namespace", ParamType.STRING), Param("name", ParamType.STRING))
def _uuidv5(namespace, name):
    import uuid  # loaded when used: every command starts faster without it

    ns = {
        "dns": uuid.NAMESPACE_DNS,
        "url": uuid.NAMESPACE_URL,
        "oid": uuid.NAMESPACE_OID,
        "x500": uuid.NAMESPACE_X500,
    }.get(namespace)
    if ns is None:
        try:
            ns = uuid.UUID(namespace)
        except ValueError:
            raise FunctionError('namespace must be "dns", "url", "oid", "x500" or a UUID', 0) from None
    return str(uuid.uuid5(ns, name))


# --------------------------------------------------------------------------- impure


@spec("uuid", impure=True)
def _uuid():  # invoke() answers UNKNOWN for impure functions unless the console allows them
    import uuid

    return str(uuid.uuid4())


@spec("timestamp", impure=True)
def _timestamp():
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- networks


def _network(prefix: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        raise FunctionError(f'invalid CIDR prefix "{prefix}"', 0) from None


@spec(
    "cidrsubnet",
    Param("prefix", ParamType.STRING),
    Param("newbits", ParamType.NUMBER),
    Param("netnum", ParamType.NUMBER),
)
def _cidrsubnet(prefix, newbits, netnum):
    net = _network(prefix)
    if not isinstance(newbits, int) or newbits < 0:
        raise FunctionError("newbits must be a non-negative whole number", 1)
    new_len = net.prefixlen + newbits
    if new_len > net.max_prefixlen:
        raise FunctionError(f"{newbits} bits extend the prefix beyond /{net.max_prefixlen}", 1)
    if not isinstance(netnum, int) or not 0 <= netnum < 2**newbits:
        raise FunctionError(f"netnum {netnum} does not fit in {newbits} bits", 2)
    base = int(net.network_address) + (netnum << (net.max_prefixlen - new_len))
    return str(ipaddress.ip_network((base, new_len)))


@spec("cidrsubnets", Param("prefix", ParamType.STRING), variadic=Param("newbits", ParamType.NUMBER))
def _cidrsubnets(prefix, *newbits):
    """Consecutive subnets of ``prefix``, each aligned to its own size (terraform's funcs/cidr.go)."""
    net = _network(prefix)
    top = 1 << net.max_prefixlen
    subnets: list[str] = []
    start = int(net.network_address)  # the first address not yet allocated
    current = ""  # the last subnet allocated, or the one just before the prefix
    for i, bits in enumerate(newbits, start=1):
        if not isinstance(bits, int):
            raise FunctionError(f"a whole number is required, not {bits}", i)
        if bits < 1:
            raise FunctionError("must extend prefix by at least one bit", i)
        if bits > 32:
            raise FunctionError("may not extend prefix by more than 32 bits", i)
        length = net.prefixlen + bits
        if length > net.max_prefixlen:
            protocol = "IPv4" if net.version == 4 else "IPv6"
            raise FunctionError(
                f"would extend prefix to {length} bits, which is too long for an {protocol} address", i
            )
        size = 1 << (net.max_prefixlen - length)
        if not current:
            current = str(ipaddress.ip_network(((start - size) % top, length)))
        base = -(-start // size) * size  # the next boundary of this size
        if base + size - 1 > int(net.broadcast_address):
            raise FunctionError(
                f"not enough remaining address space for a subnet with a prefix of {length} bits after {current}",
                i,
            )
        current = str(ipaddress.ip_network((base, length)))
        subnets.append(current)
        start = base + size
    return subnets


@spec("cidrhost", Param("prefix", ParamType.STRING), Param("hostnum", ParamType.NUMBER))
def _cidrhost(prefix, hostnum):
    net = _network(prefix)
    if not isinstance(hostnum, int):
        raise FunctionError("hostnum must be a whole number", 1)
    size = net.num_addresses
    if not -size <= hostnum < size:
        raise FunctionError(f"prefix {prefix} has no host number {hostnum}", 1)
    offset = hostnum if hostnum >= 0 else size + hostnum
    return str(net.network_address + offset)


@spec("cidrnetmask", Param("prefix", ParamType.STRING))
def _cidrnetmask(prefix):
    net = _network(prefix)
    if net.version != 4:
        raise FunctionError("cidrnetmask only supports IPv4 prefixes", 0)
    return str(net.netmask)


FUNCTIONS = table(
    _jsonencode,
    _jsondecode,
    _base64encode,
    _base64decode,
    _hasher("sha256", "sha256"),
    _hasher("sha1", "sha1"),
    _hasher("md5", "md5"),
    _hasher("sha512", "sha512"),
    _base64sha256,
    _base64sha512,
    _base64gzip,
    _textencodebase64,
    _textdecodebase64,
    _urlencode,
    _uuidv5,
    _uuid,
    _timestamp,
    _cidrsubnet,
    _cidrsubnets,
    _cidrhost,
    _cidrnetmask,
)
