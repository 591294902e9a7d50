"""WeasyPrint, imported fast; and covers rendered in a process of their own.

Importing: WeasyPrint opens Pango, HarfBuzz, fontconfig and GObject through cffi,
trying several names for each: the Windows and macOS names first, the Linux soname
(`libpango-1.0.so.0`) later. For every name dlopen cannot open, cffi asks
`ctypes.util.find_library`, which on Linux runs `ldconfig -p`, then `gcc`, then `ld`:
about 54 processes and 0.3 s of a 0.7 s import on this machine (cProfile: 54
`fork_exec` calls), paid by every `labbook pdf`. While WeasyPrint loads, `find_library`
answers "not found" at once, so cffi moves on to the soname, which dlopen opens from
the loader's own paths. That is Linux only: on macOS the Homebrew libraries are found
through `find_library` and `DYLD_FALLBACK_LIBRARY_PATH`. If a library is only
reachable through the real lookup, the import is tried again the ordinary way.

Covers: when a report's PDF is kept (pdfcache.py), only its cover is rendered, but
WeasyPrint's import and first render cost about 0.7 s of CPU whatever the document.
`CoverPrinter` runs this file as a script (by path, not `-m`: that would import the
labbook package, numpy and all) to render them on the machine's other core while this
process reads the kept PDFs. This file imports nothing from labbook at its top for that
reason.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any


def import_weasyprint() -> ModuleType:
    """Gives the weasyprint module, imported fast where the platform allows; an ExportError."""
    if "weasyprint" not in sys.modules and sys.platform.startswith("linux"):
        try:
            # WeasyPrint prints a troubleshooting text before it raises: not for this try.
            with _no_library_search(), contextlib.redirect_stdout(io.StringIO()):
                import weasyprint
            return sys.modules["weasyprint"]
        except OSError:
            for name in [
                m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")
            ]:
                del sys.modules[name]
    try:
        import weasyprint  # noqa: F401
    except ImportError as exc:
        from .figures import ExportError

        raise ExportError(
            "writing PDFs needs WeasyPrint", hint="install it with: pip install 'labbook[pdf]'"
        ) from exc
    return sys.modules["weasyprint"]


@contextlib.contextmanager
def _no_library_search() -> Iterator[None]:
    import ctypes.util

    original = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        yield
    finally:
        ctypes.util.find_library = original


def one_page_pdf(weasyprint: ModuleType, html: str, base_url: str) -> bytes | None:
    """Gives the PDF of a document that fits on one page; None when it takes more."""
    rendered = weasyprint.HTML(string=html, base_url=base_url).render()
    if len(rendered.pages) != 1:
        return None
    data: bytes = rendered.write_pdf()
    return data


class CoverPrinter:
    """One-page documents (covers) rendered by WeasyPrint in a process of its own."""

    def __init__(self, documents: Sequence[tuple[str, str]]) -> None:
        """Starts rendering each (html, base_url); `results` waits for them."""
        self._process = subprocess.Popen(
            # -P: the script's folder (this package's modules) is not put on sys.path.
            [sys.executable, "-P", __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._process.stdin is not None
        # The script reads all of its input before importing WeasyPrint: this never blocks long.
        self._process.stdin.write(json.dumps(list(documents)).encode())
        self._process.stdin.close()
        self._count = len(documents)
        self._results: list[bytes | None] | None = None

    def results(self) -> list[bytes | None]:
        """Gives each document's PDF (None: more than one page, or the process failed)."""
        if self._results is None:
            assert self._process.stdout is not None
            out = self._process.stdout.read()
            self._process.wait()
            try:
                found = json.loads(out) if self._process.returncode == 0 else None
            except ValueError:
                found = None
            if not isinstance(found, list) or len(found) != self._count:
                found = [None] * self._count
            self._results = [base64.b64decode(d) if isinstance(d, str) else None for d in found]
        return self._results

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> CoverPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve() -> int:
    documents: Any = json.loads(sys.stdin.buffer.read())
    weasyprint = import_weasyprint()
    out = []
    for html, base_url in documents:
        data = one_page_pdf(weasyprint, html, base_url)
        out.append(base64.b64encode(data).decode() if data is not None else None)
    sys.stdout.write(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(_serve())
