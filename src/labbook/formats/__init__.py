"""Readers of formats no tracker owns: TFRecord framing, the W&B log, an HTTP JSON transport."""
