"""TensorBoardSource: event files written by TensorBoard's and tensorboardX's own writers."""

from __future__ import annotations

import math
import os
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tensorboardX
from google.protobuf import struct_pb2
from tensorboard.backend.event_processing.event_accumulator import (
    SCALARS,
    TENSORS,
    EventAccumulator,
)
from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import crc32c as reference_crc32c
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.summary import Writer
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.summary.writer.record_writer import RecordWriter
from tensorboard.util import tensor_util

from labbook.errors import RunDataError, SourceError
from labbook.formats.tfrecord import _crc_many, crc32c
from labbook.model import Run
from labbook.sources import open_source
from labbook.sources.tensorboard import TensorBoardSource, _param
from labbook.sources.tfevents import session_hparams

# 2026-11-02T10:00:00Z
T0 = 1793613600.0


def source(root: Path) -> TensorBoardSource:
    src = open_source(f"tensorboard:{root.name}", base_dir=root.parent)
    assert isinstance(src, TensorBoardSource)
    return src


def runs_by_id(src: TensorBoardSource) -> dict[str, Run]:
    return {r.id: r for r in src.list_runs()}


def f32(values: list[float]) -> np.ndarray:
    """What TensorBoard keeps of logged values: float32, widened exactly."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def event_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("events.out.tfevents.*"))


def all_events(folder: Path) -> Iterator[event_pb2.Event]:
    """Gives every event of a folder's files, decoded by TensorBoard's own loader."""
    for path in event_files(folder):
        for record in RawEventFileLoader(str(path)).Load():
            yield event_pb2.Event.FromString(record)


def record_offsets(path: Path) -> list[int]:
    """Gives the byte offset of each record of an event file."""
    data = path.read_bytes()
    offsets, pos = [], 0
    while pos + 12 <= len(data):
        offsets.append(pos)
        (length,) = struct.unpack_from("<Q", data, pos)
        pos += 16 + length
    return offsets


def scalar_event(
    tag: str, step: int, wall: float, tensor: tensor_pb2.TensorProto, plugin: str | None
) -> event_pb2.Event:
    value = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
    if plugin is not None:
        value.metadata.plugin_data.plugin_name = plugin
    return event_pb2.Event(wall_time=wall, step=step, summary=summary_pb2.Summary(value=[value]))


SCALAR_SHAPE = tensor_shape_pb2.TensorShapeProto()


# -- the two summary forms ------------------------------------------------------------------


def test_tensorboard_writer_v2_tensor_scalars(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logged = [0.5, 0.1, math.nan, 1e-8, math.inf, -3.3, 2.0 / 3.0]
    writer = Writer(str(logs / "run"))
    for step, value in enumerate(logged):
        writer.add_scalar("loss", value, step * 10, wall_time=T0 + step, description="the loss")
    writer.close()

    run = runs_by_id(source(logs))["run"]
    s = run.series("loss")
    assert s.steps.tolist() == [0, 10, 20, 30, 40, 50, 60]
    np.testing.assert_array_equal(s.values, f32(logged))
    assert s.values.dtype == np.float64
    assert s.times.tolist() == [T0 + i for i in range(7)]
    assert run.summary == {"loss": float(np.float32(2.0 / 3.0))}
    assert run.metric_keys() == ["loss"]
    assert run.status is None
    walls = [e.wall_time for e in all_events(logs / "run")]
    assert run.start_time is not None and run.end_time is not None
    assert run.start_time.timestamp() == pytest.approx(min(walls))
    assert run.end_time.timestamp() == pytest.approx(max(walls))

    # The same points as TensorBoard's own loader gives, kept as tensors.
    acc = EventAccumulator(str(logs / "run"), size_guidance={TENSORS: 0})
    acc.Reload()
    expected = acc.Tensors("loss")
    assert [e.step for e in expected] == s.steps.tolist()
    np.testing.assert_array_equal(
        [float(tensor_util.make_ndarray(e.tensor_proto)) for e in expected], s.values
    )


def test_tensorboardx_v1_scalars_match_event_accumulator(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    n = 5000  # more than the 1,000 per tag TensorBoard keeps by default
    rng = np.random.default_rng(7)
    loss = rng.normal(size=n).tolist()
    loss[123] = math.nan
    writer = tensorboardX.SummaryWriter(str(logs / "x"), max_queue=1000)
    for step in range(n):
        writer.add_scalar("train/loss", loss[step], step, walltime=T0 + step / 10)
        if step % 2 == 0:
            writer.add_scalar("val/acc", step / n, step, walltime=T0 + step / 10)
    writer.close()

    run = runs_by_id(source(logs))["x"]
    assert run.metric_keys() == ["train/loss", "val/acc"]
    s = run.series("train/loss")
    assert len(s) == n
    np.testing.assert_array_equal(s.values, f32(loss))
    assert s.steps.tolist() == list(range(n))

    acc = EventAccumulator(str(logs / "x"), size_guidance={SCALARS: 0})
    acc.Reload()
    for tag in ("train/loss", "val/acc"):
        expected = acc.Scalars(tag)
        mine = run.series(tag)
        assert len(expected) == len(mine)
        assert [e.step for e in expected] == mine.steps.tolist()
        assert [e.wall_time for e in expected] == mine.times.tolist()
        np.testing.assert_array_equal([e.value for e in expected], mine.values)
    assert run.summary["val/acc"] == float(np.float32((n - 2) / n))


def test_tensor_forms_other_writers_use(tmp_path: Path) -> None:
    """tf.summary v2 writes `tensor_content`, metadata on a tag's first point only; TF 1 merges values."""
    folder = tmp_path / "logs" / "tf"
    writer = EventFileWriter(str(folder))
    for step in range(3):
        content = tensor_pb2.TensorProto(
            dtype=1, tensor_shape=SCALAR_SHAPE, tensor_content=np.float32(step + 0.1).tobytes()
        )
        writer.add_event(
            scalar_event("a", step, T0 + step, content, "scalars" if step == 0 else None)
        )
        double = tensor_pb2.TensorProto(dtype=2, tensor_shape=SCALAR_SHAPE, double_val=[step / 3])
        writer.add_event(scalar_event("b", step, T0 + step, double, "scalars"))
        # A tensor of another plugin, one element or not, is not a scalar.
        other = tensor_pb2.TensorProto(dtype=1, tensor_shape=SCALAR_SHAPE, float_val=[7.0])
        writer.add_event(scalar_event("hist", step, T0 + step, other, "histograms"))
        merged = summary_pb2.Summary(
            value=[
                summary_pb2.Summary.Value(tag="x", simple_value=step * 2.5),
                summary_pb2.Summary.Value(tag="y", simple_value=-step),
            ]
        )
        writer.add_event(event_pb2.Event(wall_time=T0 + step, step=step, summary=merged))
    # Events outside the usual layout are parsed one by one: no wall_time (time unknown), or
    # a field after the summary.
    later = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="x", simple_value=99.0)])
    writer.add_event(event_pb2.Event(step=9, summary=later))
    writer.add_event(
        event_pb2.Event(
            wall_time=T0 + 10,
            step=10,
            summary=later,
            source_metadata=event_pb2.SourceMetadata(writer="test"),
        )
    )
    writer.add_event(event_pb2.Event(wall_time=T0, step=3, summary=summary_pb2.Summary()))
    # An int32 scalar written as int_val is not read, and said so.
    ints = tensor_pb2.TensorProto(dtype=3, tensor_shape=SCALAR_SHAPE, int_val=[4])
    writer.add_event(scalar_event("count", 0, T0, ints, "scalars"))
    writer.close()

    src = source(tmp_path / "logs")
    run = runs_by_id(src)["tf"]
    assert run.metric_keys() == ["a", "b", "x", "y"]
    np.testing.assert_array_equal(run.series("a").values, f32([0.1, 1.1, 2.1]))
    assert run.series("b").values.tolist() == [0.0, 1 / 3, 2 / 3]  # double stays double
    x = run.series("x")
    assert x.values.tolist() == [0.0, 2.5, 5.0, 99.0, 99.0]
    assert x.steps.tolist() == [0, 1, 2, 9, 10]
    assert math.isnan(x.times[3]) and x.times[4] == T0 + 10
    assert run.series("y").steps.tolist() == [0, 1, 2]
    [problem] = src.problems()
    assert "'count'" in problem.message and "DT_INT32" in problem.message
    assert problem.file is not None and problem.file.startswith("logs/tf/events.out.tfevents.")


