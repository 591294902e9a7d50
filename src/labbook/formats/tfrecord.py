"""The TFRecord framing: records found, and every checksum checked, for a whole file at once.

A TFRecord file (TensorFlow's, and so TensorBoard's event files) is a sequence of::

    uint64 length | uint32 masked_crc32c(length) | data[length] | uint32 masked_crc32c(data)

`read_records` gives every whole record whose two checksums hold, where reading had to
stop (a checksum that fails, with its byte offset), and where the file ends inside a
record (one still being written, or a writer that stopped mid-record). What the records'
data means is the caller's: `labbook.sources.tfevents` decodes TensorBoard's events.

It is fast in pure Python plus numpy because it does almost nothing per record in Python:
records are found by following headers (or, for the usual file, all at once: every place
a header could start, kept when they chain from byte 0), and every CRC-32C is computed at
once. Records are stacked into a matrix (left padded with zeros to a multiple of 8 bytes;
long records cut into 256-byte rows whose CRCs are combined afterwards) and a
table-driven CRC walks the columns 8 bytes a step, with four lookups in 16-bit tables per
step.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
U8Array = npt.NDArray[np.uint8]
U32Array = npt.NDArray[np.uint32]

HEADER = 12  # uint64 length + uint32 masked CRC of it
FOOTER = 4  # uint32 masked CRC of the data

_CRC_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected
_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF
# Records up to this many bytes are stacked whole; longer ones are cut into rows this wide.
_CHUNK = 256
# Rows per CRC matrix, to bound the memory a large file takes.
_ROWS_PER_BATCH = 1 << 16
# Bytes of a file scanned at once for record headers.
_WINDOW = 1 << 24


@dataclass(frozen=True)
class Records:
    """The whole, checked records of one file's bytes, and where reading stopped."""

    buf: U8Array  # the file's bytes
    starts: IntArray  # byte offset of each record's data
    lengths: IntArray  # length of each record's data
    # (byte offset, what went wrong) of the record that stopped the reading, if one did.
    problem: tuple[int, str] | None = None
    # Byte offset of a last record the file ends inside (still being written, or cut).
    cut: int | None = None


def read_records(data: bytes) -> Records:
    """Gives every whole record whose checksums hold, up to the first that fails.

    A file that ends inside a record is read up to its last whole record; `cut` says
    where the unfinished one starts, and it is no problem (a writer may still be on it).
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, lengths, problem, headers_checked, end = _frame(data, buf)
    if len(starts):
        bad = _first_bad_record(buf, starts, lengths, headers_checked)
        if bad is not None:
            index, what = bad
            problem = (int(starts[index]) - HEADER, what)
            starts, lengths = starts[:index], lengths[:index]
    cut = end if problem is None and end < len(data) else None
    return Records(buf, starts, lengths, problem, cut)


# -- framing ----------------------------------------------------------------------------------


def _frame(
    data: bytes, buf: U8Array
) -> tuple[IntArray, IntArray, tuple[int, str] | None, bool, int]:
    """Gives each whole record's data offset and length, (offset, what) if framing broke,
    whether the length checksums were checked on the way, and where the whole records end.

    Following the headers one by one leaves their checksums, and the data's, to be checked
    afterwards for all records at once. A header whose record runs past the end of the file is
    a file still being written when its own checksum holds, a broken file when it does not.
    """
    starts = _frame_fast(buf)
    if starts is not None:
        lengths = _u64_at(buf, starts - HEADER).astype(np.int64)
        end = int(starts[-1] + lengths[-1] + FOOTER) if len(starts) else 0
        return starts, lengths, _tail_problem(data, end), True, end
    unpack = struct.Struct("<Q").unpack_from
    size = len(data)
    pos = 0
    found_starts: list[int] = []
    found_lengths: list[int] = []
    add_start, add_length = found_starts.append, found_lengths.append
    while pos + HEADER <= size:
        (length,) = unpack(data, pos)
        if pos + HEADER + length + FOOTER > size:
            break
        add_start(pos + HEADER)
        add_length(length)
        pos += HEADER + length + FOOTER
    return (
        np.asarray(found_starts, dtype=np.int64),
        np.asarray(found_lengths, dtype=np.int64),
        _tail_problem(data, pos),
        False,
        pos,
    )


def _tail_problem(data: bytes, pos: int) -> tuple[int, str] | None:
    """Gives the problem at the bytes after the last whole record, None when they are a record's start."""
    if len(data) - pos < HEADER:
        return None  # not even a whole header yet
    header = data[pos : pos + 8]
    (stored,) = struct.unpack_from("<I", data, pos + 8)
    if masked_crc32c(header) != stored:
        return pos, f"record at byte {pos}: the length's checksum does not match"
    return None  # a whole header whose record is not all written yet


