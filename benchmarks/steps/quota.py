"""Quota steps: apportioning a total over a million weights (largest remainder, divisor)."""

from __future__ import annotations

from typing import Any

from _harness import Goal, Step

from steps._engines import crmcore, duckdb, polars

TOTAL = 10**9


def _weights(frame: Any) -> Any:
    return frame["w"].to_numpy()


def _crm_hamilton(w: Any) -> Any:
    from crmcore.quota import apportion

    return apportion(TOTAL, w, "hamilton")


def _crm_webster(w: Any) -> Any:
    from crmcore.quota import apportion

    return apportion(TOTAL, w, "webster")


HAMILTON_SQL = f"""
WITH q AS (SELECT i, {TOTAL} * w / sum(w) OVER () AS q FROM a),
b AS (SELECT i, floor(q) AS base, q - floor(q) AS frac FROM q),
l AS (SELECT {TOTAL} - CAST(sum(base) AS BIGINT) AS n FROM b)
SELECT i, CAST(base AS BIGINT)
       + CAST(row_number() OVER (ORDER BY frac DESC, i) <= (SELECT n FROM l) AS BIGINT)
       AS seats
FROM b ORDER BY i
"""


def _polars_hamilton(pl: Any, df: Any) -> Any:
    q = TOTAL * pl.col("w") / pl.col("w").sum()
    b = df.lazy().with_columns(q.floor().alias("base"), (q - q.floor()).alias("frac"))
    left = TOTAL - pl.col("base").sum().cast(pl.Int64)
    rank = pl.col("frac").rank("ordinal", descending=True)
    return (
        b.select(
            "i", (pl.col("base").cast(pl.Int64) + (rank <= left).cast(pl.Int64)).alias("seats")
        )
        .sort("i")
        .collect()
    )


def _check_hamilton(ours: Any, theirs: Any, engine: str) -> None:
    import numpy as np

    from steps._engines import to_pandas

    seats = to_pandas(theirs).sort_values("i")["seats"].to_numpy()
    assert int(seats.sum()) == int(ours.sum()) == TOTAL
    # Float quotas may hand a tied unit to another weight: at most one unit apart.
    assert np.abs(seats - ours).max() <= 1


STEPS = [
    Step(
        "apportion_hamilton",
        "weights",
        "weights (total 10**9)",
        (
            crmcore(_crm_hamilton, "crmcore.quota", _weights),
            duckdb("a", HAMILTON_SQL),
            polars(_polars_hamilton),
        ),
        "floor of the quotas plus one unit to the largest remainders (float quotas, ties by "
        "position; crmcore is exact in integers)",
        _check_hamilton,
        Goal(time=1.5),
        "quota",
    ),
    Step(
        "apportion_webster",
        "weights",
        "weights (total 10**9)",
        (crmcore(_crm_webster, "crmcore.quota", _weights),),
        "divisor method (Sainte-Laguë); no SQL equivalent",
        area="quota",
    ),
]
