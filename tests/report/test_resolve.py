"""Resolver: run references, named run sets, `a + b` and inline queries."""

from __future__ import annotations

from pathlib import Path

import pytest

from labbook.errors import AmbiguousRun, QueryError, ReportError, RunNotFound
from labbook.model import RunSet
from labbook.report.resolve import QUERY_KEYS, Resolver, UnresolvedRunSet, resolve_run_sets

from .conftest import MemorySource, make_run


@pytest.fixture
def local() -> MemorySource:
    return MemorySource(
        [
            make_run(
                "3f2a9c7e51",
                "resnet50-lr0.1",
                params={"lr": 0.1, "seed": 0},
                summary={"val/acc": 0.91},
            ),
            make_run(
                "3f2a9d0000",
                "resnet50-lr0.1-s1",
                params={"lr": 0.1, "seed": 1},
                summary={"val/acc": 0.93},
            ),
            make_run(
                "7c0ffee123",
                "resnet50-lr0.01",
                params={"lr": 0.01, "seed": 0},
                summary={"val/acc": 0.88},
            ),
            make_run(
                "a1b2c3d4e5",
                "vit-base",
                experiment="vit",
                params={"lr": 0.001},
                summary={"val/acc": 0.95},
            ),
            make_run(
                "seed-0", "baseline", params={"lr": 0.1, "seed": 0}, summary={"val/acc": 0.90}
            ),
        ],
        name="local",
    )


@pytest.fixture
def tracking() -> MemorySource:
    return MemorySource(
        [
            make_run("seed-0", "tracked-baseline", summary={"val/acc": 0.80}),
            make_run("b0b0b0b0b0", "tracked-other", summary={"val/acc": 0.70}),
        ],
        name="tracking",
    )


@pytest.fixture
def resolver(local: MemorySource, tracking: MemorySource) -> Resolver:
    return Resolver({"local": local, "tracking": tracking})


# -- single references -------------------------------------------------------------------


def test_by_full_id(resolver: Resolver) -> None:
    run = resolver.run("7c0ffee123")
    assert (run.source, run.id, run.name) == ("local", "7c0ffee123", "resnet50-lr0.01")


def test_by_unique_prefix_of_six_or_more(resolver: Resolver) -> None:
    assert resolver.run("7c0ffe").id == "7c0ffee123"
    assert resolver.run("a1b2c3d4").id == "a1b2c3d4e5"
    assert resolver.run("  b0b0b0 ").ref == "tracking:b0b0b0b0b0"


def test_prefix_shorter_than_six_is_not_a_reference(resolver: Resolver) -> None:
    with pytest.raises(RunNotFound) as info:
        resolver.run("7c0ff")
    assert info.value.message == (
        "no run '7c0ff' in any source: an ID prefix needs at least 6 characters"
    )
    # The IDs it is a prefix of are named, so the fix is one copy away.
    assert "7c0ffee123" in str(info.value.hint)


def test_by_source_and_id(resolver: Resolver) -> None:
    assert resolver.run("local:seed-0").name == "baseline"
    assert resolver.run("tracking:seed-0").name == "tracked-baseline"
    # SOURCE:prefix works through the source's own prefix lookup.
    assert resolver.run("local:a1b2c3").id == "a1b2c3d4e5"


def test_bare_id_present_in_two_sources_is_ambiguous(resolver: Resolver) -> None:
    with pytest.raises(AmbiguousRun) as info:
        resolver.run("seed-0")
    assert "local:seed-0 (baseline)" in info.value.message
    assert "tracking:seed-0 (tracked-baseline)" in info.value.message
    assert info.value.hint == "write SOURCE:ID or more characters of the ID"


def test_by_name(resolver: Resolver) -> None:
    assert resolver.run("resnet50-lr0.1").id == "3f2a9c7e51"
    assert resolver.run("tracked-other").ref == "tracking:b0b0b0b0b0"


def test_ambiguous_prefix(resolver: Resolver) -> None:
    # Two runs whose IDs share their first six characters.
    with pytest.raises(AmbiguousRun) as info:
        Resolver(
            {
                "local": MemorySource(
                    [make_run("abcdef01", "first"), make_run("abcdef02", "second")], name="local"
                )
            }
        ).run("abcdef")
    message = info.value.message
    assert message.startswith("run 'abcdef' is ambiguous: it matches ")
    assert "local:abcdef01 (first)" in message
    assert "local:abcdef02 (second)" in message
    # 3f2a9c7e51 and 3f2a9d0000 share five characters: six tell them apart.
    assert resolver.run("3f2a9c").id == "3f2a9c7e51"
    assert resolver.run("3f2a9d").id == "3f2a9d0000"


