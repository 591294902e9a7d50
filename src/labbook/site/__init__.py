"""Outputs for the web: the MkDocs plugin, the Zensical driver, and the assets both ship."""
