"""parse_report: front matter and its key lines, prose, code fences and labbook blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from labbook.errors import ReportError
from labbook.report.parse import BlockFence, Prose, Verbatim, load_yaml_with_lines, parse_report

PATH = Path("reports/sweep.md")

REPORT = """\
---
title: Learning-rate sweep
authors: [Ana Lima, Bo Chen]
runs:
  sweep:
    experiment: cifar-sweep
    filter: "params.lr = 0.1"
    order_by: ["metrics.`val/acc` DESC"]
  baseline: [3f2a9c7e51, local:seed-0]
---

# Learning-rate sweep

There are {{ sweep | length }} runs.

```labbook
line: val/loss
runs: sweep
smoothing: 0.6
highlight: {metrics.val/acc: max}
```

```python
print("{{ sweep | length }}")
```

~~~labbook
table: auto
runs: baseline
~~~

Closing words.
"""


def test_front_matter_data_and_key_lines() -> None:
    parsed = parse_report(PATH, REPORT)
    assert parsed.front_matter["title"] == "Learning-rate sweep"
    assert parsed.front_matter["authors"] == ["Ana Lima", "Bo Chen"]
    assert parsed.front_matter["runs"]["sweep"] == {
        "experiment": "cifar-sweep",
        "filter": "params.lr = 0.1",
        "order_by": ["metrics.`val/acc` DESC"],
    }
    assert parsed.front_matter["runs"]["baseline"] == ["3f2a9c7e51", "local:seed-0"]
    assert parsed.front_matter_lines == {
        "title": 2,
        "authors": 3,
        "runs": 4,
        "runs.sweep": 5,
        "runs.sweep.experiment": 6,
        "runs.sweep.filter": 7,
        "runs.sweep.order_by": 8,
        "runs.baseline": 9,
    }
    assert parsed.body_line == 11


def test_segments_in_order_with_file_lines() -> None:
    parsed = parse_report(PATH, REPORT)
    kinds = [type(s).__name__ for s in parsed.segments]
    assert kinds == ["Prose", "BlockFence", "Prose", "Verbatim", "Prose", "BlockFence", "Prose"]
    lines = [s.line for s in parsed.segments]
    assert lines == [11, 16, 22, 23, 26, 27, 31]
    first = parsed.segments[0]
    assert isinstance(first, Prose)
    assert first.text == "\n# Learning-rate sweep\n\nThere are {{ sweep | length }} runs.\n\n"
    # Every line of the file is in exactly one segment, in order.
    body = REPORT.split("---\n", 2)[2]
    rebuilt = "".join(
        s.text if isinstance(s, Prose | Verbatim) else _fence_text(s, body) for s in parsed.segments
    )
    assert rebuilt == body


def _fence_text(fence: BlockFence, body: str) -> str:
    # The fence's lines in the body, from its opening line to its closing one.
    lines = body.splitlines(keepends=True)
    start = fence.line - 11
    count = fence.source.count("\n") + 2
    return "".join(lines[start : start + count])


def test_labbook_fence_yaml_and_key_lines() -> None:
    parsed = parse_report(PATH, REPORT)
    first, second = parsed.blocks
    assert first.line == 16
    assert first.error is None
    assert first.source == (
        "line: val/loss\nruns: sweep\nsmoothing: 0.6\nhighlight: {metrics.val/acc: max}\n"
    )
    assert first.data == {
        "line": "val/loss",
        "runs": "sweep",
        "smoothing": 0.6,
        "highlight": {"metrics.val/acc": "max"},
    }
    assert first.key_lines == {
        "line": 17,
        "runs": 18,
        "smoothing": 19,
        "highlight": 20,
        "highlight.metrics.val/acc": 20,
    }
    # A tilde fence with the labbook info string is a block too.
    assert second.line == 27
    assert second.data == {"table": "auto", "runs": "baseline"}
    assert second.key_lines == {"table": 28, "runs": 29}
    # The column of each key in the file: nested keys sit where they are written.
    assert first.key_columns == {
        "line": 1,
        "runs": 1,
        "smoothing": 1,
        "highlight": 1,
        "highlight.metrics.val/acc": 13,
    }
    assert second.key_columns == {"table": 1, "runs": 1}


def test_key_columns_of_an_indented_fence_and_of_a_quote_left_open() -> None:
    # CommonMark takes a fence's indentation (up to three spaces) off its content lines;
    # the columns are the file's, not the stripped text's.
    text = "# T\n\n  ```labbook\n  line: val/loss\n  x:   epoch\n  ```\n\n"
    text += '```labbook\nline: val/acc\ntitle: "unclosed\n```\n'
    indented, unclosed = parse_report(PATH, text).blocks
    assert indented.key_lines == {"line": 4, "x": 5}
    assert indented.key_columns == {"line": 3, "x": 3}
    assert unclosed.error is not None
    # The quote that was never closed: line 10, column 8.
    assert (unclosed.error.line, unclosed.error.column) == (10, 8)


def test_ordinary_code_fence_is_verbatim() -> None:
    parsed = parse_report(PATH, REPORT)
    verbatim = [s for s in parsed.segments if isinstance(s, Verbatim)]
    assert len(verbatim) == 1
    assert verbatim[0].text == '```python\nprint("{{ sweep | length }}")\n```\n'
    assert verbatim[0].line == 23


def test_labbook_word_later_in_info_string_is_not_a_block() -> None:
    text = "```yaml labbook\nline: val/loss\n```\n"
    parsed = parse_report(PATH, text)
    assert parsed.blocks == []
    assert [type(s) for s in parsed.segments] == [Verbatim]
    assert parsed.segments[0].text == text


def test_fence_inside_a_list_item_stays_prose() -> None:
    text = "- item\n\n  ```labbook\n  line: x\n  ```\n"
    parsed = parse_report(PATH, text)
    assert parsed.blocks == []
    assert [type(s) for s in parsed.segments] == [Prose]
    assert parsed.segments[0].text == text


def test_no_front_matter() -> None:
    text = "# Title\n\n```labbook\nline: val/acc\n```\n"
    parsed = parse_report(PATH, text)
    assert parsed.front_matter == {}
    assert parsed.front_matter_lines == {}
    assert parsed.body_line == 1
    assert parsed.blocks[0].line == 3
    assert parsed.blocks[0].key_lines == {"line": 4}


def test_empty_front_matter() -> None:
    parsed = parse_report(PATH, "---\n---\nText\n")
    assert parsed.front_matter == {}
    assert parsed.body_line == 3
    assert isinstance(parsed.segments[0], Prose)
    assert parsed.segments[0].text == "Text\n"
    assert parsed.segments[0].line == 3


def test_bad_yaml_in_a_block_is_kept_with_its_file_line() -> None:
    text = """\
