"""The benchmark steps, one entry per hot path, in the order the suite runs them.

Each area's module defines ``STEPS``, a list of :class:`_harness.Step`; add a module for a new
area and list it here (see ``benchmarks/README.md``, "Adding a step").
"""

from __future__ import annotations

from _harness import Step

from steps import clv, kpi, pipeline, quota, segmentation

STEPS: list[Step] = [
    *segmentation.STEPS,
    *clv.STEPS,
    *pipeline.STEPS,
    *quota.STEPS,
    *kpi.STEPS,
]


def get(name: str) -> Step:
    """The step called ``name``."""
    for step in STEPS:
        if step.name == name:
            return step
    raise KeyError(f"unknown step {name!r}; known: {[s.name for s in STEPS]}")
