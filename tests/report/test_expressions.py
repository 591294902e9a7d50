"""Expressions in prose: labbook's filters, the run-set API, errors with lines, and escaping."""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime
from pathlib import Path

import markdown
import pytest

from labbook.errors import LabbookError, ReportError, RunNotFound
from labbook.model import Run, RunSet
from labbook.report.expressions import Expressions, duration, fmt, pct

from .conftest import MemorySource, compile_text, make_run

PATH = Path("reports/r.md")


def sweep_runs() -> list[Run]:
    runs = [
        make_run("aaaaaa01", "lr0.1-s0", params={"lr": 0.1, "seed": 0}, summary={"val/acc": 0.90}),
        make_run("aaaaaa02", "lr0.1-s1", params={"lr": 0.1, "seed": 1}, summary={"val/acc": 0.94}),
        make_run("aaaaaa03", "lr0.3-s0", params={"lr": 0.3, "seed": 0}, summary={"val/acc": 0.80}),
        make_run(
            "aaaaaa04", "lr0.3-s1", params={"lr": 0.3, "seed": 1}, summary={"val/acc": math.nan}
        ),
    ]
    runs[0].start_time = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    runs[0].end_time = datetime(2026, 11, 2, 11, 2, 5, tzinfo=UTC)
    runs[1].url = "https://tracker.example/runs/aaaaaa02?a=1&b=2"
    return runs


@pytest.fixture
def source() -> MemorySource:
    return MemorySource(sweep_runs(), name="local")


@pytest.fixture
def env(source: MemorySource) -> Expressions:
    sweep = RunSet(source.runs, name="sweep")
    lookup = {r.id: r for r in source.runs}
    return Expressions(PATH, {"sweep": sweep}, lambda ref: lookup[ref], lambda run: run.url)


# -- the filters as functions ------------------------------------------------------------


def test_fmt() -> None:
    assert fmt(0.93123) == "0.9312"
    assert fmt(0.93123, ".2f") == "0.93"
    assert fmt(1234567, ",") == "1,234,567"
    assert fmt(None) == "—"
    # A value the spec does not fit shows as itself.
    assert fmt("adam", ".3f") == "adam"


def test_pct() -> None:
    assert pct(0.9312) == "93.1%"
    assert pct(0.9312, 2) == "93.12%"
    assert pct(1) == "100.0%"
    assert pct(None) == "—"
    assert pct(math.nan) == "nan"
    assert pct("high") == "high"
    assert pct(True) == "True"


def test_duration() -> None:
    assert duration(3725) == "1h 02m"
    assert duration(185) == "3m 05s"
    assert duration(42.4) == "42s"
    assert duration(0) == "0s"
    assert duration(None) == "—"
    assert duration(math.inf) == "—"
    assert duration(sweep_runs()[0]) == "1h 02m"
    assert duration(sweep_runs()[1]) == "—"


# -- the filters and the run-set API in prose ----------------------------------------------


def test_filters_in_prose(env: Expressions) -> None:
    text = (
        'acc {{ sweep.best("val/acc").summary["val/acc"] | pct }}, '
        'exact {{ sweep.best("val/acc").summary["val/acc"] | fmt(".3f") }}, '
        'time {{ run("aaaaaa01") | duration }}, '
        'seconds {{ run("aaaaaa01").duration | duration }}\n'
    )
    assert env.render(text, 10) == "acc 94.0%, exact 0.940, time 1h 02m, seconds 1h 02m\n"


def test_link_filter(env: Expressions) -> None:
    out = env.render('{{ run("aaaaaa02") | link }} and {{ run("aaaaaa01") | link }}', 1)
    # A run with a URL links to it (escaped in the attribute); one without is its name.
    assert out == (
        '<a href="https://tracker.example/runs/aaaaaa02?a=1&amp;b=2" class="labbook-run-link">'
        "lr0.1-s1</a> and lr0.1-s0"
    )
    assert markdown.markdown(out) == f"<p>{out}</p>"
    # A link's label can be given; a non-run is just escaped text.
    assert env.render('{{ run("aaaaaa02") | link("best") }}', 1) == (
        '<a href="https://tracker.example/runs/aaaaaa02?a=1&amp;b=2" class="labbook-run-link">'
        "best</a>"
    )
    assert env.render('{{ "<i>" | link }}', 1) == "&#60;i&#62;"