def _frame_fast(buf: U8Array) -> IntArray | None:
    """Gives the data offsets of every whole record at once, or None to follow headers one by one.

    Every record's header is the 12 bytes `length | masked_crc32c(length)`: this finds every
    place where such a header could start (the length's top 4 bytes zero and its checksum
    holding) and keeps the answer only when those places chain exactly from byte 0 to the last
    whole record; anything else (a header-like pattern inside data, a broken header) falls back
    to following the headers.
    """
    size = len(buf)
    if size < 4 * HEADER:
        return None
    span = size - HEADER + 1  # positions where a whole header fits
    possible = np.empty(span, dtype=bool)
    for begin in range(0, span, _WINDOW):  # a window at a time, to bound the memory it takes
        stop = min(begin + _WINDOW, span)
        zero = buf[begin + 4 : stop + 7] == 0
        width = stop - begin
        np.logical_and(zero[:width], zero[1 : width + 1], out=possible[begin:stop])
        possible[begin:stop] &= zero[2 : width + 2]
        possible[begin:stop] &= zero[3 : width + 3]
    cand: IntArray = np.flatnonzero(possible).astype(np.int64)
    if not len(cand) or cand[0] != 0:
        return None
    nxt = cand + HEADER + _u32_at(buf, cand).astype(np.int64) + FOOTER
    # A header's zero bytes make the 3 places before it look like headers too; keeping only
    # places whose record ends where another could start (or at the end) drops most of them
    # before the costlier checksum.
    ends_well = nxt >= span
    inside = np.flatnonzero(~ends_well & (nxt <= size))
    ends_well[inside] = possible[nxt[inside]]
    ends_well &= nxt <= size
    cand, nxt = cand[ends_well], nxt[ends_well]
    good = _masked(_crc_fixed(buf, cand, 8)) == _u32_at(buf, cand + 8)
    cand, nxt = cand[good], nxt[good]
    if not len(cand) or cand[0] != 0 or np.any(cand[1:] != nxt[:-1]):
        return None
    return cand + HEADER


def _u32_at(buf: U8Array, pos: IntArray) -> U32Array:
    """Gives the little-endian uint32 at each position."""
    return gather(buf, pos, 4).view("<u4").ravel()


def _u64_at(buf: U8Array, pos: IntArray) -> npt.NDArray[np.uint64]:
    """Gives the little-endian uint64 at each position."""
    return gather(buf, pos, 8).view("<u8").ravel()


def gather(buf: U8Array, pos: IntArray, width: int) -> U8Array:
    """Gives the `width` bytes at each position as the rows of a C-contiguous matrix.

    Reads a column of up to 8 bytes at a time through a view holding one word at every byte
    offset of `buf`: one fast 1-D gather per column, where indexing rows of a sliding window
    costs several times more per row.
    """
    out = np.empty((len(pos), width), dtype=np.uint8)
    if not len(pos):
        return out
    offset = 0
    while offset < width:
        size = next(w for w in (8, 4, 2, 1) if offset + w <= width)
        words = _word_view(buf, size)
        out[:, offset : offset + size].view(words.dtype)[:, 0] = words[pos + offset]
        offset += size
    return out


def _word_view(buf: U8Array, size: int) -> npt.NDArray[Any]:
    """Gives a read-only view of `buf` holding the little-endian `size`-byte word at each byte."""
    dtype = np.dtype(f"<u{size}")
    count = max(len(buf) - size + 1, 0)
    return np.ndarray((count,), dtype=dtype, buffer=buf, strides=(1,))


# -- checksums ----------------------------------------------------------------------------------


