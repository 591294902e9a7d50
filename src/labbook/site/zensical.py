"""The Zensical driver: compile reports into a staging folder, then let Zensical build it.

Zensical reads mkdocs.yml but runs no MkDocs plugins, so labbook does its plugin's work
up front: every report becomes a generator-neutral page in `.labbook/zensical/docs`, the
assets are copied beside them, and a staged config without the labbook plugin points there.

A version (`build --version V --engine zensical`) gets Material's own version selector:
Zensical ships it unchanged, so the staged config sets `extra.version.provider: mike` as
the plugin does, each page gets its version note, and the Changes page is written into the
staged docs as Markdown with one raw HTML block.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, LabbookError
from ..project import Project
from ..report.compile import CompiledPage, ProjectCompiler, write_page_files
from .assets import MARKDOWN_EXTENSIONS, scripts, site_assets, stylesheets
from .changes import changes_file_name, changes_page, current_record, note_page
from .versions import VersionBuild

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def _scalar(value: str) -> yaml.ScalarNode:
    return yaml.ScalarNode(_STR, value)


def _mapping(pairs: list[tuple[yaml.Node, yaml.Node]] | None = None) -> yaml.MappingNode:
    return yaml.MappingNode(_MAP, pairs or [])


def _key_index(mapping: yaml.MappingNode, key: str) -> int | None:
    for i, (k, _v) in enumerate(mapping.value):
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return i
    return None


def _get(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    i = _key_index(mapping, key)
    return None if i is None else mapping.value[i][1]


def _set(mapping: yaml.MappingNode, key: str, value: yaml.Node) -> None:
    i = _key_index(mapping, key)
    if i is None:
        mapping.value.append((_scalar(key), value))
    else:
        mapping.value[i] = (mapping.value[i][0], value)


def _is_plain_str(node: yaml.Node | None) -> bool:
    """Tells whether node is an untagged string; a tagged one (!ENV …) is left as written."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value != ""


def _absolute(node: yaml.Node | None, root: Path) -> None:
    """Makes the relative path(s) in a string node, or a list of them, absolute from root."""
    nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
    for item in nodes:
        if _is_plain_str(item):
            assert isinstance(item, yaml.ScalarNode)
            item.value = str(root / item.value)
            item.style = None


def _is_labbook_plugin(node: yaml.Node) -> bool:
    if isinstance(node, yaml.ScalarNode):
        return str(node.value) == "labbook"
    return isinstance(node, yaml.MappingNode) and _key_index(node, "labbook") is not None


def _extension_options(extensions: yaml.Node | None, name: str) -> list[yaml.MappingNode]:
    """Gives the option mappings given to a Markdown extension, in list or mapping form."""
    found: list[yaml.MappingNode] = []
    items: list[yaml.Node] = []
    if isinstance(extensions, yaml.SequenceNode):
        items = list(extensions.value)
    elif isinstance(extensions, yaml.MappingNode):
        items = [extensions]
    for item in items:
        if isinstance(item, yaml.MappingNode):
            i = _key_index(item, name)
            if i is None:
                continue
            options = item.value[i][1]
            if isinstance(options, yaml.ScalarNode) and options.tag.endswith(":null"):
                options = _mapping()  # `- pymdownx.snippets:` with no options
                item.value[i] = (item.value[i][0], options)
            if isinstance(options, yaml.MappingNode):
                found.append(options)
    return found


def _append_files(config: yaml.MappingNode, key: str, files: list[str]) -> None:
    current = _get(config, key)
    if isinstance(current, yaml.SequenceNode):
        current.value.extend(_scalar(f) for f in files)
    else:
        _set(config, key, yaml.SequenceNode(_SEQ, [_scalar(f) for f in files]))


