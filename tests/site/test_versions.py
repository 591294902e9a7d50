"""Versioned sites: `build --version`, versions.json, aliases, records, `versions`, `diff`.

The example lab book is copied into a git repository with two authors: Ana Lima commits it
and builds v1 (alias latest); Bo Chen then rewords the sweep report, one run's accuracy
changes and a fourth seed is added, and v2 is built and takes the alias.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from labbook.cli import main
from labbook.project import Project
from labbook.site.build import build_version
from labbook.site.versions import RECORD_FILE, load_record
from tests.conftest import ServeDir, copy_example
from tests.gitrepo import commit, git, init_repo, isolate_git

ANA = ("Ana Lima", "ana@lab.example", "2026-11-02T10:00:00+00:00")
BO = ("Bo Chen", "bo@lab.example", "2026-11-30T16:00:00+00:00")
CHANGED_RUN = "431c5bb7"  # r18-lr0.1-s2: val/acc 0.8158 in v1, 0.8301 in v2
ADDED_RUN = "431c5bb9"
ADDED_NAME = "r18-lr0.1-s3 <i>new</i>"  # markup in a run name must stay text


def hashes(folder: Path) -> dict[str, str]:
    """Gives every file under folder (relative path) -> its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@dataclass
class Versioned:
    project: Path
    site: Path
    v1_after_v1: dict[str, str]  # site/v1/ right after building v1
    v1_after_v2: dict[str, str]  # site/v1/ after building v2


def _change_for_v2(project: Path) -> None:
    report = project / "reports" / "lr-sweep.md"
    text = report.read_text(encoding="utf-8")
    assert "three seeds each" in text
    report.write_text(text.replace("three seeds each", "three or four seeds each"), "utf-8")
    run = project / "runs" / CHANGED_RUN / "run.json"
    meta = json.loads(run.read_text(encoding="utf-8"))
    meta["summary"]["val/acc"] = 0.8301
    run.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    shutil.copytree(project / "runs" / CHANGED_RUN, project / "runs" / ADDED_RUN)
    added = project / "runs" / ADDED_RUN / "run.json"
    meta["name"], meta["params"]["seed"], meta["summary"]["val/acc"] = ADDED_NAME, 3, 0.8011
    added.write_text(json.dumps(meta, indent=2), encoding="utf-8")


@pytest.fixture(scope="module")
def git_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate_git(monkeypatch, tmp_path_factory.mktemp("home"))
        yield


@pytest.fixture(scope="module")
def versioned(tmp_path_factory: pytest.TempPathFactory, git_env: None) -> Versioned:
    project = init_repo(tmp_path_factory.mktemp("versions") / "lab")
    copy_example(project)
    commit(project, *ANA, {".gitignore": "site/\n.labbook/\n"}, message="the lab book")
    loaded = Project.load(project / "mkdocs.yml")
    first = build_version(loaded, "v1", aliases=["latest"], title="First cut")
    assert not first.errors, first.errors
    site = project / "site"
    v1_after_v1 = hashes(site / "v1")
    _change_for_v2(project)
    commit(project, *BO, {}, message="a fourth seed")
    second = build_version(Project.load(project / "mkdocs.yml"), "v2", aliases=["latest"])
    assert not second.errors, second.errors
    return Versioned(project, site, v1_after_v1, hashes(site / "v1"))


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def redirect_target(page: Path) -> str:
    """Gives the URL a redirect page's meta refresh leads to (checked against its link)."""
    html = page.read_text(encoding="utf-8")
    found = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', html)
    assert found, html
    assert f'<a href="{found.group(1)}">' in html  # and a plain link, for no refresh at all
    return found.group(1)


# --- versions.json, aliases, immutability -----------------------------------------------


def test_versions_json_as_mike_writes_it(versioned: Versioned) -> None:
    data = json.loads((versioned.site / "versions.json").read_text(encoding="utf-8"))
    assert data == [
        {"version": "v2", "title": "v2", "aliases": ["latest"]},
        {"version": "v1", "title": "First cut", "aliases": []},
    ]


