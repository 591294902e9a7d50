"""Printed reports kept by a hash of what they are made of: an unchanged report is laid out once.

Laying out a report and drawing its charts (WeasyPrint draws each chart's SVG element
by element, about 0.15 s a chart here) is most of a `labbook pdf` whose charts are
all in the figure cache. So each PDF WeasyPrint makes is kept under
`.labbook/cache/pdf/`, named by a hash of everything that decides how it looks: the
print document's HTML with the cover's readings of the clock fixed (see below), the
stylesheets (the page size is one), and the versions of labbook, WeasyPrint and
pydyf. Beside it, a manifest lists every URL WeasyPrint fetched while rendering
(the charts' SVG files, media, anything a stylesheet points at) with the hash of the
bytes it read, or that it was missing; a kept PDF whose files differ now is not used.
A document that fetched anything but local files and `data:` URLs is not kept.

The cover says when the PDF was made and when its run data was read, so it differs
in every run. When a kept PDF is found, only the cover is rendered (a page of text,
no charts) and put in place of the kept PDF's first page, with pypdf, as an
incremental update: the other pages, their links, the outline and the named
destinations point at page objects that stay where they are. That holds only when
the cover takes exactly one page, so it is checked both in the kept PDF (the page
after it holds `AFTER_COVER`) and in the fresh cover; otherwise the report is
rendered whole. "Page N of M" is unchanged because the page count is.

Not seen by the key: the fonts fontconfig finds on the machine, and a project
stylesheet that copies the cover's date into other pages (`string-set` from the
cover's dates; labbook's own sheet copies only the title and version, which the
key holds).

Designs measured and not taken (bench/README.md, PDF): simplifying Kaleido's SVG
before WeasyPrint draws it, and rendering the cover with the body every time.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit

FORMAT = 1  # raise when what write_pdfs asks of WeasyPrint changes
KEEP = 24  # kept PDFs per project, the least recently used removed first


@dataclass
class Fetched:
    """The URLs WeasyPrint asked for while rendering one document."""

    urls: list[str] = field(default_factory=list)

    def fetcher(self, weasyprint: ModuleType) -> Any:
        """Gives a url_fetcher for WeasyPrint that notes each URL, then fetches it as usual."""
        urls = weasyprint.urls
        noted = self.urls
        if hasattr(urls, "URLFetcher"):  # WeasyPrint 66 and later

            class Noting(urls.URLFetcher):  # type: ignore[name-defined,misc]
                def fetch(self, url: str, headers: Any = None) -> Any:
                    noted.append(url)
                    return super().fetch(url, headers)

            return Noting()

        def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
            noted.append(url)
            return urls.default_url_fetcher(url, *args, **kwargs)

        return fetch


class PdfCache:
    """Kept PDFs of print documents, each with the files it was rendered from."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def key(self, document: str, stylesheets: Sequence[str], versions: Sequence[str]) -> str:
        """Gives the name a document is kept under: a hash of it, its styles, the versions."""
        digest = hashlib.sha256()
        for part in (str(FORMAT), *versions, *stylesheets, document):
            data = part.encode()
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        return digest.hexdigest()[:40]

    def find(self, key: str, base_dir: Path) -> bytes | None:
        """Gives the kept PDF under key when every file it was rendered from is unchanged."""
        if self.folder is None:
            return None
        try:
            manifest = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            files = manifest["files"]
            for url, digest in files:
                if _file_digest(_url_of(url, base_dir)) != digest:
                    return None
            data = (self.folder / f"{key}.pdf").read_bytes()
        except (OSError, ValueError, KeyError, TypeError):
            return None
        try:
            os.utime(self.folder / f"{key}.json")  # recently used: pruned last
        except OSError:
            pass
        return data

    def keep(self, key: str, pdf: bytes, fetched: Fetched, base_dir: Path) -> None:
        """Keeps a PDF under key with the hashes of the files it fetched; nothing if it fetched
        from elsewhere than local files. A cache that cannot be written costs time only."""
        if self.folder is None:
            return
        files: list[tuple[str, str | None]] = []
        for url in dict.fromkeys(fetched.urls):
            scheme = urlsplit(url).scheme
            if scheme == "data":
                continue  # the bytes are in the document, so in the key
            if scheme != "file":
                return
            files.append((_relative_url(url, base_dir), _file_digest(url)))
        manifest = json.dumps({"files": files}).encode()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write(self.folder / f"{key}.pdf", pdf)
            _write(self.folder / f"{key}.json", manifest)  # last: a manifest means a whole PDF
            self._prune()
        except OSError:
            pass

    def _prune(self) -> None:
        assert self.folder is not None
        kept = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for manifest in kept[KEEP:]:
            manifest.unlink(missing_ok=True)
            manifest.with_suffix(".pdf").unlink(missing_ok=True)


class KeptPdf:
    """A kept PDF opened for a new first page (pypdf, incremental: the rest is not rewritten)."""

    def __init__(self, data: bytes) -> None:
        from pypdf import PdfWriter

        self._writer = PdfWriter(io.BytesIO(data), incremental=True)

    def with_cover(self, cover: bytes) -> bytes | None:
        """Gives the kept PDF with its first page drawn as the cover PDF's only page.

        None when that cannot be done faithfully: a page count other than one in the
        cover, or links on either first page.
        """
        from pypdf import PdfReader
        from pypdf.generic import NameObject

        new = PdfReader(io.BytesIO(cover))
        if len(new.pages) != 1:
            return None
        writer = self._writer
        first, fresh = writer.pages[0], new.pages[0]
        if "/Annots" in first or "/Annots" in fresh:
            return None
        for name in [n for n in first if n not in ("/Type", "/Parent")]:
            del first[name]
        for name, value in fresh.items():
            if name not in ("/Type", "/Parent"):
                first[NameObject(name)] = value.clone(writer)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()


def with_cover(kept: bytes, cover: bytes) -> bytes | None:
    """Gives the kept PDF with the cover PDF's only page first; None where KeptPdf says."""
    return KeptPdf(kept).with_cover(cover)


def _relative_url(url: str, base_dir: Path) -> str:
    """Gives a file URL as kept: relative to the document's base folder when inside it."""
    path = Path(unquote(urlsplit(url).path))
    try:
        return "base:" + path.relative_to(base_dir).as_posix()
    except ValueError:
        return url


def _url_of(kept: str, base_dir: Path) -> str:
    if kept.startswith("base:"):
        return (base_dir / kept.removeprefix("base:")).as_uri()
    return kept


def _file_digest(url: str) -> str | None:
    """Gives the sha256 of the file a file URL names; None when it cannot be read."""
    try:
        data = Path(unquote(urlsplit(url).path)).read_bytes()
    except OSError:
        return None
    return hashlib.sha256(data).hexdigest()


def _write(target: Path, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
        handle.write(data)
    os.replace(handle.name, target)
