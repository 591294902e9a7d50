"""Readers of file formats that no one tracker owns: framing and wire encodings."""
