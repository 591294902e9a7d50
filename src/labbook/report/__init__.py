"""The report pipeline: parse a Markdown report, resolve its runs, render expressions and blocks."""

from .compile import CompiledPage, compile_report

__all__ = ["CompiledPage", "compile_report"]