def test_every_page_of_the_alias_redirects_relatively_to_the_version(versioned: Versioned) -> None:
    site = versioned.site
    pages = sorted(p.relative_to(site / "v2") for p in (site / "v2").rglob("*.html"))
    assert len(pages) >= 7  # six reports and the Changes page, at least
    for page in pages:
        target = redirect_target(site / "latest" / page)
        assert not target.startswith(("/", "http")), target
        landing = (site / "latest" / page).parent / target
        expected = site / "v2" / page
        expected = expected.parent if expected.name == "index.html" else expected
        assert landing.resolve() == expected.resolve(), (page, target)
    assert redirect_target(site / "latest" / "lr-sweep" / "index.html") == "../../v2/lr-sweep/"
    assert redirect_target(site / "index.html") == "latest/"


def test_building_v2_leaves_every_byte_of_v1(versioned: Versioned) -> None:
    assert len(versioned.v1_after_v1) > 20
    assert versioned.v1_after_v2 == versioned.v1_after_v1
    assert hashes(versioned.site / "v1") == versioned.v1_after_v1


def test_the_version_record_holds_commit_texts_runs_and_values(versioned: Versioned) -> None:
    head = git(versioned.project, "rev-parse", "HEAD")
    record = load_record(versioned.site, "v2")
    assert (record.commit, record.dirty) == (head, False)
    sweep = record.reports["lr-sweep.md"]
    assert "three or four seeds each" in (sweep.text or "")
    assert f"local:{ADDED_RUN}" in dict(sweep.runs)
    assert [c.author for c in sweep.history] == ["Bo Chen", "Ana Lima"]
    printed = {v.key: v for v in sweep.values if v.kind == "expression"}
    assert printed["{{ sweep | length }}"].text == "10"
    assert printed["{{ sweep | length }}"].line == 20
    cell = next(v for v in sweep.values if v.key == f"local:{CHANGED_RUN} metrics.val/acc")
    assert (cell.text, cell.number, cell.run_name) == ("0.8301", 0.8301, "r18-lr0.1-s2")
    old = load_record(versioned.site, "v1")
    assert {v.key: v.text for v in old.reports["lr-sweep.md"].values}["{{ sweep | length }}"] == "9"


