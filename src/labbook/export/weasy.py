"""WeasyPrint, imported without the 50-odd processes its library lookup starts on Linux.

WeasyPrint opens Pango, HarfBuzz, fontconfig and GObject through cffi, trying several
names for each: the Windows and macOS names first, the Linux soname
(`libpango-1.0.so.0`) later. For every name dlopen cannot open, cffi asks
`ctypes.util.find_library`, which on Linux runs `ldconfig -p`, then `gcc`, then `ld`:
about 54 processes and 0.3 s of a 0.7 s import on this machine (measured with
cProfile: `fork_exec` 54 calls), paid by every `labbook pdf`. While WeasyPrint loads,
`find_library` answers "not found" at once, so cffi moves on to the soname, which
dlopen opens directly from the loader's own paths. That is Linux only: on macOS the
Homebrew libraries are found through `find_library` and `DYLD_FALLBACK_LIBRARY_PATH`.
If a library is only reachable through the real lookup (a soname dlopen cannot see),
the import is tried again the ordinary way, so the shortcut never costs a working setup.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from types import ModuleType

from .figures import ExportError


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