def test_ambiguous_prefix_through_source_get() -> None:
    source = MemorySource([make_run("abcdef01"), make_run("abcdef02")], name="local")
    with pytest.raises(AmbiguousRun) as info:
        Resolver({"local": source}).run("local:abcdef")
    assert "abcdef01" in info.value.message and "abcdef02" in info.value.message


def test_unknown_reference_lists_the_closest_ids_and_names(resolver: Resolver) -> None:
    with pytest.raises(RunNotFound) as info:
        resolver.run("7c0ffee124")
    message = info.value.message
    assert message.startswith("no run '7c0ffee124' in any source (closest: ")
    assert "7c0ffee123" in message

    with pytest.raises(RunNotFound) as info:
        resolver.run("resnet50-lr0.2")
    message = info.value.message
    # Names suggest their runs as "ID (name)".
    assert "3f2a9c7e51 (resnet50-lr0.1)" in message
    assert "7c0ffee123 (resnet50-lr0.01)" in message


def test_unknown_reference_with_nothing_close(resolver: Resolver) -> None:
    with pytest.raises(RunNotFound) as info:
        resolver.run("zzzzzzzzzzzzzzzzzzzzz")
    # Nothing is close, so some run IDs are named to show what references look like.
    assert info.value.message.startswith(
        "no run 'zzzzzzzzzzzzzzzzzzzzz' in any source (nothing close; "
    )
    assert "run(s), e.g. " in info.value.message


def test_unknown_id_in_a_named_source(resolver: Resolver) -> None:
    with pytest.raises(RunNotFound) as info:
        resolver.run("tracking:b0b0b0b0b1")
    assert "no run 'b0b0b0b0b1' in source 'tracking'" in info.value.message
    assert "b0b0b0b0b0" in info.value.message


def test_no_sources_configured() -> None:
    with pytest.raises(RunNotFound) as info:
        Resolver({}).run("abcdef")
    assert "no sources are configured" in info.value.message
    assert info.value.hint is not None and "mkdocs.yml" in info.value.hint


# -- run sets ------------------------------------------------------------------------------


def test_list_of_references(resolver: Resolver) -> None:
    runs = resolver.runs(["3f2a9c7e51", "local:seed-0", "vit-base"], {})
    assert [r.ref for r in runs] == ["local:3f2a9c7e51", "local:seed-0", "local:a1b2c3d4e5"]


def test_set_union_keeps_order_and_drops_duplicates(resolver: Resolver) -> None:
    named = {
        "a": resolver.runs(["3f2a9c7e51", "7c0ffee123"], {}),
        "b": resolver.runs(["7c0ffee123", "a1b2c3d4e5"], {}),
    }
    union = resolver.runs("a + b", named)
    assert union.ids == ["3f2a9c7e51", "7c0ffee123", "a1b2c3d4e5"]
    # A reference may join a set too.
    mixed = resolver.runs("b + tracking:seed-0 + 3f2a9c", named)
    assert [r.ref for r in mixed] == [
        "local:7c0ffee123",
        "local:a1b2c3d4e5",
        "tracking:seed-0",
        "local:3f2a9c7e51",
    ]


def test_set_name_alone(resolver: Resolver) -> None:
    named = {"sweep": resolver.runs(["vit-base"], {})}
    assert resolver.runs("sweep", named).ids == ["a1b2c3d4e5"]


def test_union_with_an_unknown_part_raises(resolver: Resolver) -> None:
    with pytest.raises(RunNotFound):
        resolver.runs("a + nosuchset", {"a": RunSet()})


def test_inline_query_filter_order_limit(resolver: Resolver) -> None:
    spec = {
        "experiment": "exp",
        "filter": "params.lr = 0.1",
        "order_by": ["metrics.`val/acc` DESC"],
    }
    assert resolver.runs(spec, {}).ids == ["3f2a9d0000", "3f2a9c7e51", "seed-0"]
    assert resolver.runs({**spec, "limit": 2}, {}).ids == ["3f2a9d0000", "3f2a9c7e51"]
    # order_by may be one string.
    ascending = resolver.runs({**spec, "order_by": "metrics.`val/acc`"}, {})
    assert ascending.ids == ["seed-0", "3f2a9c7e51", "3f2a9d0000"]


def test_inline_query_defaults_to_the_first_source(resolver: Resolver) -> None:
    assert resolver.default_source == "local"
    assert resolver.runs({"filter": "metrics.`val/acc` > 0.9"}, {}).ids == [
        "3f2a9c7e51",
        "3f2a9d0000",
        "a1b2c3d4e5",
    ]
    other = resolver.runs({"source": "tracking", "order_by": "metrics.`val/acc`"}, {})
    assert [r.ref for r in other] == ["tracking:b0b0b0b0b0", "tracking:seed-0"]