def test_run_set_api_in_prose(env: Expressions) -> None:
    text = (
        '{{ sweep | length }} runs; best {{ sweep.best("val/acc").name }}; '
        'worst {{ sweep.best("val/acc", mode="min").id }}; '
        'mean {{ sweep.mean("val/acc") | fmt(".4f") }}; '
        'std {{ sweep.std("val/acc") | fmt(".4f") }}; '
        'lrs {{ sweep.values("params.lr") | join("/") }}; '
        'best lr {{ sweep.best("val/acc").params["lr"] }}'
    )
    # NaN is left out of best/mean/std: mean of 0.90, 0.94, 0.80 and its sample std.
    out = env.render(text, 1)
    assert out == (
        "4 runs; best lr0.1-s1; worst aaaaaa03; mean 0.8800; std 0.0721; "
        "lrs 0.1/0.1/0.3/0.3; best lr 0.1"
    )


def test_loops_sets_and_comments(env: Expressions) -> None:
    text = "{# a comment #}{% for r in sweep %}{{ r.id }};{% endfor %} {{ sweep }}"
    assert (
        env.render(text, 1)
        == "aaaaaa01;aaaaaa02;aaaaaa03;aaaaaa04; lr0.1-s0, lr0.1-s1, lr0.3-s0, lr0.3-s1"
    )


def test_none_and_datetimes(env: Expressions) -> None:
    out = env.render('{{ run("aaaaaa02").start_time }} {{ run("aaaaaa01").start_time }}', 1)
    assert out == "— 2026-11-02 10:00"


def test_text_without_expressions_is_untouched(env: Expressions) -> None:
    text = "Plain *Markdown* with <b>html</b> and braces { } stays as written.\n"
    assert env.render(text, 1) is text


# -- errors name the report line -----------------------------------------------------------


def test_syntax_error_names_the_line(env: Expressions) -> None:
    text = "first line\nsecond line\nthird {{ sweep.best( }}\n"
    with pytest.raises(ReportError) as info:
        env.render(text, 20)
    assert info.value.line == 22
    assert info.value.file == str(PATH)
    assert info.value.message.startswith("expression syntax error: ")


def test_unclosed_block_tag_names_a_line(env: Expressions) -> None:
    with pytest.raises(ReportError) as info:
        env.render("a\n{% for r in sweep %}\n{{ r.id }}\n", 5)
    assert info.value.message.startswith("expression syntax error: ")
    assert info.value.line is not None and 5 <= info.value.line <= 8


def test_undefined_name_names_the_line(env: Expressions) -> None:
    text = "one\ntwo\nthree\n{{ nosuch.mean('val/acc') }}\n"
    with pytest.raises(ReportError) as info:
        env.render(text, 11)
    assert info.value.line == 14
    assert info.value.message == "expression error: 'nosuch' is undefined"
    assert info.value.hint == "names available: run sets from the front matter and run(ref)"
    assert str(info.value).startswith("reports/r.md:14: expression error: 'nosuch' is undefined")


def test_bad_mode_and_missing_key_name_the_line(env: Expressions) -> None:
    with pytest.raises(ReportError) as info:
        env.render('x\n{{ sweep.best("val/acc", mode="top") }}', 3)
    assert info.value.line == 4
    assert "mode must be 'max' or 'min'" in info.value.message
    with pytest.raises(ReportError) as info:
        env.render('\n\n{{ run("aaaaaa01").summary["nope"] | pct }}', 7)
    assert info.value.line == 9


def test_unknown_run_in_an_expression_names_the_line(source: MemorySource) -> None:
    page = compile_text(
        "---\ntitle: T\n---\n\nIntro.\n\nThe run {{ run('aaaaab') }} was good.\n",
        [source],
    )
    assert len(page.errors) == 1
    error = page.errors[0]
    assert isinstance(error, RunNotFound)
    # Line 7, column 9: where the `{{` of the failing expression opens.
    assert (error.file, error.line, error.column) == ("reports/r.md", 7, 9)
    assert "closest: " in error.message and "aaaaaa0" in error.message
    assert 'class="admonition failure labbook-error"' in page.markdown
    assert "<code>reports/r.md:7:9</code>" in page.markdown


# -- fenced code is left alone -------------------------------------------------------------


