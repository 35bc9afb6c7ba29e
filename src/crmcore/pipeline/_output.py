"""Per-deal result frames of the pipeline area, built once.

A frame built from a dict of same-typed columns copies them all into one 2-D block. Here the
float columns every per-deal result has (``amount``, ``win_probability``, ``expected_amount``,
in :func:`~crmcore.pipeline.weighted_pipeline` and :func:`~crmcore.pipeline.landing_dates`)
are written straight into that block, a cache-sized chunk at a time, and the other columns
are put around it: no full-length temporaries, no second copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore.money import from_minor_units

__all__ = ["weighted_frame"]

#: Rows per pass when converting minor units into the block (temporaries stay cache-sized).
_CHUNK = 1 << 16


def weighted_frame(
    front: dict[str, Any],
    index: pd.Index,
    *,
    cents: npt.NDArray[np.int64],
    probability: npt.NDArray[np.float64],
    expected: npt.NDArray[np.int64],
    decimals: int,
    after: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Return ``front``'s columns, then ``amount``, ``win_probability``, ``expected_amount``.

    ``cents`` and ``expected`` are minor units, converted with
    :func:`crmcore.money.from_minor_units`; ``after`` columns (if any) come last.
    """
    n = len(index)
    block = np.empty((3, n), dtype=np.float64)
    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        block[0, lo:hi] = from_minor_units(cents[lo:hi], decimals)
        block[2, lo:hi] = from_minor_units(expected[lo:hi], decimals)
    block[1] = probability
    out = pd.DataFrame(
        block.T, index=index, columns=["amount", "win_probability", "expected_amount"], copy=False
    )
    for position, (name, values) in enumerate(front.items()):
        out.insert(position, name, values)
    for name, values in (after or {}).items():
        out[name] = values
    return out
