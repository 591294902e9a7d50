"""Fuzzing the report pipeline: mutated example reports against the example's real sources.

A few hundred mutations from a fixed seed (so a failure reproduces: the test names the
case's index and its text is rebuilt from it) over `reports/*.md`, each compiled with the
real compiler. No exception may escape, no block may fail with an internal error (a
"labbook bug" box), every problem is a LabbookError with a file, and each compile is fast.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from labbook.errors import LabbookError, ReportError
from labbook.project import Project
from labbook.report.compile import CompileOptions, ProjectCompiler, compile_report, read_report
from tests.conftest import REPO, copy_example

SEED = 20261202
CASES = 300
BYTE_CASES = 60
SLOW = 5.0  # seconds: one mutated example report must compile well within this

# Fragments that once broke something, or that any part of the pipeline treats specially.
HOSTILE = [
    "`",
    "``",
    "```",
    "````labbook\n",
    "```labbook\n",
    "~~~",
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "{{ run('zzzzzz') }}",
    "{{ sweep.best('val/acc') | link }}",
    "{{ 1/0 }}",
    "{{ ''.__class__.__mro__ }}",
    "{% for r in sweep %}{{ r.name }}{% endfor %}",
    "<![(x",
    "<![CDATA[",
    "<!--",
    "<script>",
    "</div>",
    "<div>",
    "%{meta.run_id}",
    "---\n",
    "...\n",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "    ",
    "- ",
    "> ",
    "1. ",
    "# ",
    "|",
    "[",
    "]",
    "(",
    "\\",
    "*",
    "_",
    "$",
    "$$",
    "&",
    "'",
    '"',
    ":",
    ": ",
    "runs: [",
    "runs: ",
    "source: [local]\n",
    "line: ",
    "table: auto\n",
    "group_by: ",
    "legend: '{name} %{y}'\n",
    "smoothing: 2\n",
    "x: time\n",
    "max_points: 1\n",
    "label: fig-a\n",
    "@fig-a",
    "&a [*a]",
    "*a",
    "!!python/object/apply:os.system ['true']",
    "1e999",
    ".nan",
    "null",
    "[" * 1000,
    "{" * 200,
    "`" * 1343,
    "- " * 40,
    "> " * 40,
    "\x00",
    "\ufeff",
    "\u2028",
    "\udcff",
    "é",
    "🙂",
]


def _insert(rng: random.Random, text: str) -> str:
    at = rng.randint(0, len(text))
    return text[:at] + rng.choice(HOSTILE) + text[at:]


def _delete(rng: random.Random, text: str) -> str:
    if not text:
        return text
    at = rng.randrange(len(text))
    return text[:at] + text[at + rng.randint(1, 200) :]


def _duplicate(rng: random.Random, text: str) -> str:
    if not text:
        return text
    at = rng.randrange(len(text))
    piece = text[at : at + rng.randint(1, 400)]
    return text[:at] + piece * rng.randint(2, 5) + text[at:]


def _swap_lines(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    if len(lines) < 2:
        return text
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


def _replace_char(rng: random.Random, text: str) -> str:
    if not text:
        return text
    at = rng.randrange(len(text))
    return text[:at] + rng.choice("`{}[]<>!%:-#|\\\n \t*_'\"&$~") + text[at + 1 :]


# Values put in place of a YAML value (front matter or block), where types matter most.
YAML_VALUES = [
    "[local]",
    "{a: 1}",
    "[" * 1000,
    "&a [*a]",
    "!!binary AAAA",
    "!!set {a}",
    "? [a]\n  : b",
    "1e999",
    ".inf",
    "-1",
    "0",
    "''",
    "[]",
    "[[]]",
    "{}",
    "null",
    "true",
    "2026-02-30",
    "%{meta.run_id}",
    "' loss'",
    "'*'",
    "'params.lr'",
    "'{name} {params.lr'",
    "[a, b, c, d, e]",
    "'sweep + sweep'",
    "'metrics.`val/acc` DESC'",
    "'params.lr >'",
]


def _yaml_value(rng: random.Random, text: str) -> str:
    starts = [i + 2 for i in range(len(text) - 1) if text[i : i + 2] == ": "]
    if not starts:
        return text
    at = rng.choice(starts)
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    return text[:at] + rng.choice(YAML_VALUES) + text[end:]


def _truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randint(0, len(text))]


def _indent(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    i = rng.randrange(len(lines))
    for k in range(i, min(len(lines), i + rng.randint(1, 8))):
        lines[k] = rng.choice(["  ", "    ", "\t", "> ", "- "]) + lines[k]
    return "".join(lines)


MUTATIONS: list[Callable[[random.Random, str], str]] = [
    _insert,
    _insert,
    _insert,
    _yaml_value,
    _yaml_value,
    _delete,
    _duplicate,
    _swap_lines,
    _replace_char,
    _truncate,
    _indent,
]


def mutated_reports() -> list[tuple[str, str]]:
    """Gives (case name, text): CASES mutations of the example reports, from SEED."""
    rng = random.Random(SEED)
    originals = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(REPO.glob("reports/*.md"))]
    cases = []
    for index in range(CASES):
        name, text = originals[index % len(originals)]
        for _ in range(rng.randint(1, 4)):
            text = rng.choice(MUTATIONS)(rng, text)
        cases.append((f"case {index} ({name})", text))
    return cases


@pytest.fixture(scope="module")
def compiler(tmp_path_factory: pytest.TempPathFactory) -> ProjectCompiler:
    """The example lab book's compiler, over a copy of its real sources."""
    root = copy_example(tmp_path_factory.mktemp("fuzz") / "book")
    return ProjectCompiler(Project.load(root / "mkdocs.yml"))


