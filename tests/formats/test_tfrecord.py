"""The TFRecord framing, read back from files TensorBoard's own RecordWriter wrote."""

from __future__ import annotations

import io

from tensorboard.summary.writer.record_writer import RecordWriter

from labbook.formats.tfrecord import HEADER, read_records


def written(payloads: list[bytes]) -> bytes:
    out = io.BytesIO()
    writer = RecordWriter(out)
    for payload in payloads:
        writer.write(payload)
    return out.getvalue()


def test_every_record_is_found_with_its_data() -> None:
    payloads = [b"first", b"", b"x" * 300, b"last one"]
    data = written(payloads)
    records = read_records(data)
    assert records.problem is None and records.cut is None
    got = [data[s : s + n] for s, n in zip(records.starts, records.lengths, strict=True)]
    assert got == payloads


def test_a_file_ending_inside_a_record_gives_where_it_starts() -> None:
    data = written([b"a" * 40, b"b" * 40, b"c" * 40])
    last = len(data) - (HEADER + 40 + 4)
    for end in (last + 3, last + HEADER + 10, len(data) - 1):
        records = read_records(data[:end])
        assert records.problem is None
        assert records.cut == last and len(records.starts) == 2


def test_a_bad_checksum_stops_the_reading_at_its_offset() -> None:
    data = bytearray(written([b"a" * 40, b"b" * 40, b"c" * 40]))
    second = HEADER + 40 + 4
    data[second + HEADER + 5] ^= 0xFF  # inside the second record's data
    records = read_records(bytes(data))
    assert len(records.starts) == 1 and records.cut is None
    assert records.problem == (
        second,
        f"record at byte {second}: the data's checksum does not match",
    )
