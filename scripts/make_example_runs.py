"""Regenerates the example lab book's runs in <repo>/runs/ (deterministic, byte for byte).

uv run python scripts/make_example_runs.py            # writes <repo>/runs/
uv run python scripts/make_example_runs.py --out DIR  # writes elsewhere
"""

from __future__ import annotations

import argparse
from pathlib import Path

from labbook.example_runs import write_example_runs

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "runs"

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args()
    ids = write_example_runs(args.out)
    print(f"wrote {len(ids)} runs to {args.out}")