def test_inline_query_experiment(resolver: Resolver) -> None:
    assert resolver.runs({"experiment": "vit"}, {}).ids == ["a1b2c3d4e5"]
    assert resolver.runs({"experiment": "nothing"}, {}).ids == []


def test_unknown_query_key(resolver: Resolver) -> None:
    with pytest.raises(ReportError) as info:
        resolver.runs({"experiment": "exp", "filters": "params.lr = 0.1"}, {})
    assert info.value.message == "unknown query key 'filters'"
    assert info.value.hint == "valid: " + ", ".join(sorted(QUERY_KEYS))


def test_query_unknown_source_and_bad_limit(resolver: Resolver) -> None:
    with pytest.raises(ReportError) as info:
        resolver.runs({"source": "wandb"}, {})
    assert info.value.message == "unknown source 'wandb'"
    assert info.value.hint == "configured sources: local, tracking"
    for bad in (-1, "3", 2.5):
        with pytest.raises(ReportError, match="'limit' must be a non-negative integer"):
            resolver.runs({"limit": bad}, {})


def test_query_bad_filter_is_a_query_error(resolver: Resolver) -> None:
    with pytest.raises(QueryError):
        resolver.runs({"filter": "params.lr =="}, {})


def test_runs_of_the_wrong_type(resolver: Resolver) -> None:
    with pytest.raises(ReportError, match="'runs' must be a run set name"):
        resolver.runs(42, {})


# -- front matter run sets -----------------------------------------------------------------


def test_resolve_run_sets_by_name_with_errors_at_their_lines(resolver: Resolver) -> None:
    front = {
        "runs": {
            "sweep": {"filter": "params.lr = 0.1", "order_by": "metrics.`val/acc` DESC"},
            "bad": ["7c0ffee999"],
            "both": "sweep + vit-base",
            "odd": {"experiment": "exp", "sort": "x"},
        }
    }
    lines = {"runs": 4, "runs.sweep": 5, "runs.bad": 8, "runs.both": 9, "runs.odd": 10}
    sets, errors = resolve_run_sets(resolver, front, lines, Path("reports/r.md"))
    assert list(sets) == ["sweep", "bad", "both", "odd"]
    assert sets["sweep"].ids == ["3f2a9d0000", "3f2a9c7e51", "seed-0"]
    assert sets["sweep"].name == "sweep"
    # A failed set is no silent empty set: using it raises why it failed.
    for failed in ("bad", "odd"):
        assert isinstance(sets[failed], UnresolvedRunSet)
        with pytest.raises(ReportError, match=f"run set '{failed}' could not be resolved"):
            list(sets[failed])
    assert sets["both"].ids == ["3f2a9d0000", "3f2a9c7e51", "seed-0", "a1b2c3d4e5"]
    assert [(type(e).__name__, e.file, e.line) for e in errors] == [
        ("RunNotFound", "reports/r.md", 8),
        ("ReportError", "reports/r.md", 10),
    ]
    assert str(errors[0]).startswith("reports/r.md:8: no run '7c0ffee999' in any source (closest: ")
    assert "7c0ffee123" in str(errors[0])
    assert str(errors[1]).startswith("reports/r.md:10: unknown query key 'sort'")


def test_resolve_run_sets_not_a_mapping(resolver: Resolver) -> None:
    sets, errors = resolve_run_sets(resolver, {"runs": ["a"]}, {"runs": 3}, Path("r.md"))
    assert sets == {}
    assert len(errors) == 1
    assert errors[0].line == 3
    assert errors[0].message == "'runs' must map set names to queries or run lists"


def test_resolve_run_sets_without_runs(resolver: Resolver) -> None:
    assert resolve_run_sets(resolver, {"title": "x"}, {}, Path("r.md")) == ({}, [])


def test_queries_and_references_are_asked_once_and_share_run_objects() -> None:
    from .conftest import resolver_for

    class CountingSource(MemorySource):
        searches = 0

        def search(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            CountingSource.searches += 1
            return super().search(*args, **kwargs)  # type: ignore[arg-type]

    source = CountingSource([make_run("aaaaaa01", "a"), make_run("bbbbbb01", "b")])
    resolver = resolver_for(source)
    spec = {"source": "mem", "filter": "attributes.run_name = 'a'"}
    first = resolver.query(spec)
    second = resolver.query(dict(spec))
    assert CountingSource.searches == 1
    assert first[0] is second[0] is resolver.run("aaaaaa01") is resolver.run("mem:aaaaaa01")
