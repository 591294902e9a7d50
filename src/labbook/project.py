"""A labbook project: mkdocs.yml, its labbook plugin settings, and the sources they name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from mkdocs.config import config_options as c
from mkdocs.config.base import BaseConfigOption, Config, ValidationError

from .errors import ConfigError, LabbookError
from .goals import GOAL_MODES

if TYPE_CHECKING:
    from .snapshots import SourceSnapshot
    from .sources.base import Source

DEFAULT_MAX_POINTS = 1500


@dataclass(frozen=True)
class SourceSpec:
    """One configured source: its URI and the options its constructor takes (`timeout`)."""

    uri: str
    options: Mapping[str, Any] = field(default_factory=dict)


class _Sources(BaseConfigOption[dict[str, SourceSpec]]):
    """`sources:` maps names to a URI, or to `{uri: URI, timeout: SECONDS, ...}`."""

    def run_validation(self, value: object) -> dict[str, SourceSpec]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValidationError("must map source names to URIs, e.g. `local: runs`")
        specs: dict[str, SourceSpec] = {}
        for name, entry in value.items():
            if not isinstance(name, str) or not name:
                raise ValidationError(f"source name {name!r} must be text")
            if isinstance(entry, Mapping):
                options = {str(k): v for k, v in entry.items()}
                uri = options.pop("uri", None)
            else:
                uri, options = entry, {}
            if uri is None:
                raise ValidationError(
                    f"source {name!r} has no URI (an !ENV variable that is not set, and no "
                    "default?); write `NAME: URI` or `NAME: {uri: URI, timeout: 30}`"
                )
            if not isinstance(uri, str | int | float) or isinstance(uri, bool):
                raise ValidationError(f"source {name!r}: the URI must be text, not {uri!r}")
            timeout = options.get("timeout")
            if timeout is not None and (
                isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
            ):
                raise ValidationError(
                    f"source {name!r}: 'timeout' must be a number of seconds > 0, not {timeout!r}"
                )
            specs[name] = SourceSpec(str(uri), options)
        return specs


class _MaxPoints(c.Type[int]):
    def run_validation(self, value: object) -> int:
        number = super().run_validation(value)
        if isinstance(number, bool) or number < 10:
            raise ValidationError("must be an integer >= 10")
        return number


class _Goals(BaseConfigOption[dict[str, str]]):
    """`goals:` maps metric keys to `min` or `max` (see `labbook.goals`)."""

    def run_validation(self, value: object) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValidationError("must map metric keys to min or max, e.g. `{rmse: min}`")
        goals: dict[str, str] = {}
        for key, mode in value.items():
            if not isinstance(key, str) or not key.strip():
                raise ValidationError(f"metric key {key!r} must be text")
            if mode not in GOAL_MODES:
                raise ValidationError(f"{key}: the goal must be min or max, not {mode!r}")
            goals[key.strip()] = str(mode)
        return goals


NOTEBOOK_MODES = ("off", "cited", "all")


class _Notebook(BaseConfigOption[str]):
    """`notebook:` is false (no lab notebook), true (pages for the runs reports use) or all.

    Kept as a mode word: "off", "cited" (`true`) or "all" (every run of every source).
    """

    def run_validation(self, value: object) -> str:
        if value is None or value is False:
            return "off"
        if value is True:
            return "cited"
        if value == "all":
            return "all"
        raise ValidationError(
            f"must be true, false or all, not {value!r} (true: a page per run the reports use;"
            " all: a page per run of every source)"
        )


class LabbookConfig(Config):  # type: ignore[no-untyped-call]
    """The labbook plugin's options: declared once, for the MkDocs plugin and the CLI alike."""

    sources = _Sources()
    notebook = _Notebook()
    max_points = _MaxPoints(int, default=DEFAULT_MAX_POINTS)
    enabled = c.Type(bool, default=True)
    goals = _Goals()
    cache = c.Type(bool, default=True)


OPTION_NAMES = ("sources", "notebook", "max_points", "enabled", "goals", "cache")


def validate_options(options: Mapping[str, Any], config_file: Path) -> LabbookConfig:
    """Gives the plugin's options validated as MkDocs validates them; an unknown one is an error.

    MkDocs only warns about an unknown plugin option; labbook refuses it, because a
    misspelt `max_pionts` silently keeping its default is a wrong answer.
    """
    config = LabbookConfig(config_file_path=str(config_file))
    config.load_dict(dict(options))
    errors, warnings = config.validate()
    problems = [(key, f"labbook option {key!r}: {error}") for key, error in errors]
    problems += [
        (key, f"unknown labbook option {key!r}")
        for key, _warning in warnings
        if key not in OPTION_NAMES
    ]
    if problems:
        first = problems[0][0]
        raise ConfigError(
            "; ".join(text for _, text in problems),
            file=config_file,
            line=_option_line(config_file, first),
            hint="valid options: " + ", ".join(OPTION_NAMES),
        )
    return config