def _add_extensions(config: yaml.MappingNode, names: tuple[str, ...]) -> None:
    """Appends the Markdown extensions the config does not name yet (list form only)."""
    extensions = _get(config, "markdown_extensions")
    if extensions is None:
        extensions = yaml.SequenceNode(_SEQ, [])
        _set(config, "markdown_extensions", extensions)
    if not isinstance(extensions, yaml.SequenceNode):
        return  # a mapping form is rare and MkDocs' own; left as the author wrote it
    present = set()
    for item in extensions.value:
        if isinstance(item, yaml.ScalarNode):
            present.add(str(item.value))
        elif isinstance(item, yaml.MappingNode):
            present.update(str(k.value) for k, _ in item.value if isinstance(k, yaml.ScalarNode))
    extensions.value.extend(_scalar(n) for n in names if n not in present)


def _staged_config(
    project: Project,
    version: VersionBuild | None = None,
    notebook_nav: dict[str, Any] | None = None,
) -> str:
    """Gives the staged mkdocs.yml: the original's YAML nodes, tags (!ENV, !!python/name:…)
    kept verbatim, with the staging folders, no labbook plugin, labbook's assets appended
    and the config's relative paths made absolute (the staged file lives elsewhere)."""
    root = project.root
    try:
        text = project.config_file.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {project.config_file.name}: {exc}") from exc
    if node is None:
        node = _mapping()
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError("mkdocs.yml must be a mapping", file=project.config_file)
    config = node

    _absolute(_get(config, "INHERIT"), root)
    _absolute(_get(config, "hooks"), root)
    _absolute(_get(config, "watch"), root)
    _set(config, "docs_dir", _scalar("docs"))
    _set(config, "site_dir", _scalar("site"))

    plugins = _get(config, "plugins")
    if isinstance(plugins, yaml.SequenceNode):
        plugins.value = [p for p in plugins.value if not _is_labbook_plugin(p)]
    elif isinstance(plugins, yaml.MappingNode):
        i = _key_index(plugins, "labbook")
        if i is not None:
            del plugins.value[i]

    theme = _get(config, "theme")
    if theme is None or (isinstance(theme, yaml.ScalarNode) and theme.value in ("", None)):
        theme = _mapping([(_scalar("name"), _scalar("material"))])
    elif isinstance(theme, yaml.ScalarNode):
        theme = _mapping([(_scalar("name"), theme)])
    if isinstance(theme, yaml.MappingNode):
        _set(theme, "font", yaml.ScalarNode("tag:yaml.org,2002:bool", "false"))
        _absolute(_get(theme, "custom_dir"), root)
        _set(config, "theme", theme)

    extensions = _get(config, "markdown_extensions")
    if isinstance(extensions, yaml.SequenceNode):
        # A bare `- pymdownx.snippets` gets an options mapping so its base_path can be set.
        extensions.value = [
            _mapping([(item, _mapping())])
            if isinstance(item, yaml.ScalarNode) and item.value == "pymdownx.snippets"
            else item
            for item in extensions.value
        ]
    for options in _extension_options(extensions, "pymdownx.snippets"):
        if _get(options, "base_path") is None:
            # Snippets default to the working folder, which MkDocs users run from: the root.
            _set(options, "base_path", yaml.SequenceNode(_SEQ, [_scalar(".")]))
        _absolute(_get(options, "base_path"), root)

    _add_extensions(config, MARKDOWN_EXTENSIONS)
    _append_files(config, "extra_css", stylesheets())
    _append_files(config, "extra_javascript", scripts())
    if version is not None:
        _configure_version(config, project, version)
    nav = _get(config, "nav")
    if notebook_nav is not None and isinstance(nav, yaml.SequenceNode):
        # Without an explicit nav Zensical lists the notebook/ folder on its own.
        nav.value.append(yaml.SafeDumper(None).represent_data(notebook_nav))  # type: ignore[arg-type]
    return yaml.serialize(config, Dumper=yaml.SafeDumper, allow_unicode=True)


