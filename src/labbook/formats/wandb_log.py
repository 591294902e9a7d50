"""Reads the framing of a W&B transaction log (`run-<id>.wandb`): whole records as bytes.

The format, as `wandb/sdk/internal/datastore.py` of the SDK describes it and wandb-core
still writes it:

- a 7-byte file header: `:W&B`, the magic number 0xBEE1 (little-endian), version 0;
- then LevelDB's log framing: 32 KiB blocks of fragments, each with a 7-byte header
  (CRC-32 of the type byte and the data, little-endian, unmasked zlib/IEEE CRC-32 —
  not LevelDB's masked CRC-32C; a 2-byte length; a 1-byte type: full, first, middle,
  last). A block's last 1–6 bytes, too few for a header, are zero padding;
- each whole record is one protobuf `Record`; `wandb_record` decodes the ones labbook reads.

This module knows the framing only, nothing of runs. What it decides:

- Damage (a bad checksum, a fragment running past its block, a fragment continuing a
  record whose start is missing, an unknown fragment type) is listed in `problems` by
  byte offset, and reading resumes at the next block, as LevelDB's own reader does, so
  the records around the damage are kept.
- A file that ends inside a record (a log still being written, or one cut short) gives
  every whole record before it; `cut_at` is the byte offset where the unfinished record
  starts. Whether that is worth a word depends on how old the file is, which is the
  caller's to judge. Zero bytes after the last whole record are not a cut.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

LOG_IDENT = b":W&B"
LOG_MAGIC = 0xBEE1
LOG_VERSION = 0
FILE_HEADER = struct.Struct("<4sHB")
BLOCK_SIZE = 32 * 1024
FRAGMENT_HEADER = struct.Struct("<IHB")  # CRC-32, data length, fragment type
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
# The checksum covers the type byte, then the data: start each one from the type's CRC.
_CRC_OF_TYPE = tuple(zlib.crc32(bytes([kind])) for kind in range(256))


@dataclass
class LogProblem:
    """One damaged spot in a log: its byte offset and what is wrong there."""

    offset: int
    message: str


class LogReader:
    """Reads the records of a `.wandb` transaction log, up to its last whole record.

    `records()` yields (byte offset, record bytes); afterwards `problems` lists the
    damaged spots, `cut_at` tells where the file ends inside a record (None when it
    ends after a whole one) and `not_a_log` whether it was no W&B log at all.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.problems: list[LogProblem] = []
        self.cut_at: int | None = None
        self.not_a_log = False

    def records(self) -> Iterator[tuple[int, bytes]]:
        """Gives each whole record's offset and bytes, in file order."""
        data = self.data
        size = len(data)
        if size < FILE_HEADER.size:
            # An empty or half-written header: a log that has only just been created.
            self.cut_at = 0 if size else None
            return
        ident, magic, version = FILE_HEADER.unpack_from(data, 0)
        if ident != LOG_IDENT or magic != LOG_MAGIC:
            self.not_a_log = True
            self.problems.append(LogProblem(0, "not a W&B transaction log (no ':W&B' header)"))
            return
        if version != LOG_VERSION:
            self.not_a_log = True
            self.problems.append(
                LogProblem(0, f"log format version {version}, labbook reads version {LOG_VERSION}")
            )
            return
        unpack = FRAGMENT_HEADER.unpack_from
        crc32 = zlib.crc32
        pos = FILE_HEADER.size
        pending: bytearray | None = None
        pending_at = 0
        # After damage, the fragments that continue the lost record are dropped quietly.
        resyncing = False
        while True:
            room = BLOCK_SIZE - pos % BLOCK_SIZE
            if room < FRAGMENT_HEADER.size:
                pos += room  # the block's zero padding
                continue
            if pos + FRAGMENT_HEADER.size > size:
                break
            checksum, length, kind = unpack(data, pos)
            start = pos + FRAGMENT_HEADER.size
            end = start + length
            if end > pos + room:
                self._damaged(pos, "a fragment's length runs past its 32 KiB block")
                pending, resyncing = None, True
                pos += room
                continue
            if end > size:
                break  # the record being written when the file was read
            if checksum == 0 and length == 0 and kind == 0:
                pos += room  # zero-filled space, not a fragment
                continue
            payload = data[start:end]
            if crc32(payload, _CRC_OF_TYPE[kind]) != checksum:
                self._damaged(pos, "checksum mismatch")
                pending, resyncing = None, True
                pos += room
                continue
            pos = end
            if kind == FULL:
                if pending is not None:
                    self._unfinished(pending_at)
                pending, resyncing = None, False
                yield start - FRAGMENT_HEADER.size, payload
            elif kind == FIRST:
                if pending is not None:
                    self._unfinished(pending_at)
                pending, pending_at = bytearray(payload), start - FRAGMENT_HEADER.size
                resyncing = False
            elif kind in (MIDDLE, LAST):
                if pending is None:
                    if not resyncing:
                        self.problems.append(
                            LogProblem(
                                start - FRAGMENT_HEADER.size,
                                "the rest of a record whose start is missing; skipped",
                            )
                        )
                    continue
                pending += payload
                if kind == LAST:
                    yield pending_at, bytes(pending)
                    pending = None
            else:
                self.problems.append(
                    LogProblem(
                        start - FRAGMENT_HEADER.size, f"unknown fragment type {kind}; skipped"
                    )
                )
        if pending is not None:
            self.cut_at = pending_at
        elif pos < size and data[pos:].strip(b"\0"):
            self.cut_at = pos

    def _damaged(self, offset: int, what: str) -> None:
        skip_to = offset + BLOCK_SIZE - offset % BLOCK_SIZE
        self.problems.append(
            LogProblem(offset, f"damaged record ({what}); skipped to byte {skip_to}")
        )

    def _unfinished(self, offset: int) -> None:
        self.problems.append(LogProblem(offset, "a record without its end; skipped"))