@cache
def _crc_tables() -> tuple[U32Array, U32Array]:
    """Gives the CRC-32C byte tables (8 × 256, slicing-by-8) and the 16-bit tables (4 × 65536)."""
    c = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        c = np.where(c & 1, (c >> 1) ^ np.uint32(_CRC_POLY), c >> 1).astype(np.uint32)
    t8 = np.empty((8, 256), dtype=np.uint32)
    t8[0] = c
    for k in range(1, 8):
        t8[k] = (t8[k - 1] >> 8) ^ t8[0][t8[k - 1] & 0xFF]
    # Byte j of an 8-byte step goes through t8[7 - j]; a 16-bit table does two bytes at once.
    half = np.arange(65536, dtype=np.uint32)
    low, high = half & 0xFF, half >> 8
    t16 = np.empty((4, 65536), dtype=np.uint32)
    for m in range(4):
        t16[m] = t8[7 - 2 * m][low] ^ t8[6 - 2 * m][high]
    return t8, t16


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """Gives the CRC-32C of a short byte string (one record at a time: for tests and odd cases)."""
    t8 = _crc_tables()[0][0].tolist()
    crc = _U32
    for byte in bytes(data):
        crc = t8[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _U32


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """Gives the masked CRC-32C a TFRecord stores."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & _U32


def _masked(crc: U32Array) -> U32Array:
    """Gives the masked form of each CRC, as TFRecords store it."""
    rotated = (crc >> np.uint32(15)) | (crc << np.uint32(17))
    return (rotated + np.uint32(_MASK_DELTA)).astype(np.uint32)


def _raw_crc_rows(rows: U8Array) -> U32Array:
    """Gives the CRC-32C register (start 0, no final xor) after each row; width a multiple of 8.

    Starting from 0 makes leading zero bytes change nothing, which is what lets rows be padded
    on the left; the usual start of all ones is the same as inverting the first 4 bytes.
    """
    t16 = _crc_tables()[1]
    t0, t1, t2, t3 = t16[0], t16[1], t16[2], t16[3]
    halves = np.ascontiguousarray(rows.view("<u2").T)  # column-major: one column per 2 bytes
    crc = np.zeros(rows.shape[0], dtype=np.uint32)
    for block in range(rows.shape[1] // 8):
        c0, c1, c2, c3 = halves[4 * block : 4 * block + 4]
        low = (crc & np.uint32(0xFFFF)) ^ c0
        high = (crc >> np.uint32(16)) ^ c1
        crc = t0[low] ^ t1[high] ^ t2[c2] ^ t3[c3]
    return crc


def _crc_fixed(buf: U8Array, pos: IntArray, width: int) -> U32Array:
    """Gives the CRC-32C of the `width` bytes (a multiple of 8) at each position."""
    rows = gather(buf, pos, width)
    rows[:, :4] ^= 0xFF
    return _raw_crc_rows(rows) ^ np.uint32(_U32)


def _crc_many(buf: U8Array, starts: IntArray, lengths: IntArray) -> U32Array:
    """Gives the CRC-32C of each (start, length) span of `buf`."""
    out = np.zeros(len(starts), dtype=np.uint32)
    tiny = np.flatnonzero(lengths < 4)  # too short to fold the start value into; rare
    for i in tiny:
        s = int(starts[i])
        out[i] = crc32c(buf[s : s + int(lengths[i])].tobytes())
    short = np.flatnonzero((lengths >= 4) & (lengths <= _CHUNK))
    if len(short):
        order = np.argsort(lengths[short], kind="stable")
        cuts = np.flatnonzero(np.diff(lengths[short][order])) + 1
        for group in np.split(order, cuts):
            for batch in _batches(short[group]):
                out[batch] = _crc_short(buf, starts[batch], int(lengths[batch[0]]))
    long = np.flatnonzero(lengths > _CHUNK)
    for batch in _batches(long, by=lengths[long] // _CHUNK + 1):
        out[batch] = _crc_long(buf, starts[batch], lengths[batch])
    return out


def _batches(indexes: IntArray, by: IntArray | None = None) -> Iterator[IntArray]:
    """Gives `indexes` in runs of at most _ROWS_PER_BATCH rows (`by`: rows each index takes)."""
    if by is None:
        for begin in range(0, len(indexes), _ROWS_PER_BATCH):
            yield indexes[begin : begin + _ROWS_PER_BATCH]
        return
    begin, rows = 0, 0
    for i, n in enumerate(by.tolist()):
        if rows and rows + n > _ROWS_PER_BATCH:
            yield indexes[begin:i]
            begin, rows = i, 0
        rows += n
    if begin < len(indexes):
        yield indexes[begin:]


def _crc_short(buf: U8Array, starts: IntArray, length: int) -> U32Array:
    """Gives the CRC-32C of spans of one length, 4 to _CHUNK bytes."""
    width = (length + 7) // 8 * 8
    pad = width - length
    # A span is read with the bytes before it as its padding (a record always has its 12-byte
    # header before it, and a span here pads by at most 7), which are then zeroed.
    rows = gather(buf, starts - pad, width)
    rows[:, :pad] = 0
    rows[:, pad : pad + 4] ^= 0xFF
    return _raw_crc_rows(rows) ^ np.uint32(_U32)


def _crc_long(buf: U8Array, starts: IntArray, lengths: IntArray) -> U32Array:
    """Gives the CRC-32C of spans longer than _CHUNK: rows of _CHUNK bytes, combined per span."""
    chunks = (lengths + _CHUNK - 1) // _CHUNK
    pad = chunks * _CHUNK - lengths
    first_row = np.concatenate([[0], np.cumsum(chunks)[:-1]]).astype(np.int64)
    total = int(chunks.sum())
    span_of_row = np.repeat(np.arange(len(starts)), chunks)
    row_in_span = np.arange(total) - first_row[span_of_row]
    row_pos = starts[span_of_row] - pad[span_of_row] + row_in_span * _CHUNK
    rows = gather(buf, np.maximum(row_pos, 0), _CHUNK)
    # A record near the start of the file pads past byte 0: shift its first row into place
    # (what lands in the padding is zeroed below).
    for r in np.flatnonzero(row_pos < 0).tolist():
        before = -int(row_pos[r])
        rows[r, before:] = buf[: _CHUNK - before]
    cols = np.arange(_CHUNK)
    row_pad = np.where(row_in_span == 0, pad[span_of_row], 0)
    rows[cols < row_pad[:, None]] = 0
    for k in range(4):  # fold the start value into the first 4 bytes, which may cross a row
        at = pad + k
        rows[first_row + at // _CHUNK, at % _CHUNK] ^= 0xFF
    raw = _raw_crc_rows(rows).tolist()
    s0, s1, s2, s3 = _shift_tables(_CHUNK)
    out = np.empty(len(starts), dtype=np.uint32)
    for i, (first, n) in enumerate(zip(first_row.tolist(), chunks.tolist(), strict=True)):
        crc = 0
        for r in raw[first : first + n]:
            # crc(A + B) = crc(A) moved past len(B) zero bytes, xor crc(B)
            crc = s0[crc & 0xFF] ^ s1[(crc >> 8) & 0xFF] ^ s2[(crc >> 16) & 0xFF] ^ s3[crc >> 24]
            crc ^= r
        out[i] = crc ^ _U32
    return out


@cache
def _shift_tables(zeros: int) -> tuple[list[int], list[int], list[int], list[int]]:
    """Gives, per byte of a CRC register, the register after `zeros` zero bytes (it is linear)."""
    t8 = _crc_tables()[0][0]
    regs = np.arange(256, dtype=np.uint32)[None, :] << (8 * np.arange(4, dtype=np.uint32))[:, None]
    regs = regs.ravel()
    for _ in range(zeros):
        regs = t8[regs & 0xFF] ^ (regs >> 8)
    table = regs.reshape(4, 256).tolist()
    return table[0], table[1], table[2], table[3]


def _first_bad_record(
    buf: U8Array, starts: IntArray, lengths: IntArray, headers_checked: bool = False
) -> tuple[int, str] | None:
    """Gives (record number, what) of the first record whose length or data checksum fails."""
    headers = starts - HEADER
    if headers_checked:
        bad_header = np.zeros(len(starts), dtype=bool)
    else:
        bad_header = _masked(_crc_fixed(buf, headers, 8)) != _u32_at(buf, headers + 8)
    bad_data = _masked(_crc_many(buf, starts, lengths)) != _u32_at(buf, starts + lengths)
    bad = np.flatnonzero(bad_header | bad_data)
    if not len(bad):
        return None
    i = int(bad[0])
    what = "the length's checksum" if bad_header[i] else "the data's checksum"
    return i, f"record at byte {int(headers[i])}: {what} does not match"
