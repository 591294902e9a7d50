"""The cover process: one-page documents rendered by WeasyPrint in a process of its own."""

from __future__ import annotations

from labbook.export.weasy import CoverPrinter


def test_covers_render_in_their_own_process_and_a_long_one_is_refused(tmp_path: object) -> None:
    short = "<!doctype html><html><body><h1>Cover</h1></body></html>"
    long = "<!doctype html><html><body>" + "<p>line</p>" * 400 + "</body></html>"
    with CoverPrinter([(short, "/tmp/"), (long, "/tmp/")]) as covers:
        one, many = covers.results()
    assert one is not None and one.startswith(b"%PDF") and many is None
