"""Reads protobuf's wire format by hand: varints, field keys, length-delimited spans.

A reader that needs a handful of fields from a message walks its bytes with
`fields` and picks what it knows by field number, as protobuf itself does with
unknown fields. No schema, no generated classes, no protobuf runtime: reading a
tracker's files needs nothing of the tracker's own SDK.

Only what a reader needs is here: wire types 0 (varint), 1 (64-bit), 2 (length-
delimited) and 5 (32-bit). Groups (3, 4) are long deprecated and nothing labbook
reads writes them; meeting one is a DecodeError.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5
_U64 = (1 << 64) - 1
_DOUBLE = struct.Struct("<d")


class DecodeError(ValueError):
    """Bytes that are not the protobuf message they should be."""


def varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Gives (value as uint64, next position) of the varint at `pos`."""
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise DecodeError("varint runs past its message")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & _U64, pos
        shift += 7
        if shift >= 70:
            raise DecodeError("varint longer than 10 bytes")


def field_at(data: bytes, pos: int, end: int) -> tuple[int, int, int, int, int]:
    """Gives (field number, wire type, payload start, payload end, varint value) at `pos`.

    For a varint field the value is its uint64 and the span its bytes; for the others
    the value is 0 and the span is the payload (without a length prefix). The payload
    end is where the next field starts.
    """
    key, pos = varint(data, pos, end)
    number, wire = key >> 3, key & 7
    if wire == VARINT:
        value, after = varint(data, pos, end)
        return number, wire, pos, after, value
    if wire == FIXED64:
        after = pos + 8
    elif wire == LENGTH_DELIMITED:
        size, pos = varint(data, pos, end)
        after = pos + size
    elif wire == FIXED32:
        after = pos + 4
    else:
        raise DecodeError(f"unsupported wire type {wire}")
    if after > end:
        raise DecodeError("field runs past its message")
    return number, wire, pos, after, 0


def fields(data: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int, int, int]]:
    """Gives `field_at` of each field from `pos` to `end`, in order."""
    while pos < end:
        field = field_at(data, pos, end)
        yield field
        pos = field[3]


def signed(value: int) -> int:
    """Gives a varint's uint64 as the int64 (or sign-extended int32) it encodes."""
    return value - (1 << 64) if value >= 1 << 63 else value


def zigzag(value: int) -> int:
    """Gives a varint's uint64 as the sint64 it encodes (ZigZag)."""
    return (value >> 1) ^ -(value & 1)


def double(data: bytes, pos: int) -> float:
    """Gives the little-endian double at `pos` (a FIXED64 field's payload)."""
    value: float = _DOUBLE.unpack_from(data, pos)[0]
    return value


def text(data: bytes, start: int, end: int) -> str:
    """Gives a string field's payload as text; protobuf strings are UTF-8."""
    try:
        return data[start:end].decode()
    except UnicodeDecodeError as exc:
        raise DecodeError(f"a string field is not UTF-8 ({exc.reason})") from None