def test_many_tags_of_one_length(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    writer = tensorboardX.SummaryWriter(str(logs / "wide"), max_queue=1000)
    for step in range(30):
        for k in range(40):
            writer.add_scalar(f"m{k:02d}", k * 100 + step, step, walltime=T0 + step)
        writer.add_scalar("a_longer_tag", -step, step, walltime=T0 + step)
    writer.close()
    run = runs_by_id(source(logs))["wide"]
    assert len(run.metric_keys()) == 41
    for k in (0, 17, 39):
        assert run.series(f"m{k:02d}").values.tolist() == [k * 100 + s for s in range(30)]
    assert run.summary["a_longer_tag"] == -29.0


def test_layouts_sharing_a_length(tmp_path: Path) -> None:
    """simple_value summaries and tensor summaries of one byte length, the minority first."""
    folder = tmp_path / "logs" / "mixed"
    long_tags = [f"simple/tag/number/{k:05d}" for k in range(6)]
    short_tags = ["t00", "t01"]

    def simple(tag: str, value: float) -> summary_pb2.Summary:
        return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])

    def tensor(tag: str, value: float) -> summary_pb2.Summary:
        proto = tensor_pb2.TensorProto(dtype=1, tensor_shape=SCALAR_SHAPE, float_val=[value])
        return scalar_event(tag, 0, T0, proto, "scalars").summary

    assert simple(long_tags[0], 1.0).ByteSize() == tensor(short_tags[0], 1.0).ByteSize()
    writer = EventFileWriter(str(folder))
    for step in range(20):
        for tag in short_tags:
            writer.add_event(
                event_pb2.Event(wall_time=T0 + step, step=step, summary=tensor(tag, step / 4))
            )
        for k, tag in enumerate(long_tags):
            writer.add_event(
                event_pb2.Event(wall_time=T0 + step, step=step, summary=simple(tag, k + step))
            )
    writer.close()
    run = runs_by_id(source(tmp_path / "logs"))["mixed"]
    assert run.metric_keys() == sorted(long_tags + short_tags)
    assert run.series("t01").values.tolist() == [s / 4 for s in range(20)]
    assert run.series(long_tags[5]).values.tolist() == [5.0 + s for s in range(20)]


