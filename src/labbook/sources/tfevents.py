"""A direct reader of TensorBoard event files: the Event protobufs inside TFRecord framing.

An event file is a TFRecord file (`labbook.formats.tfrecord` finds the records and checks
their checksums) whose every record is one serialized `Event` protobuf. Only the messages
on the way to a scalar are decoded: Event (wall_time, step, summary), Summary,
Summary.Value (tag, simple_value, tensor, metadata), SummaryMetadata.PluginData,
TensorProto and TensorShapeProto; and, for the hparams plugin,
HParamsPluginData.SessionStartInfo with its google.protobuf.Value map.

It needs neither TensorFlow nor the `tensorboard` package, and it is fast in pure Python plus
numpy because it does almost nothing per record in Python:

* events: wall_time, step and the summary's span sit at fixed places in every event a known
  writer produces, and are read for all records with array operations.
* summaries: a logger writes the same bytes for every point of a tag except the value itself,
  so summaries are grouped by their bytes outside the values; one summary per group is parsed in
  Python and the values of the whole group are gathered with numpy. Grouping on exact bytes
  (lengths and tags included) makes this exact, not a guess about layouts.

Anything outside those fast paths (an event without wall_time first, fields in an unusual order)
is parsed record by record with the same decoder.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from ..formats.protowire import DecodeError, fields, signed
from ..formats.tfrecord import HEADER, IntArray, U8Array, gather, read_records

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

HPARAMS_PLUGIN = "hparams"
SCALARS_PLUGIN = "scalars"
SESSION_START_TAG = "_hparams_/session_start_info"
EXPERIMENT_TAG = "_hparams_/experiment"

_U64 = (1 << 64) - 1
# Summaries longer than this are parsed one by one (images, audio: few and large).
_MAX_STACKED = 4096
# Bytes of summaries stacked into one matrix at most.
_STACK_BYTES = 1 << 25

# Event fields (tag bytes: field number << 3 | wire type).
_EV_WALL_TIME = 0x09  # 1: double
_EV_STEP = 0x10  # 2: int64
_EV_SUMMARY = 0x2A  # 5: Summary
# The other members of Event's `what` oneof: an event holding one of them holds no summary.
_EV_NOT_SUMMARY = (0x1A, 0x22, 0x32, 0x3A, 0x42, 0x4A)

# TensorProto dtypes whose one-element tensor reads as a number from `tensor_content`.
_CONTENT_DTYPES: dict[int, str] = {1: "<f4", 2: "<f8", 3: "<i4", 9: "<i8", 19: "<f2"}
_DTYPE_NAMES: dict[int, str] = {
    1: "DT_FLOAT",
    2: "DT_DOUBLE",
    3: "DT_INT32",
    4: "DT_UINT8",
    5: "DT_INT16",
    6: "DT_INT8",
    7: "DT_STRING",
    9: "DT_INT64",
    10: "DT_BOOL",
    14: "DT_BFLOAT16",
    19: "DT_HALF",
}


# -- what a file gives ------------------------------------------------------------------------


@dataclass
class EventFileData:
    """What one event file holds that labbook reads, indexed by event (record) number."""

    wall_times: FloatArray
    steps: IntArray
    # tag -> (event numbers, values): `simple_value` points, always scalars.
    simple: dict[str, list[tuple[IntArray, FloatArray]]] = field(default_factory=dict)
    # tag -> (event numbers, values): one-number tensors; scalars when the tag's plugin is "scalars".
    tensors: dict[str, list[tuple[IntArray, FloatArray]]] = field(default_factory=dict)
    # tag -> (event number, plugin name) of the first value carrying metadata.
    plugins: dict[str, tuple[int, str]] = field(default_factory=dict)
    # tag -> (count, dtype name) of tensors the scalars plugin would show but labbook cannot read.
    unread: dict[str, tuple[int, str]] = field(default_factory=dict)
    # (event number, HParamsPluginData bytes) of each distinct hparams session start.
    sessions: list[tuple[int, bytes]] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    # (byte offset, what went wrong): the records that could not be read.
    problems: list[tuple[int, str]] = field(default_factory=list)
    # Byte offset of a last record the file ends inside (still being written, or cut).
    cut: int | None = None

    def scalar_points(self, plugin_of: dict[str, str]) -> dict[str, tuple[IntArray, FloatArray]]:
        """Gives tag -> (event numbers, values) of every scalar point, tensors counted by plugin."""
        out: dict[str, tuple[IntArray, FloatArray]] = {}
        parts: dict[str, list[tuple[IntArray, FloatArray]]] = {}
        for tag, chunks in self.simple.items():
            parts.setdefault(tag, []).extend(chunks)
        for tag, chunks in self.tensors.items():
            if plugin_of.get(tag) == SCALARS_PLUGIN:
                parts.setdefault(tag, []).extend(chunks)
        for tag, chunks in parts.items():
            events = np.concatenate([c[0] for c in chunks])
            values = np.concatenate([c[1] for c in chunks])
            out[tag] = (events, values)
        return out


def read_event_file(data: bytes) -> EventFileData:
    """Gives the events of one event file's bytes; a bad record ends the reading, and is noted.

    A file that ends inside a record (one still being written) is read up to its last whole
    record without a note; `EventFileData.cut` says where that record starts.
    """
    records = read_records(data)
    out = _decode_events(data, records.buf, records.starts, records.lengths)
    out.cut = records.cut
    if records.problem is not None:
        offset, what = records.problem
        kept = len(records.starts)
        out.problems.insert(
            0,
            (offset, f"{what}; the {kept} records before it are read, the rest of the file is not"),
        )
    return out


def parse_event(data: bytes, start: int, end: int) -> tuple[float, int, tuple[int, int] | None]:
    """Gives (wall_time, step, summary span or None) of one Event's bytes."""
    wall, step = 0.0, 0
    summary: tuple[int, int] | None = None
    for number, wire, a, b, value in fields(data, start, end):
        if number == 1 and wire == 1:
            (wall,) = struct.unpack_from("<d", data, a)
        elif number == 2 and wire == 0:
            step = signed(value)
        elif number == 5 and wire == 2:
            summary = (a, b)
    return wall, step, summary


