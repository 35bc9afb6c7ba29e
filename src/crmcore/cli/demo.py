"""``python -m crmcore demo``: a report on built-in synthetic data, one section per area."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TextIO

from crmcore._demo import kpi, pipeline, quota, segmentation
from crmcore.cli._io import EXIT_OK
from crmcore.cli._options import add_command

SECTIONS: list[tuple[str, Callable[[int], str]]] = [
    ("Customer segmentation", segmentation.section),
    ("Sales pipeline", pipeline.section),
    ("Quotas", quota.section),
    ("Team performance", kpi.section),
]


def add_parser(sub: Any) -> None:
    """Add the ``demo`` command to the sub-command parsers ``sub``."""
    demo = add_command(
        sub,
        "demo",
        _run,
        help="print a report on built-in synthetic data",
        description="Print a report on built-in synthetic data: segments, ABC shares, grades, "
        "top customers, the weighted pipeline, quotas and the team scorecard.",
        examples=["--seed 3"],
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the synthetic data (0)")


def _run(args: argparse.Namespace, stream: TextIO) -> int:
    print(f"crmcore demo on synthetic data (seed {args.seed})", file=stream)
    for title, build in SECTIONS:
        print("", file=stream)
        print(title, file=stream)
        print("=" * len(title), file=stream)
        print(build(args.seed).rstrip(), file=stream)
    return EXIT_OK