def test_rebuilding_a_version_is_refused_without_force(
    versioned: Versioned, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(versioned.project / "mkdocs.yml")
    code, _, err = run_cli(capsys, "build", "-f", config, "--version", "v1")
    assert code == 2
    assert "version 'v1' is already built" in err and "--force" in err
    assert hashes(versioned.site / "v1") == versioned.v1_after_v1
    # A build without --version would empty the folder of published versions.
    code, _, err = run_cli(capsys, "build", "-f", config)
    assert code == 2 and "--version" in err and "-d" in err
    assert hashes(versioned.site / "v1") == versioned.v1_after_v1
    # An alias cannot be a version's name, nor a version an alias's.
    code, _, err = run_cli(capsys, "build", "-f", config, "--version", "latest")
    assert code == 2 and "alias of version 'v2'" in err


def test_force_rebuilds_only_its_own_version(
    versioned: Versioned, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "lab"
    shutil.copytree(versioned.project, project, symlinks=True)
    v2_before = hashes(project / "site" / "v2")
    built_before = load_record(project / "site", "v1").built_at
    code, out, _ = run_cli(
        capsys, "build", "-f", str(project / "mkdocs.yml"), "--version", "v1", "--force", "-q"
    )
    assert code == 0, out
    assert hashes(project / "site" / "v2") == v2_before
    rebuilt = load_record(project / "site", "v1")
    assert rebuilt.built_at >= built_before
    assert "three or four seeds" in (rebuilt.reports["lr-sweep.md"].text or "")
    # The title given at its first build stays; the alias stays with v2.
    data = json.loads((project / "site" / "versions.json").read_text(encoding="utf-8"))
    assert data[1] == {"version": "v1", "title": "First cut", "aliases": []}
    assert data[0]["aliases"] == ["latest"]


# --- labbook versions -------------------------------------------------------------------


def test_versions_lists_moves_an_alias_and_deletes(
    versioned: Versioned, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    shutil.copytree(versioned.site, site)
    code, out, _ = run_cli(capsys, "versions", "-d", str(site))
    assert code == 0
    short = git(versioned.project, "rev-parse", "--short", "HEAD")
    v2_line = next(line for line in out.splitlines() if line.startswith("v2 "))
    assert "latest" in v2_line and short in v2_line and "20" in v2_line
    assert any(line.startswith("v1 ") and "First cut" in line for line in out.splitlines())

    code, out, _ = run_cli(capsys, "versions", "alias", "latest", "v1", "-d", str(site))
    assert code == 0 and "latest now leads to v1 (it named v2)" in out
    data = json.loads((site / "versions.json").read_text(encoding="utf-8"))
    assert [(d["version"], d["aliases"]) for d in data] == [("v2", []), ("v1", ["latest"])]
    assert redirect_target(site / "latest" / "lr-sweep" / "index.html") == "../../v1/lr-sweep/"
    # v1 has no Changes page: the alias holds no redirect to a page that is not there.
    assert not (site / "latest" / "changes").exists()
    assert redirect_target(site / "index.html") == "v2/"  # the newest version has no alias

    code, _, err = run_cli(capsys, "versions", "delete", "v9", "-d", str(site))
    assert code == 2 and "no version 'v9'" in err and "v2" in err and "v1 (latest)" in err
    code, _, err = run_cli(capsys, "versions", "alias", "stable", "v9", "-d", str(site))
    assert code == 2 and "no version 'v9'" in err and "v1 (latest)" in err

    code, out, _ = run_cli(capsys, "versions", "delete", "v1", "-d", str(site))
    assert code == 0 and "deleted v1, latest" in out
    assert not (site / "v1").exists() and not (site / "latest").exists()
    data = json.loads((site / "versions.json").read_text(encoding="utf-8"))
    assert data == [{"version": "v2", "title": "v2", "aliases": []}]
    assert redirect_target(site / "index.html") == "v2/"
    assert hashes(site / "v2") == hashes(versioned.site / "v2")


# --- what changed -----------------------------------------------------------------------


def test_diff_shows_the_word_change_the_numbers_and_the_added_run(
    versioned: Versioned, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(versioned.project / "mkdocs.yml")
    code, out, _ = run_cli(capsys, "diff", "v1", "latest", "lr-sweep", "-f", config)
    assert code == 0
    assert "three{+ or four+} seeds each" in out
    assert "r18-lr0.1-s2 metrics.val/acc: 0.8158 → 0.8301 (+0.0143)" in out
    assert "{{ sweep | length }}: 9 → 10 (+1)" in out
    assert f"+ run {ADDED_NAME} (local:{ADDED_RUN})" in out
    assert "\x1b[" not in out  # not a terminal: markers, no colour
    code, out, _ = run_cli(capsys, "diff", "v1", "v2", "-f", config, "--color", "always")
    assert code == 0 and "\x1b[32m or four\x1b[0m" in out
    assert "index.md" in out  # its table holds the changed run too
    assert "report(s) unchanged" in out


def test_diff_of_an_unknown_version_or_report_names_what_exists(
    versioned: Versioned, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(versioned.project / "mkdocs.yml")
    code, _, err = run_cli(capsys, "diff", "v0", "v2", "-f", config)
    assert code == 2 and "no version 'v0'" in err and "v2 (latest), v1" in err
    code, _, err = run_cli(capsys, "diff", "v1", "v2", "nosuch", "-f", config)
    assert code == 2 and "no report 'nosuch'" in err and "lr-sweep.md" in err


def test_each_page_says_in_which_versions_it_changed(versioned: Versioned) -> None:
    html = (versioned.site / "v2" / "lr-sweep" / "index.html").read_text(encoding="utf-8")
    note = re.search(r'<p class="labbook-versions-note">(.*?)</p>', html)
    assert note, "no version note"
    assert note.group(1) == (
        "Changed in <strong>v2</strong> (Bo Chen; 2026-11-30), "
        '<a href="../../v1/lr-sweep/">v1</a> (Ana Lima; 2026-11-02)'
    )
    home = (versioned.site / "v2" / "index.html").read_text(encoding="utf-8")
    assert "<strong>v2</strong> (runs and numbers)" in home  # only its table's numbers changed
    variants = (versioned.site / "v2" / "variants" / "index.html").read_text(encoding="utf-8")
    assert 'Changed in <a href="../../v1/variants/">v1</a> (Ana Lima; 2026-11-02)</p>' in variants


def test_the_changes_page_shows_the_diff_escaped(versioned: Versioned) -> None:
    page = versioned.site / "v2" / "changes" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert "<h1>Changes since v1</h1>" in html
    section = html[html.index('data-report="lr-sweep.md"') :]
    section = section[: section.index("</section>")]
    assert "three<ins> or four</ins> seeds" in section
    assert "<td>0.8158</td><td>0.8301</td><td>+0.0143</td>" in section
    assert "r18-lr0.1-s3 &lt;i&gt;new&lt;/i&gt;" in section and "<i>new</i>" not in html
    assert f"added: r18-lr0.1-s3 &lt;i&gt;new&lt;/i&gt; <code>local:{ADDED_RUN}</code>" in section
    assert "Changes since v1" in (versioned.site / "v2" / "lr-sweep" / "index.html").read_text(
        encoding="utf-8"
    )  # in the nav


# --- the selector in a browser ----------------------------------------------------------


@pytest.mark.browser
def test_materials_selector_lists_both_versions(
    versioned: Versioned, serve_dir: ServeDir, open_page: Any
) -> None:
    from playwright.sync_api import expect

    origin = serve_dir(versioned.site)
    visit = open_page(origin, "/v2/lr-sweep/")
    selector = visit.page.locator(".md-header .md-version")
    expect(selector).to_be_attached()
    expect(selector.locator(".md-version__current")).to_have_text(re.compile(r"^\s*v2"))
    items = selector.locator(".md-version__link")
    assert [t.strip() for t in items.all_text_contents()] == ["v2", "First cut"]
    assert items.nth(1).get_attribute("href") is not None
    assert f"{origin}/versions.json" in visit.requests
    assert all(r.startswith(origin) for r in visit.requests)
    assert not visit.errors, visit.errors

    deep = open_page(origin, "/latest/lr-sweep/#result")
    deep.page.wait_for_url(f"{origin}/v2/lr-sweep/#result")
    root = open_page(origin, "/")
    root.page.wait_for_url(f"{origin}/v2/")


@pytest.mark.browser
def test_redirects_work_without_javascript(
    versioned: Versioned, serve_dir: ServeDir, browser: Any
) -> None:
    origin = serve_dir(versioned.site)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{origin}/latest/variants/")
        page.wait_for_url(f"{origin}/v2/variants/", timeout=10_000)
    finally:
        context.close()


@pytest.mark.browser
def test_zensical_version_gets_the_same_selector(
    versioned: Versioned,
    tmp_path: Path,
    serve_dir: ServeDir,
    open_page: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from playwright.sync_api import expect

    project = tmp_path / "lab"
    shutil.copytree(versioned.project, project, symlinks=True)
    v1 = hashes(project / "site" / "v1")
    code, out, err = run_cli(
        capsys,
        "build",
        "-f",
        str(project / "mkdocs.yml"),
        "--engine",
        "zensical",
        "--version",
        "v3",
        "--alias",
        "latest",
        "-q",
    )
    assert code == 0, out + err
    assert hashes(project / "site" / "v1") == v1
    site = project / "site"
    assert (site / "v3" / RECORD_FILE).exists()
    assert redirect_target(site / "latest" / "lr-sweep" / "index.html") == "../../v3/lr-sweep/"
    assert (site / "v3" / "changes" / "index.html").exists()  # against v2
    origin = serve_dir(site)
    visit = open_page(origin, "/v3/lr-sweep/")
    items = visit.page.locator(".md-version .md-version__link")
    expect(items).to_have_count(3)
    assert [t.strip() for t in items.all_text_contents()] == ["v3", "v2", "First cut"]
    note = visit.page.locator(".labbook-versions-note a").first
    href = note.get_attribute("href")
    assert href is not None
    visit.page.goto(f"{origin}/v3/lr-sweep/{href}")
    assert visit.page.url.startswith(f"{origin}/v")
    assert visit.page.locator(".labbook-plot").count() > 0  # a real page of that version


@pytest.mark.parametrize("name", ["../v1", "v1/x", ".hidden", "<b>", "versions.json", ""])
def test_a_name_that_cannot_be_a_folder_is_refused(
    versioned: Versioned, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    config = str(versioned.project / "mkdocs.yml")
    code, _, err = run_cli(capsys, "build", "-f", config, "--version", name)
    assert code == 2 and "cannot be a version name" in err
    code, _, err = run_cli(capsys, "build", "-f", config, "--version", "v5", "--alias", name)
    assert code == 2 and "cannot be a alias name" not in err and "cannot be an alias" in err
    assert sorted(p.name for p in versioned.site.iterdir()) == [
        "index.html",
        "latest",
        "v1",
        "v2",
        "versions.json",
    ]
