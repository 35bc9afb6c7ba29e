"""The rounding rule of minor units, in one place.

:func:`crmcore.money.to_minor_units` checks and scales amounts, then rounds them here; a pass
that checks and scales amounts itself (``close_schedule``'s streaming pass) rounds them here
too, so the rule cannot drift between the two.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["round_minor_units"]

FloatArray = npt.NDArray[np.float64]


def round_minor_units(
    scaled: FloatArray, rounding: Literal["half_even", "half_up"] = "half_up"
) -> FloatArray:
    """Round amounts already scaled to minor units into whole numbers (a new float64 array).

    The rounding rule of :func:`crmcore.money.to_minor_units`, for callers that scale and check
    amounts themselves (a streaming pass that sums whole units in float64, say): binary noise is
    removed at 6 decimals (``0.285 * 100 == 28.499999999999996``), then halves go away from
    zero (``"half_up"``) or to the even neighbour (``"half_even"``). ``scaled`` must be finite;
    the result is exact below 2**53.

    Examples
    --------
    >>> import numpy as np
    >>> round_minor_units(np.array([0.285, 0.125, -2.5]) * 100).tolist()
    [29.0, 13.0, -250.0]
    >>> round_minor_units(np.array([0.5, 1.5, 2.5]), "half_even").tolist()
    [0.0, 2.0, 2.0]
    """
    values = np.asarray(scaled, dtype=np.float64)
    out: FloatArray = np.empty_like(values)
    np.round(values, 6, out=out)
    if rounding == "half_even":
        np.rint(out, out=out)
        return out
    magnitude: FloatArray = np.abs(out)
    magnitude += 0.5
    np.floor(magnitude, out=magnitude)
    np.copysign(magnitude, out, out=magnitude)
    return magnitude
