"""A labbook project: mkdocs.yml, its labbook plugin settings, and the sources they name."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, LabbookError
from .sources.base import Source, open_source
from .yamlfiles import load_tolerant

DEFAULT_MAX_POINTS = 1500
PLUGIN_OPTIONS = frozenset({"sources", "notebook", "max_points", "enabled"})


def read_yaml_file(path: Path) -> Any:
    """Gives a YAML file's content; a syntax error becomes a ConfigError with file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", file=path) from exc
    try:
        return load_tolerant(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"bad YAML: {problem}", file=path, line=line) from exc


@dataclass
class LabbookSettings:
    """The labbook plugin's options from mkdocs.yml."""

    sources: dict[str, str] = field(default_factory=dict)
    notebook: bool = False
    max_points: int = DEFAULT_MAX_POINTS

    @classmethod
    def from_mapping(cls, options: Any, config_file: Path) -> LabbookSettings:
        if options is None:
            return cls()
        if not isinstance(options, dict):
            raise ConfigError("the labbook plugin's options must be a mapping", file=config_file)
        unknown = sorted(set(options) - PLUGIN_OPTIONS)
        if unknown:
            raise ConfigError(
                f"unknown labbook option {unknown[0]!r}",
                file=config_file,
                hint="valid options: " + ", ".join(sorted(PLUGIN_OPTIONS)),
            )
        sources = options.get("sources") or {}
        if not isinstance(sources, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in sources.items()
        ):
            raise ConfigError(
                "labbook 'sources' must map names to URIs, e.g. `local: runs`", file=config_file
            )
        max_points = options.get("max_points", DEFAULT_MAX_POINTS)
        if not isinstance(max_points, int) or max_points < 10:
            raise ConfigError("labbook 'max_points' must be an integer >= 10", file=config_file)
        return cls(
            sources=dict(sources),
            notebook=bool(options.get("notebook", False)),
            max_points=max_points,
        )


def plugin_options(config: dict[str, Any]) -> Any:
    """Gives the labbook entry's options from mkdocs.yml's `plugins` list (None if absent)."""
    plugins = config.get("plugins") or []
    if isinstance(plugins, dict):
        return plugins.get("labbook")
    for entry in plugins:
        if isinstance(entry, dict) and "labbook" in entry:
            return entry["labbook"]
        if entry == "labbook":
            return {}
    return None


class Project:
    """The folder holding mkdocs.yml: where reports live and which sources they read."""

    def __init__(self, config_file: Path, settings: LabbookSettings, config: dict[str, Any]):
        self.config_file = config_file.resolve()
        self.root = self.config_file.parent
        self.settings = settings
        self.config = config
        self.docs_dir = (self.root / str(config.get("docs_dir", "docs"))).resolve()
        self._sources: dict[str, Source] | None = None
        self.source_errors: list[LabbookError] = []

    @classmethod
    def load(cls, config_file: str | Path = "mkdocs.yml") -> Project:
        """Gives the project whose mkdocs.yml is `config_file`."""
        path = Path(config_file)
        if not path.exists():
            raise ConfigError(
                f"no {path.name} found in {path.resolve().parent}",
                hint="run labbook in the folder holding mkdocs.yml, pass -f PATH, "
                "or create a project with `labbook init`",
            )
        config = read_yaml_file(path)
        if not isinstance(config, dict):
            raise ConfigError("mkdocs.yml must be a mapping", file=path)
        settings = LabbookSettings.from_mapping(plugin_options(config), path)
        return cls(path, settings, config)

    @classmethod
    def from_settings(cls, config_file: Path, settings: LabbookSettings, docs_dir: Path) -> Project:
        """Gives a project for already-validated settings (the MkDocs plugin's path)."""
        project = cls(config_file, settings, {"docs_dir": str(docs_dir)})
        project.docs_dir = docs_dir.resolve()
        return project

    @property
    def sources(self) -> dict[str, Source]:
        """Gives name -> Source for every configured source that opens; failures are kept."""
        if self._sources is None:
            self._sources = {}
            for name, uri in self.settings.sources.items():
                try:
                    self._sources[name] = open_source(uri, name=name, base_dir=self.root)
                except LabbookError as exc:
                    exc.located(file=self.config_file)
                    self.source_errors.append(exc)
        return self._sources

    @property
    def default_source(self) -> str | None:
        return next(iter(self.settings.sources), None)

    def reports(self) -> list[Path]:
        """Gives every Markdown file under docs_dir, sorted."""
        return sorted(p for p in self.docs_dir.rglob("*.md") if p.is_file())
