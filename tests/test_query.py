"""The filter language: parsing, matching, errors, ordering and MLflow server filters."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from labbook.errors import QueryError
from labbook.model import Run
from labbook.query import (
    And,
    Comparison,
    Not,
    Or,
    OrderKey,
    apply_query,
    column_of,
    matches,
    parse_filter,
    parse_order_by,
    sort_runs,
    to_mlflow_filter,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
T0_MS = 1714564800000
HOUR_MS = 3600 * 1000


def make_runs() -> list[Run]:
    """Four runs with a spread of present, missing, numeric-looking and NaN values."""
    return [
        Run(
            id="a1",
            source="local",
            name="alpha",
            status="finished",
            start_time=T0,
            end_time=T0 + timedelta(hours=1),
            params={"lr": 0.1, "optimizer": "adam", "layers": 4, "flag": True},
            tags={"team": "vision", "mlflow.user": "ana", "priority": "2"},
            summary={"val/acc": 0.9, "loss": 0.3, "train.loss": 0.25, "val-f1": 0.8},
        ),
        Run(
            id="b2",
            source="local",
            name="beta",
            status="FINISHED",
            start_time=T0 + timedelta(days=1),
            params={"lr": "0.01", "optimizer": "SGD", "layers": "8", "flag": "False"},
            tags={"team": "Vision", "priority": "10"},
            summary={"val/acc": 0.7, "loss": 0.5},
        ),
        Run(
            id="c3",
            source="local",
            name="gamma-run",
            status="failed",
            start_time=T0 - timedelta(days=1),
            params={"lr": "1e-1", "optimizer": "adamw"},
            summary={"loss": math.nan, "weird key": 1},
        ),
        Run(
            id="d4",
            source="local",
            name="delta",
            params={"optimizer": "adam_w"},
            tags={"team": "nlp"},
            summary={"val/acc": 0.8, "loss": 0.4},
        ),
    ]


RUNS = make_runs()


def ids(filter_text: str, runs: Sequence[Run] = RUNS) -> list[str]:
    expr = parse_filter(filter_text)
    return [r.id for r in runs if matches(expr, r)]


# -- matching ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.`val/acc` = 0.9", ["a1"]),
        ("metrics.`val/acc` != 0.9", ["b2", "d4"]),  # c3 lacks the metric: no match
        ("metrics.`val/acc` < 0.8", ["b2"]),
        ("metrics.`val/acc` <= 0.8", ["b2", "d4"]),
        ("metrics.`val/acc` > 0.7", ["a1", "d4"]),
        ("metrics.`val/acc` >= 0.7", ["a1", "b2", "d4"]),
        ("metrics.`val/acc` IN (0.7, 0.9)", ["a1", "b2"]),
        ("metrics.`val/acc` NOT IN (0.7)", ["a1", "d4"]),
        ('metrics."val/acc" > 0.75', ["a1", "d4"]),
        ("metrics.val/acc > 0.75", ["a1", "d4"]),
        ("metrics.train.loss < 0.3", ["a1"]),
        ("metrics.val-f1 >= 0.8", ["a1"]),
        ("metrics.`weird key` = 1", ["c3"]),
        ("metric.loss = 3e-1", ["a1"]),
        ("metrics.loss > -1", ["a1", "b2", "d4"]),  # NaN is never greater
        ("metrics.loss != 0.3", ["b2", "c3", "d4"]),  # NaN != 0.3, as IEEE
        ("metrics.loss < '0.45'", ["a1", "d4"]),  # a quoted number is a number
    ],
)
def test_metric_operators(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Numbers compare as numbers when both sides read as one: 0.1 == "1e-1".
        ("params.lr = 0.1", ["a1", "c3"]),
        ("params.lr = '0.1'", ["a1", "c3"]),
        ("params.lr == 1e-1", ["a1", "c3"]),
        ("params.lr != 0.1", ["b2"]),  # d4 has no lr
        ("params.lr <> 0.1", ["b2"]),
        ("params.lr < 0.1", ["b2"]),
        ("params.lr <= 0.1", ["a1", "b2", "c3"]),
        ("params.lr > 0.01", ["a1", "c3"]),
        ("params.lr >= 0.01", ["a1", "b2", "c3"]),
        ("params.layers = 4", ["a1"]),
        ("params.layers = '8'", ["b2"]),
        ("params.layers IN (4, 8)", ["a1", "b2"]),
        ("params.layers > 5", ["b2"]),
        # Text otherwise.
        ("params.optimizer = 'adam'", ["a1"]),
        ('params.optimizer = "adam"', ["a1"]),
        ("params.optimizer != 'adam'", ["b2", "c3", "d4"]),
        ("params.optimizer = 1", []),
        ("params.optimizer != 1", ["a1", "b2", "c3", "d4"]),
        ("params.optimizer IN ('adam', 'SGD')", ["a1", "b2"]),
        ("params.optimizer NOT IN ('adam', 'SGD')", ["c3", "d4"]),
        ("params.flag = 'True'", ["a1"]),
        ("params.flag = 'False'", ["b2"]),
        ("param.optimizer = 'SGD'", ["b2"]),
        ("parameters.optimizer = 'SGD'", ["b2"]),
        # LIKE is always text: the param as written.
        ("params.lr LIKE '1e%'", ["c3"]),
        ("params.lr LIKE '0.1'", ["a1"]),
    ],
)
def test_param_operators(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tags.team = 'vision'", ["a1"]),
        ("tags.team != 'vision'", ["b2", "d4"]),
        ("tags.team IN ('nlp', 'Vision')", ["b2", "d4"]),
        ("tags.team NOT IN ('nlp')", ["a1", "b2"]),
        ("tags.team LIKE 'V%'", ["b2"]),
        ("tags.team ILIKE 'v%'", ["a1", "b2"]),
        ("tag.team = 'nlp'", ["d4"]),
        ("tags.mlflow.user = 'ana'", ["a1"]),
        ("tags.`mlflow.user` = 'ana'", ["a1"]),
        # Numeric tags compare as numbers, so 10 > 3 although "10" < "3" as text.
        ("tags.priority > 3", ["b2"]),
        ("tags.priority < 3", ["a1"]),
        ("tags.priority >= 2", ["a1", "b2"]),
        ("tags.priority <= 2", ["a1"]),
    ],
)
def test_tag_operators(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.optimizer LIKE 'adam%'", ["a1", "c3", "d4"]),
        ("params.optimizer LIKE 'ADAM%'", []),
        ("params.optimizer ILIKE 'ADAM%'", ["a1", "c3", "d4"]),
        ("params.optimizer like 'adam_'", ["c3"]),  # `_` is exactly one character
        ("params.optimizer LIKE 'adam'", ["a1"]),  # the whole string must match
        ("params.optimizer LIKE '%am%'", ["a1", "c3", "d4"]),
        ("params.optimizer LIKE 'sgd'", []),
        ("params.optimizer ilike 'sgd'", ["b2"]),
        ("params.optimizer LIKE 'adam.w'", []),  # `.` is not a wildcard
        ("params.optimizer NOT LIKE 'adam%'", ["b2"]),
        ("params.optimizer NOT ILIKE 'ADAM%'", ["b2"]),
    ],
)
def test_like_and_ilike(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("attributes.status = 'FINISHED'", ["a1", "b2"]),  # status ignores case
        ("status = 'finished'", ["a1", "b2"]),
        ("attributes.status != 'finished'", ["c3"]),  # d4 has no status
        ("attributes.status LIKE 'fin%'", ["a1", "b2"]),
        ("attr.status IN ('FAILED', 'killed')", ["c3"]),
        ("attributes.run_name = 'alpha'", ["a1"]),
        ("run_name = 'Alpha'", []),  # names keep their case
        ("run.run_name LIKE '%-run'", ["c3"]),
        ("attributes.run_id IN ('a1', 'd4')", ["a1", "d4"]),
        ("run_id NOT IN ('a1')", ["b2", "c3", "d4"]),
        ("attribute.run_id = 'b2'", ["b2"]),
        (f"attributes.start_time >= {T0_MS}", ["a1", "b2"]),  # d4 has no start time
        (f"start_time < {T0_MS}", ["c3"]),
        (f"attributes.created = {T0_MS}", ["a1"]),
        (f"attributes.end_time = {T0_MS + HOUR_MS}", ["a1"]),
        (f"end_time != {T0_MS}", ["a1"]),
        ("attributes.start_time > '2024-05-01T12:00:00+00:00'", ["b2"]),
        ("attributes.START_TIME <= '2024-05-01T12:00:00Z'", ["a1", "c3"]),
    ],
)
def test_attributes(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


def test_matches_without_filter_keeps_every_run() -> None:
    assert all(matches(None, r) for r in RUNS)


def test_naive_datetimes_are_local_time_on_both_sides() -> None:
    run = Run(id="n", source="local", start_time=datetime(2024, 1, 2, 3, 4, 5))
    assert ids("start_time = '2024-01-02T03:04:05'", [run]) == ["n"]
    assert ids("start_time > '2024-01-02T03:04:06'", [run]) == []


def test_missing_values_match_no_comparison() -> None:
    bare = Run(id="bare", source="local")
    for text in (
        "metrics.loss != 1",
        "metrics.loss NOT IN (1)",
        "params.lr != 'x'",
        "params.lr NOT IN ('x')",
        "tags.team != 'x'",
        "status != 'running'",
        "start_time != 0",
    ):
        assert ids(text, [bare]) == [], text
    # Only an explicit `not` selects the runs without the value.
    assert ids("not metrics.`val/acc` > 0.75") == ["b2", "c3"]


def test_bool_summary_values_are_not_metrics() -> None:
    run = Run(id="x", source="local", summary={"done": True, "acc": "0.5"})
    assert ids("metrics.done = 1", [run]) == []
    assert ids("metrics.acc = 0.5", [run]) == ["x"]


# -- precedence ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # and binds tighter than or: a or (b and c).
        (
            "params.optimizer = 'adam' or params.optimizer = 'SGD' and metrics.loss > 0.45",
            ["a1", "b2"],
        ),
        (
            "params.optimizer = 'adam' or (params.optimizer = 'SGD' and metrics.loss > 0.45)",
            ["a1", "b2"],
        ),
        (
            "(params.optimizer = 'adam' or params.optimizer = 'SGD') and metrics.loss > 0.45",
            ["b2"],
        ),
        # not binds tighter than and.
        ("not tags.team = 'nlp' and metrics.loss < 0.45", ["a1"]),
        ("not (tags.team = 'nlp' and metrics.loss < 0.45)", ["a1", "b2", "c3"]),
        ("NOT NOT tags.team = 'nlp'", ["d4"]),
        ("metrics.loss < 0.45 AnD nOt tags.team = 'nlp'", ["a1"]),
        ("((metrics.loss < 0.45))", ["a1", "d4"]),
        (
            "metrics.loss < 0.35 OR metrics.loss > 0.45 OR params.optimizer = 'adamw'",
            ["a1", "b2", "c3"],
        ),
    ],
)
def test_precedence(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


def test_tree_shape_and_positions() -> None:
    text = "metrics.a > 1 or params.b = 'x' and not tags.c IN ('y', 2)"
    expr = parse_filter(text)
    assert isinstance(expr, Or)
    first, second = expr.items
    assert isinstance(first, Comparison)
    assert (first.column, first.op, first.value) == ("metrics.a", ">", 1)
    assert (first.start, first.end) == (0, 13)
    assert isinstance(second, And)
    cmp_b, negated = second.items
    assert isinstance(cmp_b, Comparison)
    assert (cmp_b.column, cmp_b.op, cmp_b.value) == ("params.b", "=", "x")
    assert text[cmp_b.start : cmp_b.end] == "params.b = 'x'"
    assert isinstance(negated, Not)
    assert text[negated.start : negated.end] == "not tags.c IN ('y', 2)"
    inner = negated.item
    assert isinstance(inner, Comparison)
    assert (inner.column, inner.op, inner.value) == ("tags.c", "IN", ("y", 2))
    assert column_of(inner.ident) == "tags.c"
    assert text[inner.ident.start : inner.ident.end] == "tags.c"
    assert (expr.start, expr.end) == (0, len(text))


@pytest.mark.parametrize(
    ("text", "column", "op", "value"),
    [
        ("metrics.`val/acc` >= 5e-1", "metrics.val/acc", ">=", 0.5),
        ('metrics."val acc" < .5', "metrics.val acc", "<", 0.5),
        ("metrics.x > -2.5E-2", "metrics.x", ">", -0.025),
        ("metrics.x = +3", "metrics.x", "=", 3),
        ("`metrics`.x = 3", "metrics.x", "=", 3),
        ("Metrics.x = 3", "metrics.x", "=", 3),
        ("params.x not in ('a', 2)", "params.x", "NOT IN", ("a", 2)),
        ("params.x like 'a%'", "params.x", "LIKE", "a%"),
        ("params.x = 'it''s'", "params.x", "=", "it's"),
        ("params.x = 'it\\'s'", "params.x", "=", "it's"),
        ('params.x = "say \\"hi\\""', "params.x", "=", 'say "hi"'),
        ("params.x == 'a'", "params.x", "=", "a"),
        ("params.x <> 'a'", "params.x", "!=", "a"),
        ("run_name = 'a'", "attributes.run_name", "=", "a"),
        ("attributes.run_uuid = 'a'", "attributes.run_id", "=", "a"),
        ("attributes.`run name` = 'a'", "attributes.run_name", "=", "a"),
        ("Status = 'a'", "attributes.status", "=", "a"),
        (f"created > {T0_MS}", "attributes.start_time", ">", T0_MS),
        ("start_time > '2024-05-01T12:00:00+00:00'", "attributes.start_time", ">", T0_MS),
    ],
)
def test_comparison_fields(text: str, column: str, op: str, value: object) -> None:
    expr = parse_filter(text)
    assert isinstance(expr, Comparison)
    assert (expr.column, expr.op, expr.value) == (column, op, value)


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "quoted"),
    [
        ("foo.x = 1", 1, "'foo'"),  # unknown prefix
        ("metrics.acc 0.5", 13, "'0.5'"),  # missing operator
        ("metrics.acc", 12, "'metrics.acc'"),  # missing operator at the end
        ("params.opt = 'adam", 14, "'adam"),  # unterminated string
        ("metrics.`val/acc > 1", 9, "`val/acc"),  # unterminated backtick key
        ("(metrics.a > 1 and params.b = 'x'", 1, "'('"),  # unclosed parenthesis
        ("metrics.a > 1)", 14, "')'"),  # unmatched parenthesis
        ("(metrics.a > 1 params.b = 'x')", 16, "'params.b'"),  # junk before ')'
        ("metrics.a > 1 params.b = 'x'", 15, "'params.b'"),  # trailing input
        ("params.b IN ('x' 'y')", 18, "\"'y'\""),  # bad IN list
        ("params.b IN 'x'", 13, "\"'x'\""),  # IN without a list
        ("params.b IN ()", 14, "IN"),  # empty IN list
        ("params.b IN ('x', 'y'", 13, "IN"),  # unclosed IN list
        ("metrics.acc LIKE '0.5%'", 13, "LIKE"),  # operator not for metrics
        ("attributes.start_time LIKE '2024%'", 23, "LIKE"),  # operator not for times
        ("status > 'a'", 8, "'>'"),  # ordering on text attribute
        ("attributes.colour = 'red'", 12, "'colour'"),  # unknown attribute
        ("acc > 0.5", 1, "'acc'"),  # bare name that is no attribute
        ("params.opt = adam", 14, "'adam'"),  # unquoted value
        ("metrics.acc > 'high'", 15, "'high'"),  # text against a metric
        ("params.lr < 'abc'", 13, "'abc'"),  # ordering needs a number
        ("params.lr LIKE 1", 16, "1"),  # LIKE needs a quoted pattern
        ("run_id = 12", 10, "12"),  # text attribute needs quotes
        ("start_time > 'yesterday'", 14, "'yesterday'"),  # not a time
        ("metrics.a > 1 & x", 15, "'&'"),  # unexpected character
        ("metrics.a >", 12, "'>'"),  # missing value
        ("and metrics.a > 1", 1, "'and'"),  # condition expected
        ("metrics.a > 1 and", 18, "'metrics.a > 1 and'"),  # dangling and
        ("metrics. > 1", 9, "'metrics.'"),  # missing key
        ("metrics.a > 1.2.3", 13, "'1.2.3'"),  # malformed number
        ("metrics.a > params.b", 13, "'params.b'"),  # column against column
        ("datasets.name = 'x'", 1, "dataset"),
        ("metrics.a NOT = 1", 15, "'='"),
        ("   ", 1, "empty"),
    ],
)
def test_errors_point_at_the_column(text: str, column: int, quoted: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_filter(text)
    assert info.value.column == column, str(info.value)
    assert quoted in info.value.message
    assert repr(text) in info.value.message  # the whole filter, for context


def test_error_hints() -> None:
    with pytest.raises(QueryError) as info:
        parse_filter("metric.x > 1 and paramz.y = 'a'")
    assert info.value.column == 18
    assert info.value.hint == "Did you mean params.?"
    with pytest.raises(QueryError) as info:
        parse_filter("params.opt = adam")
    assert info.value.hint is not None and "'adam'" in info.value.hint


# -- order_by ------------------------------------------------------------------------------


def test_parse_order_by() -> None:
    assert parse_order_by(["metrics.`val/acc` DESC", "params.lr", "start_time ASC"]) == [
        OrderKey("metrics.val/acc", False),
        OrderKey("params.lr", True),
        OrderKey("attributes.start_time", True),
    ]
    assert parse_order_by(['metric."val/acc" desc', "tags.mlflow.user asc"]) == [
        OrderKey("metrics.val/acc", False),
        OrderKey("tags.mlflow.user", True),
    ]
    assert parse_order_by(["run_name DESC, metrics.loss"]) == [
        OrderKey("attributes.run_name", False),
        OrderKey("metrics.loss", True),
    ]
    # A lone string is one item.
    assert parse_order_by("metrics.val/acc DESC") == [OrderKey("metrics.val/acc", False)]


@pytest.mark.parametrize(
    ("item", "column"),
    [
        ("metrics.acc DOWN", 13),
        ("foo.acc", 1),
        ("", 1),
        ("metrics.acc DESC extra", 18),
        ("metrics.acc,", 13),
        ("attributes.colour", 12),
    ],
)
def test_parse_order_by_errors(item: str, column: int) -> None:
    with pytest.raises(QueryError) as info:
        parse_order_by(["params.lr", item])
    assert info.value.column == column
    assert repr(item) in info.value.message


def order(runs: Sequence[Run], *items: str) -> list[str]:
    return [r.id for r in sort_runs(runs, parse_order_by(list(items)))]


def test_sort_by_metric_missing_last_both_ways() -> None:
    assert order(RUNS, "metrics.`val/acc` DESC") == ["a1", "d4", "b2", "c3"]
    assert order(RUNS, "metrics.`val/acc`") == ["b2", "d4", "a1", "c3"]
    # NaN sorts after every value, either way.
    assert order(RUNS, "metrics.loss ASC") == ["a1", "d4", "b2", "c3"]
    assert order(RUNS, "metrics.loss DESC") == ["b2", "d4", "a1", "c3"]


def test_sort_nan_before_missing() -> None:
    runs = [
        Run(id="nan", source="local", summary={"x": math.nan}),
        Run(id="none", source="local"),
        Run(id="one", source="local", summary={"x": 1}),
        Run(id="two", source="local", summary={"x": 2.0}),
    ]
    assert order(runs, "metrics.x") == ["one", "two", "nan", "none"]
    assert order(runs, "metrics.x DESC") == ["two", "one", "nan", "none"]


def test_sort_params_numbers_before_text_and_stable() -> None:
    # 0.1 and "1e-1" are equal: they keep their input order (a1 before c3) both ways.
    assert order(RUNS, "params.lr") == ["b2", "a1", "c3", "d4"]
    assert order(RUNS, "params.lr DESC") == ["a1", "c3", "b2", "d4"]
    runs = [
        Run(id="x", source="local", params={"seed": "x"}),
        Run(id="3", source="local", params={"seed": 3}),
        Run(id="abc", source="local", params={"seed": "abc"}),
        Run(id="1", source="local", params={"seed": "1"}),
        Run(id="-", source="local"),
    ]
    assert order(runs, "params.seed") == ["1", "3", "abc", "x", "-"]
    assert order(runs, "params.seed DESC") == ["3", "1", "x", "abc", "-"]


def test_sort_by_several_keys_and_attributes() -> None:
    runs = [
        Run(id="r1", source="local", params={"g": "a"}, summary={"loss": 1}),
        Run(id="r2", source="local", params={"g": "b"}, summary={"loss": 5}),
        Run(id="r3", source="local", params={"g": "a"}, summary={"loss": 3}),
        Run(id="r4", source="local", params={"g": "b"}, summary={"loss": 2}),
    ]
    assert order(runs, "params.g", "metrics.loss DESC") == ["r3", "r1", "r2", "r4"]
    assert order(runs, "params.g DESC, metrics.loss") == ["r4", "r2", "r1", "r3"]
    assert order(RUNS, "attributes.start_time") == ["c3", "a1", "b2", "d4"]
    assert order(RUNS, "start_time DESC") == ["b2", "a1", "c3", "d4"]
    assert order(RUNS, "run_name") == ["a1", "b2", "d4", "c3"]
    # Status sorts without case, as it compares: "finished" ties with "FINISHED".
    assert order(RUNS, "status DESC") == ["a1", "b2", "c3", "d4"]
    assert order(RUNS, "status") == ["c3", "a1", "b2", "d4"]
    assert sort_runs(RUNS, []) == RUNS


# -- apply_query ---------------------------------------------------------------------------


def test_apply_query_filter_order_limit() -> None:
    got = apply_query(RUNS, "metrics.loss < 1", ["metrics.loss DESC"], 2)
    assert [r.id for r in got] == ["b2", "d4"]
    got = apply_query(iter(RUNS), "params.optimizer LIKE 'adam%'", ["run_name"], None)
    assert [r.id for r in got] == ["a1", "d4", "c3"]


@pytest.mark.parametrize(
    ("filter_text", "limit", "expected"),
    [
        (None, None, ["a1", "b2", "c3", "d4"]),
        ("", None, ["a1", "b2", "c3", "d4"]),
        ("  ", 3, ["a1", "b2", "c3"]),
        (None, 0, []),
        (None, 10, ["a1", "b2", "c3", "d4"]),
        ("tags.team ILIKE 'vision'", 1, ["a1"]),
    ],
)
def test_apply_query_limit_and_empty_filter(
    filter_text: str | None, limit: int | None, expected: list[str]
) -> None:
    assert [r.id for r in apply_query(RUNS, filter_text, None, limit)] == expected


def test_apply_query_rejects_bad_input_even_without_runs() -> None:
    with pytest.raises(QueryError):
        apply_query([], "foo.x = 1", None, None)
    with pytest.raises(QueryError):
        apply_query([], None, ["metrics.x SIDEWAYS"], None)
    with pytest.raises(QueryError):
        apply_query(RUNS, None, None, -1)


def test_apply_query_accepts_one_order_by_string() -> None:
    got = apply_query(RUNS, None, "metrics.`val/acc` DESC", 3)
    assert [r.id for r in got] == ["a1", "d4", "b2"]


# -- MLflow server filters -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "metrics.acc > 0.5",
        "metrics.loss <= -0.5",
        "metrics.`val/acc` >= 0.5",
        "params.optimizer = 'adam'",
        "tags.team != 'nlp'",
        "params.optimizer LIKE 'adam%'",
        "tags.team ILIKE 'vis%'",
        "attributes.run_id IN ('a1', 'b2')",
        "attributes.run_id NOT IN ('a1')",
        "attributes.run_name = 'alpha'",
        f"attributes.start_time >= {T0_MS}",
        "metrics.acc > 0.5 AND params.optimizer = 'adam' AND tags.`mlflow.user` = 'ana'",
        'params.note = "it\'s"',
    ],
)
def test_to_mlflow_filter_round_trips(text: str) -> None:
    assert to_mlflow_filter(parse_filter(text)) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'metric.`val/acc` >= 0.5 and param.opt = "adam"',
            "metrics.`val/acc` >= 0.5 AND params.opt = 'adam'",
        ),
        ("metrics.val/acc > 0.5", "metrics.`val/acc` > 0.5"),
        ("tags.mlflow.user = 'ana'", "tags.`mlflow.user` = 'ana'"),
        ("params.order = 'x'", "params.`order` = 'x'"),
        ("status = 'finished'", "attributes.status = 'FINISHED'"),
        ("status != 'Failed'", "attributes.status != 'FAILED'"),
        ("status LIKE 'fin%'", "attributes.status ILIKE 'fin%'"),
        ("run_id = 'a1'", "attributes.run_id = 'a1'"),
        ("start_time > '2024-05-01T12:00:00+00:00'", f"attributes.start_time > {T0_MS}"),
        ("metrics.x > 1e20", "metrics.x > 1e20"),
        ("metrics.x > 1.5e-7", "metrics.x > 1.5e-07"),
        ("metrics.x = 2.0", "metrics.x = 2"),
        (
            "(metrics.a > 1 and params.b = 'x') and tags.c = 'y'",
            "metrics.a > 1 AND params.b = 'x' AND tags.c = 'y'",
        ),
    ],
)
def test_to_mlflow_filter_canonical_form(text: str, expected: str) -> None:
    assert to_mlflow_filter(parse_filter(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "metrics.a > 1 or metrics.b > 1",
        "not metrics.a > 1",
        "metrics.a > 1 and (params.b = 'x' or tags.c = 'y')",
        "params.optimizer NOT LIKE 'adam%'",
        # MLflow compares params as text: numeric literals stay client-side.
        "params.lr = 0.1",
        "params.lr = '0.1'",
        "params.lr < 0.1",
        "params.optimizer IN ('adam', 'SGD')",
        "metrics.a IN (1, 2)",
        "status IN ('FINISHED')",
        "run_name IN ('alpha')",
        "params.note = 'both \" and \\''",
        "params.path = 'C:\\\\x'",
        "params.`x y` LIKE 'a\\\\%'",
        "start_time > '2024-05-01T12:00:00.000500+00:00'",
    ],
)
def test_to_mlflow_filter_none_when_server_differs(text: str) -> None:
    assert to_mlflow_filter(parse_filter(text)) is None


def test_server_filter_selects_the_same_runs() -> None:
    for text in (
        "metrics.`val/acc` > 0.75 and params.optimizer LIKE 'adam%'",
        "status = 'finished' and tags.team ILIKE 'VISION'",
        "run_id NOT IN ('a1') and metrics.loss >= 0.4",
    ):
        server = to_mlflow_filter(parse_filter(text))
        assert server is not None
        assert ids(server) == ids(text) != []