---
title: T
---

Intro.

```labbook
line: val/loss
  runs: sweep
```

```labbook
line: val/acc
```
"""
    parsed = parse_report(PATH, text)
    bad, good = parsed.blocks
    assert bad.line == 7
    assert bad.data is None
    assert isinstance(bad.error, ReportError)
    assert bad.error.file == str(PATH)
    # "  runs: sweep" is line 9 of the file.
    assert bad.error.line == 9
    assert bad.error.message.startswith("bad YAML: ")
    assert "mapping values are not allowed here" in bad.error.message
    # Column 7 of "  runs: sweep", the colon PyYAML stops at.
    assert bad.error.column == 7
    assert str(bad.error).startswith("reports/sweep.md:9:7: bad YAML")
    # The block after it still parses.
    assert good.error is None
    assert good.data == {"line": "val/acc"}


def test_unclosed_flow_list_names_the_line_where_it_opens() -> None:
    text = "Intro.\n\n```labbook\nline: val/loss\nruns: [a, b\ncaption: c\n```\n"
    block = parse_report(PATH, text).blocks[0]
    assert block.error is not None
    # PyYAML notices the problem at the key after the unclosed list; the mistake is the `[`.
    assert block.error.line == 5
    assert block.error.message.startswith("bad YAML: while parsing a flow sequence")


def test_bad_yaml_in_front_matter_raises_at_its_line() -> None:
    text = "---\ntitle: T\nruns:\n  sweep: [a, b\n  other: x\n---\nBody\n"
    with pytest.raises(ReportError) as info:
        parse_report(PATH, text)
    assert info.value.file == str(PATH)
    assert info.value.line == 4  # where the unclosed `[` opens
    assert info.value.message.startswith("bad YAML: ")


@pytest.mark.parametrize("front", ["- a\n- b\n", "just text\n", "42\n"])
def test_front_matter_that_is_not_a_mapping(front: str) -> None:
    with pytest.raises(ReportError) as info:
        parse_report(PATH, f"---\n{front}---\nBody\n")
    assert info.value.message == "front matter must be a YAML mapping"
    assert info.value.line == 2
    assert str(info.value) == "reports/sweep.md:2: front matter must be a YAML mapping"


def test_load_yaml_with_lines_offsets_nested_keys() -> None:
    data, lines = load_yaml_with_lines("a: 1\nb:\n  c: 2\n  d:\n    e: 3\n", 10, PATH)
    assert data == {"a": 1, "b": {"c": 2, "d": {"e": 3}}}
    assert lines == {"a": 10, "b": 11, "b.c": 12, "b.d": 13, "b.d.e": 14}


def test_crlf_line_endings() -> None:
    text = REPORT.replace("\n", "\r\n")
    parsed = parse_report(PATH, text)
    assert parsed.front_matter_lines["runs.baseline"] == 9
    assert [b.line for b in parsed.blocks] == [16, 27]
    assert parsed.blocks[0].key_lines["smoothing"] == 19


NESTED = """\
---
title: Nested
---

- a list item

  ```labbook
  line: val/loss
  ```

> ```labbook
> table: auto
> ```

!!! note

    Some words first.

    ```labbook
    line: val/acc
    ```

```labbook
line: top
```
"""


def test_nested_labbook_blocks_warn_at_their_lines() -> None:
    parsed = parse_report(PATH, NESTED)
    # Only the top-level block is a block; the others are warned about, not dropped silently.
    assert [b.data for b in parsed.blocks] == [{"line": "top"}]
    assert [(str(w.file), w.line) for w in parsed.warnings] == [(str(PATH), n) for n in (7, 11, 19)]
    for warning in parsed.warnings:
        assert isinstance(warning, ReportError)
        assert "top level" in str(warning)
        assert "lists, quotes or admonitions" in str(warning)


def test_top_level_blocks_and_other_code_do_not_warn() -> None:
    text = (
        "- item\n\n  ```python\n  x = 1\n  ```\n\n"
        "    indented code, not a block\n\n"
        "```labbook\nline: a\n```\n"
    )
    parsed = parse_report(PATH, text)
    assert parsed.warnings == []
    assert len(parsed.blocks) == 1
    assert parse_report(PATH, REPORT).warnings == []