@dataclass(frozen=True)
class _Item:
    """One Summary.Value of a layout: its tag and where its number is, if it has one."""

    tag: str
    number: tuple[int, str] | None = None  # (offset in the summary, numpy dtype)
    is_tensor: bool = False
    plugin: str | None = None  # plugin_name of its metadata, when it has metadata
    content: bytes = b""  # its plugin content
    unread_dtype: str | None = None  # a one-element tensor of a dtype labbook does not read


@dataclass(frozen=True)
class _Layout:
    """A parsed Summary: its values, and which of its bytes vary from point to point."""

    items: tuple[_Item, ...]
    varying: tuple[tuple[int, int], ...]  # (offset, length) of values and opaque payloads


def _parse_summary(data: bytes, start: int, end: int) -> _Layout:
    """Gives the layout of one Summary's bytes; offsets are from `start`."""
    items: list[_Item] = []
    varying: list[tuple[int, int]] = []
    for number, wire, a, b, _ in fields(data, start, end):
        if number == 1 and wire == 2:
            item, spans = _parse_value(data, a, b)
            if item.number is not None:
                item = replace(item, number=(item.number[0] - start, item.number[1]))
            items.append(item)
            varying.extend((s - start, n) for s, n in spans)
    return _Layout(tuple(items), tuple(varying))


def _parse_value(data: bytes, start: int, end: int) -> tuple[_Item, list[tuple[int, int]]]:
    """Gives a Summary.Value's item, with the (absolute) spans of its varying bytes."""
    tag = node_name = ""
    number: tuple[int, str] | None = None
    is_tensor = False
    plugin: str | None = None
    content = b""
    unread: str | None = None
    spans: list[tuple[int, int]] = []
    for field_no, wire, a, b, _ in fields(data, start, end):
        if field_no == 1 and wire == 2:
            tag = data[a:b].decode("utf-8", "replace")
        elif field_no == 7 and wire == 2:
            node_name = data[a:b].decode("utf-8", "replace")
        elif field_no == 2 and wire == 5:  # simple_value
            number = (a, "<f4")
            spans.append((a, 4))
        elif field_no == 8 and wire == 2:  # tensor
            is_tensor = True
            found, dtype = _parse_scalar_tensor(data, a, b)
            if found is not None:
                number = found
                spans.append((found[0], np.dtype(found[1]).itemsize))
            else:
                unread = dtype
                spans.append((a, b - a))
        elif field_no == 9 and wire == 2:  # metadata
            plugin, content = _parse_metadata(data, a, b)
        elif field_no in (3, 4, 5, 6) and wire == 2:  # histogram, image, audio: not read
            spans.append((a, b - a))
    if not tag and is_tensor:
        tag = node_name  # as TensorBoard does for TF 1 tensor summaries
    return _Item(tag, number, is_tensor, plugin, content, unread), spans