def test_expressions_inside_fenced_code_are_left_alone(source: MemorySource) -> None:
    text = (
        "---\nruns:\n  sweep: [aaaaaa01]\n---\n\n"
        "Runs: {{ sweep | length }}.\n\n"
        "```jinja\n{{ sweep | length }} {% if x %}{{ undefined_name }}{% endif %}\n```\n\n"
        "~~~\n{{ broken(\n~~~\n\n"
        "````markdown\n```labbook\nline: {{ key }}\n```\n````\n"
    )
    page = compile_text(text, [source])
    assert page.errors == []
    assert "Runs: 1." in page.markdown
    assert (
        "```jinja\n{{ sweep | length }} {% if x %}{{ undefined_name }}{% endif %}\n```\n"
        in page.markdown
    )
    assert "~~~\n{{ broken(\n~~~\n" in page.markdown
    # A labbook fence shown inside a longer fence is an example, not a block.
    assert "````markdown\n```labbook\nline: {{ key }}\n```\n````\n" in page.markdown
    assert "labbook-block" not in page.markdown


# -- escaping: run values never become markup ----------------------------------------------

NASTY_NAMES = [
    "**x** <b>y</b> [z](http://e)",
    "1. item",
    "- item",
    "# heading",
    "<script>alert(1)</script>",
    "`code` _em_ ![img](http://e/i.png) a|b",
    "+ plus",
    "line one\nline two",
]


@pytest.fixture
def nasty_source() -> MemorySource:
    runs = [
        make_run(
            f"bad00{i}xx",
            name,
            params={"note": name, "lr": 0.1},
            tags={"stage": name},
            summary={"val/acc": 0.5 + i / 100},
        )
        for i, name in enumerate(NASTY_NAMES)
    ]
    return MemorySource(runs, name="local")


def rendered_html(markdown_text: str) -> str:
    return markdown.markdown(markdown_text, extensions=["tables", "admonition"])


def assert_no_markup(out: str) -> None:
    for tag in (
        "<strong",
        "<em",
        "<b>",
        "<ol",
        "<ul",
        "<li",
        "<h1",
        "<h2",
        "<script",
        "<img",
        "<code",
    ):
        assert tag not in out, tag
    assert '<a href="http://e"' not in out
    assert "<a " not in out


@pytest.mark.parametrize("index", range(len(NASTY_NAMES)))
def test_run_values_render_as_literal_text(nasty_source: MemorySource, index: int) -> None:
    name = NASTY_NAMES[index]
    ref = f"bad00{index}xx"
    text = (
        "Escaping:\n\n"
        f'{{{{ run("{ref}") }}}}\n\n'
        f'{{{{ run("{ref}").name }}}}\n\n'
        f'Param: {{{{ run("{ref}").params["note"] }}}}\n\n'
        f'{{{{ run("{ref}").tags["stage"] }}}}\n\n'
        f'{{{{ run("{ref}") | link }}}}\n'
    )
    page = compile_text(text, [nasty_source])
    assert page.errors == []
    out = rendered_html(page.markdown)
    assert_no_markup(out)
    literal = name.replace("\n", " ")
    paragraphs = [html.unescape(p) for p in out.split("<p>")[1:]]
    assert [p.removesuffix("</p>\n").removesuffix("</p>") for p in paragraphs] == [
        "Escaping:",
        literal,
        literal,
        f"Param: {literal}",
        literal,
        literal,
    ]


def test_run_values_in_a_table_and_a_list_stay_literal(nasty_source: MemorySource) -> None:
    text = (
        "---\nruns:\n  all: {}\n---\n\n"
        "| run | note |\n| --- | --- |\n"
        "{% for r in all %}| {{ r }} | {{ r.params['note'] }} |\n{% endfor %}\n"
        "Names: {{ all }}\n\n"
        '- first: {{ all.best("val/acc") }}\n'
    )
    page = compile_text(text, [nasty_source])
    assert page.errors == []
    out = rendered_html(page.markdown)
    for tag in ("<strong", "<b>", "<ol", "<script", "<img", "<code"):
        assert tag not in out, tag
    assert '<a href="http://e"' not in out
    # The table keeps one row per run with two cells each: a `|` in a name splits nothing.
    assert out.count("<tr>") == len(NASTY_NAMES) + 1
    assert out.count("<td>") == 2 * len(NASTY_NAMES)
    cells = [html.unescape(c.split("</td>")[0]) for c in out.split("<td>")[1:]]
    expected = [n.replace("\n", " ") for n in NASTY_NAMES]
    assert cells[0::2] == expected
    assert cells[1::2] == expected
    # The author's own list is a list; the run name inside it is text.
    assert out.count("<ul>") == 1 and out.count("<li>") == 1
    assert "<li>first: line one line two</li>" in html.unescape(out)