def test_mutated_reports_compile_to_pages_with_errors_never_exceptions(
    compiler: ProjectCompiler,
) -> None:
    display = "reports/fuzz.md"
    options = CompileOptions(max_points=compiler.options.max_points, display_path=display)
    # The unmutated reports first: they compile cleanly, and the sources' runs are read
    # (once per build, shared by every case) before any case is timed.
    for original in sorted(REPO.glob("reports/*.md")):
        text = original.read_text(encoding="utf-8")
        assert compile_report(Path(display), text, compiler.resolver, options).errors == []
    slowest = (0.0, "")
    with_errors = 0
    for case, text in mutated_reports():
        started = time.perf_counter()
        try:
            page = compile_report(Path(display), text, compiler.resolver, options)
        except Exception as exc:  # the point of the test: name the case that escaped
            pytest.fail(f"{case}: {type(exc).__name__}: {exc}\n--- text ---\n{text[:2000]}")
        elapsed = time.perf_counter() - started
        slowest = max(slowest, (elapsed, case))
        for problem in page.errors + page.warnings:
            assert isinstance(problem, LabbookError), (case, problem)
            assert problem.file or problem.source, (case, str(problem))
            assert "labbook bug" not in str(problem), f"{case}: {problem}"
        with_errors += bool(page.errors)
        assert isinstance(page.markdown, str) and page.markdown, case
    assert slowest[0] < SLOW, f"{slowest[1]} took {slowest[0]:.2f} s"
    # The mutations must reach the error paths, or the test checks little.
    assert with_errors > CASES // 10, with_errors


def test_mutated_bytes_are_read_or_refused_with_a_byte_offset(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    originals = [p.read_bytes() for p in sorted(REPO.glob("reports/*.md"))]
    refused = 0
    for index in range(BYTE_CASES):
        data = bytearray(originals[index % len(originals)])
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(data))
            data[at : at + 1] = bytes([rng.choice([0x80, 0xC3, 0xE9, 0xFF, 0xEF, 0xBB, 0xBF])])
        path = tmp_path / f"case{index}.md"
        path.write_bytes(bytes(data))
        try:
            read_report(path, f"reports/case{index}.md")
        except ReportError as exc:
            refused += 1
            assert exc.file == f"reports/case{index}.md" and exc.line is not None
            assert "offset" in exc.message
    assert refused > BYTE_CASES // 2