def _parse_metadata(data: bytes, start: int, end: int) -> tuple[str, bytes]:
    """Gives (plugin_name, content) of a SummaryMetadata."""
    name, content = "", b""
    for number, wire, a, b, _ in fields(data, start, end):
        if number == 1 and wire == 2:  # plugin_data
            for n2, w2, a2, b2, _ in fields(data, a, b):
                if n2 == 1 and w2 == 2:
                    name = data[a2:b2].decode("utf-8", "replace")
                elif n2 == 2 and w2 == 2:
                    content = data[a2:b2]
    return name, content


def _parse_scalar_tensor(
    data: bytes, start: int, end: int
) -> tuple[tuple[int, str] | None, str | None]:
    """Gives ((offset, dtype), None) of a one-number tensor, else (None, dtype name if one number)."""
    dtype = 0
    elements = 1
    places: list[tuple[int, str]] = []
    other_values = False
    for number, wire, a, b, value in fields(data, start, end):
        if number == 1 and wire == 0:
            dtype = value
        elif number == 2 and wire == 2:
            elements = _shape_elements(data, a, b)
        elif number == 4 and wire == 2:  # tensor_content: raw little-endian values
            np_dtype = _CONTENT_DTYPES.get(dtype)
            if np_dtype is not None and b - a == np.dtype(np_dtype).itemsize:
                places.append((a, np_dtype))
            else:
                other_values = True
        elif number == 5:  # float_val, packed or not
            places.extend((p, "<f4") for p in range(a, b, 4))
        elif number == 6:  # double_val, packed or not
            places.extend((p, "<f8") for p in range(a, b, 8))
        elif number >= 7 and number != 3:
            other_values = True  # int_val, string_val, half_val, …
    if elements == 1 and len(places) == 1 and not other_values:
        return places[0], None
    if elements == 1:
        return None, _DTYPE_NAMES.get(dtype, f"dtype {dtype}")
    return None, None


def _shape_elements(data: bytes, start: int, end: int) -> int:
    """Gives how many elements a TensorShapeProto holds (-1 when unknown)."""
    count = 1
    for number, wire, a, b, value in fields(data, start, end):
        if number == 2 and wire == 2:  # dim
            size = 0
            for n2, w2, _, _, v2 in fields(data, a, b):
                if n2 == 1 and w2 == 0:
                    size = signed(v2)
            count = -1 if size < 0 or count < 0 else count * size
        elif number == 3 and wire == 0 and value:
            return -1
    return count


# -- events ---------------------------------------------------------------------------------


def _varints(
    buf: U8Array, pos: IntArray, end: IntArray
) -> tuple[npt.NDArray[np.uint64], IntArray, BoolArray]:
    """Gives (value, byte length, ok) of the varint at each position, each to end before `end`."""
    n = len(pos)
    values = np.zeros(n, dtype=np.uint64)
    widths = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    live = np.arange(n)
    last = len(buf) - 1
    for k in range(10):
        if not len(live):
            break
        at = pos[live] + k
        inside = at < end[live]
        live, at = live[inside], at[inside]
        byte = buf[np.minimum(at, last)].astype(np.uint64)
        values[live] |= (byte & np.uint64(0x7F)) << np.uint64(7 * k)
        done = (byte & np.uint64(0x80)) == 0
        widths[live[done]] = k + 1
        ok[live[done]] = True
        live = live[~done]
    return values, widths, ok


def _byte_at(buf: U8Array, pos: IntArray, end: IntArray) -> IntArray:
    """Gives the byte at each position, -1 where the position is at or past `end`."""
    inside = pos < end
    got = buf[np.minimum(pos, len(buf) - 1)].astype(np.int64)
    return np.where(inside, got, -1)