def test_images_histograms_and_text_are_skipped(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    rng = np.random.default_rng(0)
    writer = tensorboardX.SummaryWriter(str(logs / "media"))
    for step in range(3):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_image("img", rng.random((3, 64, 64)), step)  # a record of several KB
        writer.add_histogram("weights", rng.normal(size=1000), step)
        writer.add_text("notes", "long text " * (500 + step), step)  # more than 4 KB
    writer.close()
    src = source(logs)
    run = runs_by_id(src)["media"]
    assert run.metric_keys() == ["loss"]
    np.testing.assert_array_equal(run.series("loss").values, f32([1.0, 0.5, 1 / 3]))
    assert src.problems() == []


# -- runs, files and folders ------------------------------------------------------------------


def test_resumed_run_merges_files_in_step_order(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    # The first writer's file sorts after the second's: the merge goes by step, then wall time.
    first = tensorboardX.SummaryWriter(str(logs / "run"), filename_suffix=".z")
    for step in range(6):
        first.add_scalar("loss", 10 + step, step, walltime=T0 + step)
    first.close()
    second = tensorboardX.SummaryWriter(str(logs / "run"), filename_suffix=".a")
    for step in range(5, 10):  # resumed from the checkpoint at step 5
        second.add_scalar("loss", 20 + step, step, walltime=T0 + 100 + step)
    second.close()
    assert len(event_files(logs / "run")) == 2

    run = runs_by_id(source(logs))["run"]
    s = run.series("loss")
    assert s.steps.tolist() == [0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9]
    assert s.values.tolist() == [10, 11, 12, 13, 14, 15, 25, 26, 27, 28, 29]
    assert np.all(np.diff(s.times) > 0)
    assert run.summary["loss"] == 29.0


def test_nested_run_folders(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    for rel in ("exp1/run_a", "exp1/run_b", "exp2/deep/run_c", "solo", ".hidden/run"):
        writer = tensorboardX.SummaryWriter(str(logs / rel))
        writer.add_scalar("loss", len(rel), 1)
        writer.close()
    (logs / "empty_folder").mkdir()

    src = source(logs)
    runs = runs_by_id(src)
    assert sorted(runs) == ["exp1/run_a", "exp1/run_b", "exp2/deep/run_c", "solo"]
    assert runs["exp1/run_a"].name == "exp1/run_a"
    assert runs["exp1/run_a"].experiment == "exp1"
    assert runs["exp2/deep/run_c"].experiment == "exp2"
    assert runs["solo"].experiment == "logs"
    assert [r.id for r in src.list_runs(experiment="exp1")] == ["exp1/run_a", "exp1/run_b"]
    assert src.get("exp1/run_b").summary == {"loss": 10.0}
    assert src.run_dir(runs["solo"]) == logs / "solo"

    # A source on one run's folder: the folder itself is the run ".".
    single = open_source("tensorboard:logs/exp1/run_a", base_dir=tmp_path)
    [run] = single.list_runs()
    assert (run.id, run.name, run.experiment) == (".", "run_a", "run_a")
    assert run.summary == {"loss": 10.0}


def test_root_with_event_files_is_run_dot(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    writer = tensorboardX.SummaryWriter(str(logs))
    writer.add_scalar("loss", 1.0, 0)
    writer.close()
    child = tensorboardX.SummaryWriter(str(logs / "child"))
    child.add_scalar("loss", 2.0, 0)
    child.close()
    runs = runs_by_id(source(logs))
    assert sorted(runs) == [".", "child"]
    assert runs["."].name == "logs"
    assert runs["child"].summary == {"loss": 2.0}


def test_bare_path_is_detected(tmp_path: Path) -> None:
    writer = tensorboardX.SummaryWriter(str(tmp_path / "tb" / "run"))
    writer.add_scalar("loss", 1.0, 0)
    writer.close()
    assert isinstance(open_source("tb", base_dir=tmp_path), TensorBoardSource)


def test_missing_folder(tmp_path: Path) -> None:
    src = open_source("tensorboard:nowhere", base_dir=tmp_path)
    with pytest.raises(SourceError, match="does not exist"):
        src.list_runs()
    assert "does not exist" in src.problems()[0].message


# -- hparams ---------------------------------------------------------------------------------


def test_add_hparams_subfolder_joins_its_run(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    writer = tensorboardX.SummaryWriter(str(logs / "run_a"))
    for step in range(3):
        writer.add_scalar("loss", 1.0 - step / 10, step)
    hparams = {"lr": 0.01, "batch": 32, "opt": "adam", "nesterov": True, "wd": 1e-4}
    writer.add_hparams(hparams, {"hp/acc": 0.75})
    writer.close()
    [sub] = [p for p in (logs / "run_a").iterdir() if p.is_dir()]  # the timestamp folder

    runs = runs_by_id(source(logs))
    assert sorted(runs) == ["run_a"]
    run = runs["run_a"]
    assert run.params == {"lr": 0.01, "batch": 32, "opt": "adam", "nesterov": True, "wd": 1e-4}
    assert isinstance(run.params["batch"], int)
    assert run.metric_keys() == ["hp/acc", "loss"]
    assert run.summary["hp/acc"] == 0.75
    assert run.end_time is not None
    assert run.end_time.timestamp() == pytest.approx(max(e.wall_time for e in all_events(sub)))

    # A source on the run's own folder: the subfolder joins the run ".".
    [single] = open_source("tensorboard:logs/run_a", base_dir=tmp_path).list_runs()
    assert single.id == "." and single.params == run.params
    assert single.metric_keys() == ["hp/acc", "loss"]


def test_named_hparams_session_is_its_own_run(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    writer = tensorboardX.SummaryWriter(str(logs / "run_b"))
    writer.add_scalar("loss", 0.5, 0)
    writer.add_hparams({"lr": 0.1}, {"hp/acc": 0.5}, name="trial")
    writer.close()
    runs = runs_by_id(source(logs))
    assert sorted(runs) == ["run_b", "run_b/trial"]
    assert runs["run_b"].params == {}
    assert runs["run_b/trial"].params == {"lr": 0.1}


def test_tensorboard_hparams_api_layout(tmp_path: Path) -> None:
    """hp.hparams_config at the top (not a run), hp.hparams in each trial's folder."""
    logs = tmp_path / "logs"
    top = EventFileWriter(str(logs))
    config = hp.hparams_config_pb(
        hparams=[hp.HParam("lr", hp.RealInterval(0.0, 1.0))], metrics=[hp.Metric("acc")]
    )
    top.add_event(event_pb2.Event(wall_time=T0, summary=config))
    top.close()
    for trial, lr in (("run-0", 0.1), ("run-1", 0.2)):
        writer = EventFileWriter(str(logs / trial))
        session = hp.hparams_pb({"lr": lr, "layers": 3, "opt": "adam"}, trial_id=trial)
        writer.add_event(event_pb2.Event(wall_time=T0, summary=session))
        writer.add_event(
            event_pb2.Event(
                wall_time=T0 + 1,
                step=1,
                summary=summary_pb2.Summary(
                    value=[summary_pb2.Summary.Value(tag="acc", simple_value=lr * 2)]
                ),
            )
        )
        writer.close()
    runs = runs_by_id(source(logs))
    assert sorted(runs) == ["run-0", "run-1"]
    assert runs["run-1"].params == {"lr": 0.2, "layers": 3, "opt": "adam"}
    assert runs["run-1"].summary == {"acc": float(np.float32(0.4))}


def test_hparams_of_every_value_kind() -> None:
    values = {
        "none": struct_pb2.Value(null_value=struct_pb2.NULL_VALUE),
        "float": struct_pb2.Value(number_value=0.25),
        "int": struct_pb2.Value(number_value=3.0),
        "huge": struct_pb2.Value(number_value=1e300),
        "text": struct_pb2.Value(string_value="adam"),
        "flag": struct_pb2.Value(bool_value=False),
        "list": struct_pb2.Value(
            list_value=struct_pb2.ListValue(values=[struct_pb2.Value(number_value=1.5)])
        ),
        "map": struct_pb2.Value(
            struct_value=struct_pb2.Struct(fields={"b": struct_pb2.Value(string_value="x")})
        ),
    }
    content = plugin_data_pb2.HParamsPluginData(
        version=0, session_start_info=plugin_data_pb2.SessionStartInfo(hparams=values)
    ).SerializeToString()
    raw = session_hparams(content)
    assert raw == {
        "none": None,
        "float": 0.25,
        "int": 3.0,
        "huge": 1e300,
        "text": "adam",
        "flag": False,
        "list": [1.5],
        "map": {"b": "x"},
    }
    assert {k: _param(v) for k, v in raw.items()} == {
        "none": None,
        "float": 0.25,
        "int": 3,
        "huge": 1e300,
        "text": "adam",
        "flag": False,
        "list": "[1.5]",
        "map": '{"b": "x"}',
    }
    end_only = plugin_data_pb2.HParamsPluginData(
        session_end_info=plugin_data_pb2.SessionEndInfo(status=1)
    ).SerializeToString()
    assert session_hparams(end_only) is None


# -- damaged files ------------------------------------------------------------------------------


def write_steps(folder: Path, n: int) -> Path:
    writer = tensorboardX.SummaryWriter(str(folder))
    for step in range(n):
        writer.add_scalar("loss", float(step), step)
    writer.close()
    [path] = event_files(folder)
    return path


def test_corrupt_record_is_reported_and_earlier_ones_kept(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    path = write_steps(logs / "run", 20)
    offsets = record_offsets(path)
    data = bytearray(path.read_bytes())
    bad = offsets[11]  # record 0 is the file_version event, so this is step 10
    data[bad + 20] ^= 0x01  # a bit flipped inside the record's data
    path.write_bytes(bytes(data))

    src = source(logs)
    run = runs_by_id(src)["run"]
    assert run.series("loss").steps.tolist() == list(range(10))
    [problem] = src.problems()
    assert isinstance(problem, RunDataError)
    assert problem.file == f"logs/run/{path.name}"
    assert f"record at byte {bad}" in problem.message
    assert "checksum" in problem.message
    assert f"logs/run/{path.name}" in str(problem)


def test_corrupt_length_is_reported(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    path = write_steps(logs / "run", 20)
    offsets = record_offsets(path)
    data = bytearray(path.read_bytes())
    data[offsets[6]] ^= 0x40  # the length of step 5's record
    path.write_bytes(bytes(data))

    src = source(logs)
    assert runs_by_id(src)["run"].series("loss").steps.tolist() == list(range(5))
    [problem] = src.problems()
    assert f"record at byte {offsets[6]}" in problem.message
    assert "length" in problem.message


def test_record_that_is_not_an_event_is_skipped(tmp_path: Path) -> None:
    """Checksums that hold over bytes that do not parse: that record is skipped, the rest read."""
    folder = tmp_path / "logs" / "run"
    folder.mkdir(parents=True)
    path = folder / "events.out.tfevents.1.host"

    def point(step: int) -> bytes:
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag="loss", simple_value=float(step))]
        )
        return event_pb2.Event(wall_time=T0 + step, step=step, summary=summary).SerializeToString()

    wall = struct.pack("<d", T0)
    with path.open("wb") as f:
        records = RecordWriter(f)
        records.write(point(0))
        records.write(b"\x09" + wall + b"\x2a\x04\x0a\x05ab")  # a value longer than its summary
        records.write(b"\x09" + wall + b"\x10\xff\xff")  # a step that runs past the event
        records.write(point(1))
    src = source(tmp_path / "logs")
    run = runs_by_id(src)["run"]
    assert run.series("loss").steps.tolist() == [0, 1]
    offsets = record_offsets(path)
    problems = sorted(p.message for p in src.problems())
    assert len(problems) == 2
    assert problems[0].startswith(f"record at byte {offsets[2]} is not an event")
    assert problems[1].startswith("summary at byte") and "cannot be read" in problems[1]


def test_not_an_event_file_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "logs" / "run"
    folder.mkdir(parents=True)
    (folder / "events.out.tfevents.123.host").write_bytes(b"this is not a TFRecord file at all")
    src = source(tmp_path / "logs")
    [run] = src.list_runs()
    assert run.summary == {} and run.start_time is None
    [problem] = src.problems()
    assert "record at byte 0" in problem.message


def test_file_still_being_written_is_read_quietly(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    path = write_steps(logs / "run", 20)
    offsets = record_offsets(path)
    data = path.read_bytes()
    # Cut inside the last record's header, inside its data, inside its data's CRC.
    for cut in (offsets[-1] + 5, offsets[-1] + 14, len(data) - 1):
        path.write_bytes(data[:cut])
        src = source(logs)
        assert runs_by_id(src)["run"].series("loss").steps.tolist() == list(range(19))
        assert src.problems() == []


def test_file_cut_mid_record_and_left_alone_is_reported_with_the_offset(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    path = write_steps(logs / "run", 20)  # tensorboardX's own writer
    offsets = record_offsets(path)
    data = path.read_bytes()
    stale = time.time() - 11 * 60  # past the 10 minutes a writer may still be on it
    for cut in (offsets[-1] + 5, offsets[-1] + 14, len(data) - 1):
        path.write_bytes(data[:cut])
        os.utime(path, (stale, stale))
        src = source(logs)
        assert runs_by_id(src)["run"].series("loss").steps.tolist() == list(range(19))
        [problem] = src.problems()
        assert isinstance(problem, RunDataError)
        assert problem.file == "logs/run/" + path.name
        assert f"inside the record at byte {offsets[-1]}" in problem.message
        assert f"({cut - offsets[-1]} of its bytes written)" in problem.message
        assert "the 20 records before it are read" in problem.message  # file_version + 19
    # A shorter window counts a fresher file as left alone too; a whole file is never reported.
    os.utime(path, None)
    assert source(logs).problems() == []
    assert len(TensorBoardSource("logs", base_dir=tmp_path, running_window=0).problems()) == 1
    path.write_bytes(data)
    os.utime(path, (stale, stale))
    assert source(logs).problems() == []


# -- the checksum ------------------------------------------------------------------------------


def test_crc32c_of_every_length_shape() -> None:
    rng = np.random.default_rng(3)
    # The first is long and right after the file's start: its padding reaches before byte 0.
    lengths = [1000, 0, 1, 3, 4, 5, 8, 9, 44, 255, 256, 257, 300, 511, 512, 513, 70_000]
    data = b""
    starts = []
    for n in lengths:
        data += b"\0" * 12  # every record has its header before it
        starts.append(len(data))
        data += rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    buf = np.frombuffer(data, dtype=np.uint8)
    got = _crc_many(buf, np.asarray(starts, dtype=np.int64), np.asarray(lengths, dtype=np.int64))
    for start, n, crc in zip(starts, lengths, got.tolist(), strict=True):
        assert crc == reference_crc32c(data[start : start + n]), n
        assert crc == crc32c(data[start : start + n])