@pytest.mark.parametrize(
    "expression",
    [
        "r.name | e",
        "r.name | escape",
        "r.name | forceescape",
        "r.name | upper | lower",
        "r.name ~ ''",
        "'%s' | format(r.name)",
        "[r.name] | join(',')",
        "r.params['note'] | trim",
    ],
)
def test_jinja_filters_do_not_unescape_run_values(
    nasty_source: MemorySource, expression: str
) -> None:
    page = compile_text(
        '{% set r = run("bad000xx") %}' + "{{ " + expression + " }}\n", [nasty_source]
    )
    assert page.errors == []
    out = rendered_html(page.markdown)
    assert_no_markup(out)
    assert html.unescape(out) == "<p>**x** <b>y</b> [z](http://e)</p>"


def test_tojson_of_run_params_is_literal(nasty_source: MemorySource) -> None:
    page = compile_text('{{ run("bad000xx").params | tojson }}\n', [nasty_source])
    out = rendered_html(page.markdown)
    assert_no_markup(out)
    assert html.unescape(out) == '<p>{"lr": 0.1, "note": "**x** <b>y</b> [z](http://e)"}</p>'


def test_markup_from_labbook_filters_passes_escape(source: MemorySource) -> None:
    # `e` leaves labbook's own safe output (a link) as it is.
    page = compile_text('{{ run("aaaaaa02") | link | e }}\n', [source])
    assert page.markdown == (
        '<a href="https://tracker.example/runs/aaaaaa02?a=1&amp;b=2" class="labbook-run-link">'
        "lr0.1-s1</a>\n"
    )


# -- values inside inline code spans ---------------------------------------------------------


def code_env(params: dict[str, object]) -> Expressions:
    run = make_run("cccccc01", "code-run", params=params)
    return Expressions(PATH, {}, lambda ref: run, lambda r: None)


def test_value_in_a_code_span_shows_plainly() -> None:
    env = code_env({"opt": "adam_w"})
    out = env.render('Optimizer `{{ run("c").params.opt }}` and {{ run("c").params.opt }}.\n', 1)
    assert out == "Optimizer `adam_w` and adam&#95;w.\n"
    assert markdown.markdown(out) == "<p>Optimizer <code>adam_w</code> and adam&#95;w.</p>"
    # Longer delimiters, filters, several values and Markup from `e` are plain too.
    out = env.render('``{{ run("c").params.opt | e }} {{ run("c") }} {{ 0.5 | pct }}``\n', 1)
    assert out == "``adam_w code-run 50.0%``\n"


@pytest.mark.parametrize(
    "value",
    ["a`b", "``", "x` <script>alert(1)</script> `", "<b>y</b> & **z**", "a|b", "one\n\ntwo"],
)
def test_unsafe_value_in_a_code_span_stays_literal(value: str) -> None:
    env = code_env({"v": value})
    out = env.render('Before `{{ run("c").params.v }}` after *em*.\n', 1)
    rendered = markdown.markdown(out, extensions=["tables"])
    assert "<script" not in rendered and "<b>" not in rendered
    assert rendered.count("<code>") == 1 and rendered.count("<p>") == 1
    assert "<em>em</em>" in rendered
    shown = html.unescape(rendered.split("<code>")[1].split("</code>")[0])
    assert shown == value.replace("\n", " ").strip()


def test_code_spans_that_are_not_spans_keep_prose_escaping() -> None:
    env = code_env({"v": "**x**"})
    # An escaped backtick opens nothing; an unclosed run is literal; spans end at blank lines.
    for text in (
        '\\`{{ run("c").params.v }}`\n',
        '`` {{ run("c").params.v }}`\n',
        '`a\n\n{{ run("c").params.v }}`\n',
    ):
        out = env.render(text, 1)
        assert "&#42;&#42;x&#42;&#42;" in out
        assert "<strong>" not in markdown.markdown(out)