def _decode_events(data: bytes, buf: U8Array, starts: IntArray, lengths: IntArray) -> EventFileData:
    """Gives the events of the checked records."""
    n = len(starts)
    ends = starts + lengths
    wall = np.zeros(n, dtype=np.float64)
    step = np.zeros(n, dtype=np.int64)
    # The usual event: wall_time, then step (absent when 0), then one `what` field.
    fast = _byte_at(buf, starts, ends) == _EV_WALL_TIME
    fast &= lengths >= 9
    idx = np.flatnonzero(fast)
    wall[idx] = gather(buf, starts[idx] + 1, 8).view("<f8").ravel()
    pos = starts + 9
    has_step = fast & (_byte_at(buf, pos, ends) == _EV_STEP)
    idx = np.flatnonzero(has_step)
    values, widths, ok = _varints(buf, pos[idx] + 1, ends[idx])
    step[idx] = values.view(np.int64)
    pos[idx] += 1 + widths
    fast[idx[~ok]] = False
    what = _byte_at(buf, pos, ends)
    summary = fast & (what == _EV_SUMMARY)
    idx = np.flatnonzero(summary)
    sizes, widths, ok = _varints(buf, pos[idx] + 1, ends[idx])
    sum_start = np.zeros(n, dtype=np.int64)
    sum_start[idx] = pos[idx] + 1 + widths
    ok &= sum_start[idx] + sizes.astype(np.int64) == ends[idx]  # the summary is the last field
    summary[idx[~ok]] = False
    plain = fast & ~summary & ((what == -1) | np.isin(what, _EV_NOT_SUMMARY))
    out = EventFileData(wall_times=wall, steps=step)
    odd = np.flatnonzero(~(summary | plain))
    for i in odd.tolist():
        try:
            w, s, span = parse_event(data, int(starts[i]), int(ends[i]))
        except DecodeError as exc:
            at = int(starts[i]) - HEADER
            out.problems.append((at, f"record at byte {at} is not an event ({exc}); skipped"))
            wall[i] = np.nan
            continue
        wall[i], step[i] = w, s
        if span is not None:
            summary[i] = True
            sum_start[i] = span[0]
    wall[wall == 0.0] = np.nan  # no wall_time written: unknown, not 1970
    events = np.flatnonzero(summary)
    _decode_summaries(data, buf, events, sum_start[events], ends[events] - sum_start[events], out)
    return out


