"""Decodes the W&B `Record` protobufs labbook reads, straight from their wire format.

A `.wandb` log holds one `wandb_internal.Record` per record (see `wandb_log`). labbook
reads six of its kinds and a few fields of each; this module decodes exactly those with
`protowire` and skips the rest, as protobuf skips unknown fields. It needs neither the
wandb SDK nor the protobuf runtime, so an air-gapped team reads its offline runs without
installing either. bench/README.md has the measurements behind that choice.

The field numbers are those of `wandb/proto/wandb_internal.proto` (wandb 0.18–0.31; W&B
only ever adds fields, and these have not moved):

    Record         2 history, 3 summary, 5 config, 17 run, 18 exit, 26 environment
                   (the `record_type` oneof; every other kind is skipped)
    HistoryRecord  1 item (repeated HistoryItem), 2 step (HistoryStep: 1 num)
    HistoryItem    1 key, 2 nested_key (repeated), 16 value_json, and the `value` oneof:
                   3 none, 4 boolean, 5 integer (sint64), 6 number (double), 7 text, 8 json
    ConfigRecord, SummaryRecord    1 update, 2 remove (repeated items)
    ConfigItem, SummaryItem        1 key, 2 nested_key (repeated), 16 value_json
    RunRecord      1 run_id, 3 project, 4 config, 5 summary, 6 run_group, 7 job_type,
                   8 display_name, 9 notes, 10 tags (repeated), 12 sweep_id, 13 host,
                   17 start_time (Timestamp), 21 git (GitRepoRecord: 2 commit)
    RunExitRecord  1 exit_code, 2 runtime
    EnvironmentRecord  3 started_at (Timestamp), 9 git, 12 host
    Timestamp      1 seconds, 2 nanos

As protobuf does, a field given twice keeps its last value, and of a oneof the last
member given wins. A history key is its `key`, or its `nested_key` joined with dots,
which is how W&B's UI names a nested `wandb.log({"val": {"acc": …}})`. Values stay
their JSON text, as bytes: the hot path reads most of them with one `float()`.

wandb-core writes a history row's items the same way every row, so an item's key bytes
are decoded once per log and looked up afterwards (`RecordDecoder` keeps them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from .protowire import (
    FIXED64,
    LENGTH_DELIMITED,
    VARINT,
    DecodeError,
    double,
    field_at,
    fields,
    signed,
    text,
    varint,
    zigzag,
)

KeyPath = tuple[str, ...]
# A history item: its key, its value_json (b"" when it has none) and its typed value,
# given as (oneof member name, value), or None when none is set.
HistoryItem = tuple[str, bytes, "tuple[str, Any] | None"]

__all__ = [
    "Config",
    "DecodeError",
    "Environment",
    "History",
    "HistoryItem",
    "KeyPath",
    "KeyedUpdate",
    "RecordDecoder",
    "RunExit",
    "RunInfo",
    "Summary",
]

# Record's `record_type` oneof: every member, so that the last one given wins.
_HISTORY, _SUMMARY, _CONFIG, _RUN, _EXIT, _ENVIRONMENT = 2, 3, 5, 17, 18, 26
_RECORD_TYPES = frozenset({*range(2, 14), *range(17, 19), *range(20, 28), 100})
_TYPED_VALUES = {3: "none", 4: "boolean", 5: "integer", 6: "number", 7: "text", 8: "json"}


@dataclass(slots=True)
class KeyedUpdate:
    """A config or summary record: items set (key path, value JSON) and key paths removed."""

    update: list[tuple[KeyPath, bytes]] = field(default_factory=list)
    remove: list[KeyPath] = field(default_factory=list)


class Config(KeyedUpdate):
    """A ConfigRecord."""

    __slots__ = ()


class Summary(KeyedUpdate):
    """A SummaryRecord."""

    __slots__ = ()


@dataclass(slots=True)
class History:
    """A HistoryRecord: its items, and its step when the record carries one."""

    items: list[HistoryItem]
    step: int | None = None


@dataclass(slots=True)
class RunInfo:
    """The RunRecord fields labbook reads; "" (or None) where the record has none."""

    run_id: str = ""
    project: str = ""
    display_name: str = ""
    run_group: str = ""
    job_type: str = ""
    notes: str = ""
    host: str = ""
    sweep_id: str = ""
    git_commit: str = ""
    tags: list[str] = field(default_factory=list)
    start_time: float | None = None  # Unix seconds
    config: Config | None = None
    summary: Summary | None = None


@dataclass(slots=True)
class RunExit:
    """A RunExitRecord: the exit code and the runtime in whole seconds."""

    exit_code: int = 0
    runtime: int = 0


@dataclass(slots=True)
class Environment:
    """The EnvironmentRecord fields labbook reads."""

    host: str = ""
    git_commit: str = ""
    started_at: float | None = None  # Unix seconds


Decoded = History | Config | Summary | RunInfo | RunExit | Environment
_Keyed = TypeVar("_Keyed", Config, Summary)


class RecordDecoder:
    """Decodes Record bytes into the kinds above; one decoder per log keeps its key cache."""

    def __init__(self) -> None:
        self._keys: dict[bytes, str] = {}
        self._paths: dict[bytes, KeyPath] = {}

    def decode(self, data: bytes) -> Decoded | None:
        """Gives the record labbook reads, or None for a kind it does not read.

        Raises DecodeError when the bytes are not a Record.
        """
        kind, start, end = 0, 0, 0
        pos, size = 0, len(data)
        while pos < size:
            # A Record has a few top-level fields: read their keys and lengths inline.
            key, after = (data[pos], pos + 1) if data[pos] < 0x80 else varint(data, pos, size)
            wire = key & 7
            if wire == VARINT:
                pos = varint(data, after, size)[1]
                number = key >> 3
            elif wire == LENGTH_DELIMITED and after < size and data[after] < 0x80:
                a = after + 1
                pos = a + data[after]
                number = key >> 3
            else:
                number, wire, a, pos, _ = field_at(data, pos, size)
            if pos > size:
                raise DecodeError("field runs past its message")
            if number in _RECORD_TYPES:
                kind, start, end = (number, a, pos) if wire == LENGTH_DELIMITED else (-1, 0, 0)
        if kind == _HISTORY:
            return self._history(data, start, end)
        if kind == _SUMMARY:
            return self._keyed(data, start, end, Summary)
        if kind == _CONFIG:
            return self._keyed(data, start, end, Config)
        if kind == _RUN:
            return self._run(data, start, end)
        if kind == _EXIT:
            return _exit(data, start, end)
        if kind == _ENVIRONMENT:
            return _environment(data, start, end)
        if kind == -1:
            raise DecodeError("a record's kind is not a message")
        return None

    # -- history and summary items: the hot path ----------------------------------------------

    def _history(self, data: bytes, pos: int, end: int) -> History:
        items: list[HistoryItem] = []
        step: int | None = None
        append = items.append
        keys = self._keys
        while pos < end:
            if data[pos] == 0x0A and pos + 1 < end and data[pos + 1] < 0x80:
                # Field 1 (item) with a one-byte length: nearly every item.
                a = pos + 2
                pos = a + data[pos + 1]
                if pos > end:
                    raise DecodeError("a history item runs past its record")
            else:
                number, wire, a, pos, _ = field_at(data, pos, end)
                if wire != LENGTH_DELIMITED:
                    continue
                if number == 2:
                    step = _step(data, a, pos)
                if number != 1:
                    continue
            key_bytes, raw, typed, late = _item(data, a, pos)
            key = keys.get(key_bytes) if not late else ".".join(_key_path(data, a, pos))
            if key is None:
                key = keys[key_bytes] = ".".join(_key_path(key_bytes, 0, len(key_bytes)))
            append((key, raw, typed))
        return History(items, step)

    def _keyed(self, data: bytes, pos: int, end: int, kind: type[_Keyed]) -> _Keyed:
        out = kind()
        paths = self._paths
        while pos < end:
            if data[pos] == 0x0A and pos + 1 < end and data[pos + 1] < 0x80:
                # Field 1 (update) with a one-byte length: nearly every item.
                number, a = 1, pos + 2
                pos = a + data[pos + 1]
                if pos > end:
                    raise DecodeError("an item runs past its record")
            else:
                number, wire, a, pos, _ = field_at(data, pos, end)
                if wire != LENGTH_DELIMITED or number not in (1, 2):
                    continue
            key_bytes, raw, _, late = _item(data, a, pos)
            path = paths.get(key_bytes) if not late else _key_path(data, a, pos)
            if path is None:
                path = paths[key_bytes] = _key_path(key_bytes, 0, len(key_bytes))
            if number == 1:
                out.update.append((path, raw))
            else:
                out.remove.append(path)
        return out

    # -- the other kinds: a few records per run, decoded field by field -----------------------

    def _run(self, data: bytes, start: int, end: int) -> RunInfo:
        run = RunInfo()
        for number, wire, a, b, _ in fields(data, start, end):
            if wire != LENGTH_DELIMITED:
                continue
            if number in _RUN_STRINGS:
                setattr(run, _RUN_STRINGS[number], text(data, a, b))
            elif number == 10:
                run.tags.append(text(data, a, b))
            elif number == 4:
                run.config = self._keyed(data, a, b, Config)
            elif number == 5:
                run.summary = self._keyed(data, a, b, Summary)
            elif number == 17:
                run.start_time = _timestamp(data, a, b)
            elif number == 21:
                run.git_commit = _git_commit(data, a, b)
        return run


def _item(data: bytes, pos: int, end: int) -> tuple[bytes, bytes, tuple[str, Any] | None, bool]:
    """Gives an item's key bytes, value JSON, typed value, and whether a key came late.

    History, config and summary items share their key fields (1 key, 2 nested_key) and
    value_json (16). Every writer puts the key fields first; their bytes, the same for
    every row of a key, let a decoder look the key up instead of decoding it again.
    """
    if end - pos >= 5 and (data[pos] == 0x12 or data[pos] == 0x0A) and data[pos + 1] < 0x80:
        # The usual item: one key field, then value_json, each with a one-byte length.
        key_end = pos + 2 + data[pos + 1]
        if (
            key_end + 3 <= end
            and data[key_end] == 0x82
            and data[key_end + 1] == 0x01
            and key_end + 3 + data[key_end + 2] == end
        ):
            return data[pos:key_end], data[key_end + 3 : end], None, False
    key_start = pos
    while pos < end and (data[pos] == 0x0A or data[pos] == 0x12):
        if pos + 1 < end and data[pos + 1] < 0x80:
            pos += 2 + data[pos + 1]
        else:
            size, start = varint(data, pos + 1, end)
            pos = start + size
    if pos > end:
        raise DecodeError("an item's key runs past the item")
    key_end = pos
    raw = b""
    typed: tuple[str, Any] | None = None
    late = False
    while pos < end:
        if data[pos] == 0x82 and pos + 2 < end and data[pos + 1] == 0x01 and data[pos + 2] < 0x80:
            # Field 16 (value_json) with a one-byte length: W&B's usual value.
            start = pos + 3
            pos = start + data[pos + 2]
            if pos > end:
                raise DecodeError("a value runs past its item")
            raw = data[start:pos]
            continue
        number, wire, a, pos, value = field_at(data, pos, end)
        if number == 16 and wire == LENGTH_DELIMITED:
            raw = data[a:pos]
        elif number in _TYPED_VALUES:
            typed = (_TYPED_VALUES[number], _typed(data, number, wire, a, pos, value))
        elif number in (1, 2):
            late = True  # key fields after the value: no writer does that, but it is valid
    return data[key_start:key_end], raw, typed, late


_RUN_STRINGS = {
    1: "run_id",
    3: "project",
    6: "run_group",
    7: "job_type",
    8: "display_name",
    9: "notes",
    12: "sweep_id",
    13: "host",
}


def _key_path(data: bytes, start: int, end: int) -> KeyPath:
    """Gives an item's key path: (`key`,) when it has one, else its `nested_key` list."""
    key = ""
    nested: list[str] = []
    for number, wire, a, b, _ in fields(data, start, end):
        if wire != LENGTH_DELIMITED:
            continue
        if number == 1:
            key = text(data, a, b)
        elif number == 2:
            nested.append(text(data, a, b))
    return (key,) if key else tuple(nested)


