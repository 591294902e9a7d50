"""The Zensical driver: compile reports into a staging folder, then let Zensical build it.

Zensical reads mkdocs.yml but runs no MkDocs plugins, so labbook does its plugin's work
up front: every report becomes a generator-neutral page in `.labbook/zensical/docs`, the
assets are copied beside them, and a staged config without the labbook plugin points there.
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
from ..report.compile import CompiledPage, ProjectCompiler
from .assets import scripts, site_assets, stylesheets
from .build import BuildResult


def _staged_config(project: Project) -> dict[str, Any]:
    config = dict(project.config)
    config["docs_dir"] = "docs"
    config["site_dir"] = "site"
    plugins = config.get("plugins") or []
    if isinstance(plugins, dict):
        plugins = [{k: v} for k, v in plugins.items()]
    config["plugins"] = [
        p for p in plugins if p != "labbook" and not (isinstance(p, dict) and "labbook" in p)
    ]
    theme = config.get("theme") or {"name": "material"}
    if isinstance(theme, str):
        theme = {"name": theme}
    theme = dict(theme)
    theme["font"] = False
    if theme.get("custom_dir"):
        theme["custom_dir"] = str((project.root / str(theme["custom_dir"])).resolve())
    config["theme"] = theme
    config["extra_css"] = [*(config.get("extra_css") or []), *stylesheets()]
    config["extra_javascript"] = [*(config.get("extra_javascript") or []), *scripts()]
    return config


def stage(project: Project, stage_dir: Path) -> tuple[list[CompiledPage], list[LabbookError]]:
    """Writes the compiled project into stage_dir; gives the pages and the source errors."""
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    docs = stage_dir / "docs"
    docs.mkdir(parents=True)
    compiler = ProjectCompiler(project)
    pages: list[CompiledPage] = []
    for src in sorted(project.docs_dir.rglob("*")):
        if not src.is_file():
            continue
        dest = docs / src.relative_to(project.docs_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".md":
            page = compiler.compile_file(src)
            pages.append(page)
            dest.write_text(page.as_document(), encoding="utf-8")
        else:
            shutil.copy2(src, dest)
    for asset in site_assets():
        target = docs / asset.dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(asset.src, target)
    config = _staged_config(project)
    (stage_dir / "mkdocs.yml").write_text(
        yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return pages, compiler.source_errors


def build_with_zensical(project: Project, site_dir: Path, *, strict: bool = False) -> BuildResult:
    """Gives the result of building the project with Zensical into site_dir."""
    stage_dir = project.root / ".labbook" / "zensical"
    pages, source_errors = stage(project, stage_dir)
    command = [sys.executable, "-m", "zensical", "build", "--clean", "-f", str(stage_dir / "mkdocs.yml")]
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
    return BuildResult.from_pages(pages, source_errors, site_dir)