def _option_line(config_file: Path, key: str) -> int | None:
    """Gives the line of a labbook option in mkdocs.yml (else the plugin's), when found."""
    try:
        lines = config_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    plugin = next(
        (i for i, line in enumerate(lines) if line.strip().lstrip("- ").startswith("labbook")),
        None,
    )
    if plugin is None:
        return None
    for i in range(plugin + 1, len(lines)):
        if lines[i].strip().startswith(f"{key}:"):
            return i + 1
    return plugin + 1


@dataclass
class LabbookSettings:
    """The labbook plugin's options from mkdocs.yml, validated."""

    sources: dict[str, SourceSpec] = field(default_factory=dict)
    notebook: str = "off"  # "off", "cited" (`notebook: true`) or "all"; see NOTEBOOK_MODES
    max_points: int = DEFAULT_MAX_POINTS
    goals: dict[str, str] = field(default_factory=dict)  # metric key -> "min" | "max"
    cache: bool = True  # read sources through the run cache under .labbook/cache/runs

    @classmethod
    def from_config(cls, config: LabbookConfig) -> LabbookSettings:
        """Gives the settings of an already-validated plugin config."""
        return cls(
            sources=dict(config["sources"]),
            notebook=str(config["notebook"]),
            max_points=int(config["max_points"]),
            goals=dict(config["goals"]),
            cache=bool(config["cache"]),
        )

    @classmethod
    def from_mapping(cls, options: Any, config_file: Path) -> LabbookSettings:
        """Gives the settings of the plugin's raw options from mkdocs.yml."""
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            raise ConfigError("the labbook plugin's options must be a mapping", file=config_file)
        return cls.from_config(validate_options(options, config_file))


def read_mkdocs_yml(path: Path) -> dict[str, Any]:
    """Gives mkdocs.yml as MkDocs reads it: `!ENV`, `!relative` and `INHERIT` resolved."""
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.exceptions import ConfigurationError
    from mkdocs.utils.yaml import get_yaml_loader, yaml_load

    try:
        with path.open("rb") as handle:
            loaded = yaml_load(handle, get_yaml_loader(config=MkDocsConfig(str(path))))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", file=path) from exc
    except ConfigurationError as exc:
        cause = exc.__context__
        mark = getattr(cause, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(cause, "problem", None) or str(exc)
        raise ConfigError(f"bad YAML: {problem}", file=path, line=line) from exc
    except (yaml.YAMLError, ValueError, ImportError) as exc:
        raise ConfigError(f"mkdocs.yml cannot be read: {exc}", file=path) from exc
    return loaded


def plugin_options(config: Mapping[str, Any]) -> Any:
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
        # Name -> why it would not open, so a report using it says so at its own line.
        self.failed_sources: dict[str, LabbookError] = {}
        # "prefer" snapshots where they answer, "refresh" from the trackers, or "offline".
        self.data_mode = "prefer"
        # Read sources through the run cache under .labbook/cache (`cache: false` in
        # mkdocs.yml turns it off).
        self.cache = settings.cache

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
        config = read_mkdocs_yml(path)
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
            for name in self.settings.sources:
                try:
                    self._sources[name] = self.open(name)
                except LabbookError as exc:
                    exc.located(file=self.config_file)
                    self.source_errors.append(exc)
                    self.failed_sources[name] = exc
        return self._sources

    def open(self, name: str) -> Source:
        """Opens one configured source, read through the run cache unless `cache` is off."""
        from .sources.base import open_source

        spec = self.settings.sources[name]
        source = open_source(spec.uri, name=name, base_dir=self.root, **spec.options)
        if not self.cache:
            return source
        from .sources.cached import CachedSource, source_folder

        folder = source_folder(self.root, name, source.uri)
        return CachedSource(source, folder, read=self.data_mode != "refresh")

    def flush_cache(self) -> None:
        """Writes what this build added to the run cache."""
        from .sources.cached import CachedSource

        for source in (self._sources or {}).values():
            if isinstance(source, CachedSource):
                source.flush()

    def snapshots(self) -> dict[str, SourceSnapshot]:
        """Gives each configured source's snapshot under .labbook/snapshots (those that have one).

        A snapshot that cannot be read is a problem of the build, and its source is read
        from the tracker instead.
        """
        from .runrecord import file_name
        from .snapshots import SourceSnapshot, snapshot_root

        out: dict[str, SourceSnapshot] = {}
        root = snapshot_root(self.root)
        if not root.is_dir():
            return out
        for name in self.settings.sources:
            try:
                found = SourceSnapshot.load(root / file_name(name), name)
            except LabbookError as exc:
                self.source_errors.append(exc)
                continue
            if found is not None:
                out[name] = found
        return out

    def replace_source(self, name: str, source: Source) -> None:
        """Puts a re-opened source in place of the one of that name (live preview)."""
        self.sources[name] = source
        self.failed_sources.pop(name, None)

    @property
    def default_source(self) -> str | None:
        return next(iter(self.settings.sources), None)

    def reports(self) -> list[Path]:
        """Gives every Markdown file under docs_dir, sorted."""
        return sorted(p for p in self.docs_dir.rglob("*.md") if p.is_file())