def _typed(data: bytes, number: int, wire: int, a: int, b: int, value: int) -> Any:
    """Gives the value of a HistoryItem's typed `value` oneof member."""
    if number == 3:
        return None
    if number == 4 and wire == VARINT:
        return value != 0
    if number == 5 and wire == VARINT:
        return zigzag(value)
    if number == 6 and wire == FIXED64:
        return double(data, a)
    if number in (7, 8) and wire == LENGTH_DELIMITED:
        return text(data, a, b)
    raise DecodeError(f"history value field {number} has the wrong wire type {wire}")


def _step(data: bytes, start: int, end: int) -> int:
    num = 0
    for number, wire, _, _, value in fields(data, start, end):
        if number == 1 and wire == VARINT:
            num = signed(value)
    return num


def _timestamp(data: bytes, start: int, end: int) -> float:
    """Gives a google.protobuf.Timestamp as Unix seconds."""
    seconds = nanos = 0
    for number, wire, _, _, value in fields(data, start, end):
        if wire != VARINT:
            continue
        if number == 1:
            seconds = signed(value)
        elif number == 2:
            nanos = signed(value)
    return seconds + nanos / 1e9


def _git_commit(data: bytes, start: int, end: int) -> str:
    commit = ""
    for number, wire, a, b, _ in fields(data, start, end):
        if number == 2 and wire == LENGTH_DELIMITED:
            commit = text(data, a, b)
    return commit


def _exit(data: bytes, start: int, end: int) -> RunExit:
    out = RunExit()
    for number, wire, _, _, value in fields(data, start, end):
        if wire != VARINT:
            continue
        # int32 fields: a negative value is sign-extended to 64 bits on the wire.
        if number == 1:
            out.exit_code = signed(value)
        elif number == 2:
            out.runtime = signed(value)
    return out


def _environment(data: bytes, start: int, end: int) -> Environment:
    env = Environment()
    for number, wire, a, b, _ in fields(data, start, end):
        if wire != LENGTH_DELIMITED:
            continue
        if number == 12:
            env.host = text(data, a, b)
        elif number == 3:
            env.started_at = _timestamp(data, a, b)
        elif number == 9:
            env.git_commit = _git_commit(data, a, b)
    return env