def _configure_version(config: yaml.MappingNode, project: Project, version: VersionBuild) -> None:
    """Turns on the version selector (Zensical keeps Material's) and lists the Changes page."""
    extra = _get(config, "extra")
    if not isinstance(extra, yaml.MappingNode):
        extra = _mapping()
        _set(config, "extra", extra)
    selector = _get(extra, "version")
    if not isinstance(selector, yaml.MappingNode):
        selector = _mapping()
        _set(extra, "version", selector)
    _set(selector, "provider", _scalar("mike"))
    nav = _get(config, "nav")
    if version.previous is not None and isinstance(nav, yaml.SequenceNode):
        title = f"Changes since {version.previous.version}"
        nav.value.append(_mapping([(_scalar(title), _scalar(changes_file_name(project.docs_dir)))]))


def stage(
    project: Project,
    stage_dir: Path,
    *,
    pdf_links: bool = False,
    version: VersionBuild | None = None,
) -> tuple[list[CompiledPage], list[LabbookError]]:
    """Writes the compiled project into stage_dir; gives the pages and the source errors."""
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    docs = stage_dir / "docs"
    docs.mkdir(parents=True)
    compiler = ProjectCompiler(project, pdf_links=pdf_links, source_relative=True)
    pages: list[CompiledPage] = []
    for src in sorted(project.docs_dir.rglob("*")):
        if not src.is_file():
            continue
        dest = docs / src.relative_to(project.docs_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".md":
            page = compiler.compile_file(src)
            pages.append(page)
            if version is not None:
                page.markdown += note_page(version, project, page, compiler.root_url(src))
            dest.write_text(page.as_document(), encoding="utf-8")
        else:
            shutil.copy2(src, dest)
    notebook = compiler.notebook_pages(pages)
    for notebook_page in notebook:
        dest = docs / notebook_page.file
        if dest.exists():
            continue  # a page the author wrote at that path wins
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(notebook_page.page.as_document(), encoding="utf-8")
    nav_section = (
        compiler.notebook.nav(notebook) if compiler.notebook is not None and notebook else None
    )
    if version is not None and version.previous is not None:
        (docs / changes_file_name(project.docs_dir)).write_text(
            changes_page(version, current_record(version)), encoding="utf-8"
        )
    write_page_files([*pages, *(p.page for p in notebook)], docs)
    compiler.finish()
    for asset in site_assets():
        target = docs / asset.dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(asset.src, target)
    staged = _staged_config(project, version, nav_section)
    (stage_dir / "mkdocs.yml").write_text(staged, encoding="utf-8")
    # The notebook's pages are no report: their problems are warnings of the build.
    return pages, [*compiler.source_errors, *(w for p in notebook for w in p.page.warnings)]


def build_with_zensical(
    project: Project,
    site_dir: Path,
    *,
    strict: bool = False,
    pdf_links: bool = False,
    version: VersionBuild | None = None,
) -> tuple[list[CompiledPage], list[LabbookError]]:
    """Gives the compiled pages and the source errors of building the project with Zensical.

    `site.build` turns them into its BuildResult: this module does not import it back.
    """
    stage_dir = project.root / ".labbook" / "zensical"
    pages, source_errors = stage(project, stage_dir, pdf_links=pdf_links, version=version)
    command = [
        sys.executable,
        "-m",
        "zensical",
        "build",
        "--clean",
        "-f",
        str(stage_dir / "mkdocs.yml"),
    ]
    if strict:
        command.append("--strict")
    try:
        proc = subprocess.run(command, cwd=stage_dir, capture_output=True, text=True, check=False)
    except OSError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError(f"cannot run Zensical: {exc}") from exc
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        if "No module named zensical" in (proc.stderr or ""):
            raise ConfigError(
                "Zensical is not installed", hint="install it with: pip install 'labbook[zensical]'"
            )
        raise ConfigError("Zensical failed to build the site: " + " | ".join(detail))
    built = stage_dir / "site"
    if site_dir.exists():
        shutil.rmtree(site_dir)
    shutil.copytree(built, site_dir)
    return pages, source_errors