def _decode_summaries(
    data: bytes,
    buf: U8Array,
    events: IntArray,
    starts: IntArray,
    lengths: IntArray,
    out: EventFileData,
) -> None:
    """Reads every summary into `out`, parsing one summary per group of identical layouts."""
    order = np.argsort(lengths, kind="stable")
    cuts = np.flatnonzero(np.diff(lengths[order])) + 1
    for same_length in np.split(order, cuts):
        if not len(same_length) or lengths[same_length[0]] == 0:
            continue  # an empty summary holds nothing
        size = int(lengths[same_length[0]])
        if len(same_length) == 1 or size > _MAX_STACKED:
            for i in same_length.tolist():
                layout = _layout_or_note(data, int(starts[i]), size, out)
                if layout is not None:
                    _apply(layout, buf, events[i : i + 1], starts[i : i + 1], out)
            continue
        per_batch = max(1, _STACK_BYTES // size)
        for begin in range(0, len(same_length), per_batch):
            group = same_length[begin : begin + per_batch]
            _decode_stacked(data, buf, group, size, events, starts, out)


def _decode_stacked(
    data: bytes,
    buf: U8Array,
    group: IntArray,
    size: int,
    events: IntArray,
    starts: IntArray,
    out: EventFileData,
) -> None:
    """Reads summaries of one length, stacked as the rows of a matrix, a layout at a time."""
    rows = gather(buf, starts[group], size)
    pending = np.arange(len(group))
    while len(pending):
        first = int(group[pending[0]])
        layout = _layout_or_note(data, int(starts[first]), size, out)
        if layout is None:
            pending = pending[1:]
            continue
        keep = np.ones(size, dtype=bool)
        for offset, length in layout.varying:
            keep[offset : offset + length] = False
        fixed = rows[pending][:, keep]
        same = (fixed == fixed[0]).all(axis=1)
        if same.all() or same.sum() * 2 >= len(same):
            chosen = group[pending[same]]
            _apply(layout, buf, events[chosen], starts[chosen], out)
            pending = pending[~same]
            continue
        # Many layouts of one length (many tags of equal length): group them all at once
        # by their fixed bytes instead of comparing with one layout at a time.
        pending = _apply_groups(data, buf, group, pending, fixed, layout, size, events, starts, out)


def _apply_groups(
    data: bytes,
    buf: U8Array,
    group: IntArray,
    pending: IntArray,
    fixed: U8Array,
    layout: _Layout,
    size: int,
    events: IntArray,
    starts: IntArray,
    out: EventFileData,
) -> IntArray:
    """Reads the summaries whose fixed bytes (under `layout`'s varying bytes) group with a parse; gives the rest."""
    keys = np.ascontiguousarray(fixed).view(np.dtype((np.void, fixed.shape[1]))).ravel()
    _, inverse = np.unique(keys, return_inverse=True)
    order = np.argsort(inverse.ravel(), kind="stable")
    cuts = np.flatnonzero(np.diff(inverse.ravel()[order])) + 1
    left: list[IntArray] = []
    for members in np.split(order, cuts):
        first = int(group[pending[members[0]]])
        mine = (
            layout
            if first == int(group[pending[0]])
            else _layout_or_note(data, int(starts[first]), size, out)
        )
        if mine is None:
            left.append(pending[members[1:]])
        elif mine.varying == layout.varying:
            chosen = group[pending[members]]
            _apply(mine, buf, events[chosen], starts[chosen], out)
        else:
            left.append(pending[members])
    return np.sort(np.concatenate(left)) if left else np.empty(0, dtype=np.int64)


def _layout_or_note(data: bytes, start: int, size: int, out: EventFileData) -> _Layout | None:
    """Gives the layout of the summary at `start`, or None with the problem noted in `out`."""
    try:
        return _parse_summary(data, start, start + size)
    except DecodeError as exc:
        out.problems.append((start, f"summary at byte {start} cannot be read ({exc}); skipped"))
        return None


def _apply(
    layout: _Layout, buf: U8Array, events: IntArray, starts: IntArray, out: EventFileData
) -> None:
    """Records the points of summaries sharing one layout."""
    first = int(events.min())
    for item in layout.items:
        out.tags.add(item.tag)
        if item.plugin is not None:
            known = out.plugins.get(item.tag)
            if known is None or first < known[0]:
                out.plugins[item.tag] = (first, item.plugin)
        if item.number is not None:
            offset, dtype = item.number
            raw = gather(buf, starts + offset, np.dtype(dtype).itemsize)
            values = raw.view(dtype).ravel().astype(np.float64)
            target = out.tensors if item.is_tensor else out.simple
            target.setdefault(item.tag, []).append((events, values))
        elif item.unread_dtype is not None:
            count, _ = out.unread.get(item.tag, (0, ""))
            out.unread[item.tag] = (count + len(events), item.unread_dtype)
        if item.plugin == HPARAMS_PLUGIN and item.tag == SESSION_START_TAG:
            out.sessions.append((first, item.content))


# -- hparams -------------------------------------------------------------------------------------


def session_hparams(content: bytes) -> dict[str, Any] | None:
    """Gives the hparams of an HParamsPluginData holding a SessionStartInfo, None if it holds none.

    Values come as google.protobuf.Value gives them: None, float, str, bool, dict or list.
    """
    session: tuple[int, int] | None = None
    for number, wire, a, b, _ in fields(content, 0, len(content)):
        if number == 3 and wire == 2:
            session = (a, b)
    if session is None:
        return None
    params: dict[str, Any] = {}
    for number, wire, a, b, _ in fields(content, *session):
        if number == 1 and wire == 2:  # map<string, Value> hparams: one entry per key
            key, value = "", None
            for n2, w2, a2, b2, _ in fields(content, a, b):
                if n2 == 1 and w2 == 2:
                    key = content[a2:b2].decode("utf-8", "replace")
                elif n2 == 2 and w2 == 2:
                    value = _pb_value(content, a2, b2)
            params[key] = value
    return params


def _pb_value(data: bytes, start: int, end: int) -> Any:
    """Gives a google.protobuf.Value as Python: None, float, str, bool, dict or list."""
    result: Any = None
    for number, wire, a, b, value in fields(data, start, end):
        if number == 1 and wire == 0:
            result = None
        elif number == 2 and wire == 1:
            (result,) = struct.unpack_from("<d", data, a)
        elif number == 3 and wire == 2:
            result = data[a:b].decode("utf-8", "replace")
        elif number == 4 and wire == 0:
            result = bool(value)
        elif number == 5 and wire == 2:  # Struct: map<string, Value> fields = 1
            mapping: dict[str, Any] = {}
            for n2, w2, a2, b2, _ in fields(data, a, b):
                if n2 == 1 and w2 == 2:
                    key, item = "", None
                    for n3, w3, a3, b3, _ in fields(data, a2, b2):
                        if n3 == 1 and w3 == 2:
                            key = data[a3:b3].decode("utf-8", "replace")
                        elif n3 == 2 and w3 == 2:
                            item = _pb_value(data, a3, b3)
                    mapping[key] = item
            result = mapping
        elif number == 6 and wire == 2:  # ListValue: repeated Value values = 1
            result = [
                _pb_value(data, a2, b2)
                for n2, w2, a2, b2, _ in fields(data, a, b)
                if n2 == 1 and w2 == 2
            ]
    return result