def test_values_in_a_code_span_inside_a_table(nasty_source: MemorySource) -> None:
    text = (
        "---\nruns:\n  all: {}\n---\n\n"
        "| run | note |\n| --- | --- |\n"
        "{% for r in all %}| `{{ r }}` | {{ r.params['note'] }} |\n{% endfor %}\n"
    )
    page = compile_text(text, [nasty_source])
    assert page.errors == []
    out = rendered_html(page.markdown)
    assert "<script" not in out and "<strong" not in out and "<b>" not in out
    assert out.count("<tr>") == len(NASTY_NAMES) + 1
    codes = [html.unescape(c.split("</code>")[0]) for c in out.split("<code>")[1:]]
    assert codes == [n.replace("\n", " ") for n in NASTY_NAMES]


def test_block_set_output_in_a_code_span() -> None:
    env = code_env({"opt": "adam_w"})
    out = env.render('{% set x %}{{ run("c").params.opt }}{% endset %}`{{ x }}` {{ x }}\n', 1)
    assert out == "`adam_w` adam&#95;w\n"


def test_duration_in_prose_reads_as_in_a_table() -> None:
    from labbook.blocks.table import format_duration

    for seconds in (42, 185, 3725, 180000):
        assert duration(seconds) == format_duration(seconds)
    assert duration(180000) == "2d 02h"


def test_min_max_len_delta_and_filtering_in_a_loop(env: Expressions) -> None:
    text = (
        '{{ len(sweep) }}; min {{ sweep.min("val/acc") }}; max {{ sweep.max("val/acc") }}; '
        '{{ sweep.max("val/acc") | delta(sweep.min("val/acc")) }}; '
        '{{ sweep.max("val/acc") | delta(sweep.mean("val/acc"), "+.1f", "pp") }}; '
        '{{ 0.8 | delta(0.9) }}; {{ 1.1 | delta(1.0, "+.1f", "%") }}; '
        "{{ none | delta(1) }}; "
        "{% for r in sweep if r.params.lr > 0.2 %}{{ r.name }} {% endfor %}"
    )
    # NaN is left out; min 0.80, max 0.94, mean 0.88. Signs are escaped for Markdown.
    assert html.unescape(env.render(text, 1)) == (
        "4; min 0.8; max 0.94; +0.14; +6.0 pp; -0.1; +10.0%; —; lr0.3-s0 lr0.3-s1 "
    )


def test_min_of_a_misspelt_key_names_the_keys(env: Expressions) -> None:
    with pytest.raises(LabbookError, match="no run of run set 'sweep' has 'val/accc'") as info:
        env.render('{{ sweep.min("val/accc") }}', 3)
    assert info.value.line == 3
    assert "val/acc" in (info.value.hint or "")


def test_errors_in_gives_every_failing_expression_at_its_column(env: Expressions) -> None:
    text = (
        "Fine {{ sweep | length }}.\n"
        'Two {{ nosuch }} and {{ sweep.mean("nope") }}.\n'
        "{{ sweep | nofilter }}\n"
    )
    errors = env.errors_in(text, 20)
    assert [(e.line, e.column) for e in errors] == [(21, 5), (21, 22), (22, 1)]
    assert errors[0].message == "expression error: 'nosuch' is undefined"
    assert errors[1].message.startswith("no run of run set 'sweep' has 'nope'")
    assert errors[2].message == "expression syntax error: No filter named 'nofilter'"
    # A structure that is wrong stops the search: blanking it would invent errors.
    broken = "Runs:\n\n  {% for r in sweep %}\n{{ nosuch }}\n"
    [only] = env.errors_in(broken, 1)
    assert only.message.startswith("expression syntax error: Unexpected end of template")
    # Where the `for` that was never closed opens, not the end of the text Jinja names.
    assert (only.line, only.column) == (3, 3)
    [orphan] = env.errors_in("A\n{{ sweep | length }} {% endif %}\n{{ nosuch }}\n", 1)
    assert orphan.message.startswith("expression syntax error: Encountered unknown tag 'endif'")
    assert (orphan.line, orphan.column) == (2, 22)
    assert env.errors_in("All {{ sweep | length }} fine.\n", 1) == []
