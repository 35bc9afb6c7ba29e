"""Cost of handing crmcore a polars or pyarrow table: the conversion options, timed.

crmcore converts other libraries' tables to pandas once, in ``_frames.require_frame``. This
script times the candidate conversions of one transactions-like table (int64 ids, datetime
dates, float amounts, a text column) and prints the best of three runs of each, with the
dtypes it produces::

    python benchmarks/bench_inputs.py            # 10 million rows (about 2 GB of memory)
    python benchmarks/bench_inputs.py 1000000

The library uses pyarrow's ``Table.to_pandas(split_blocks=True, date_as_object=False)``
(``crmcore._interchange``): numbers and dates without nulls come over without a copy, text
becomes pandas' Arrow-backed ``str``, and the result has the dtypes a pandas user has.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def _table(n: int) -> Any:
    import polars as pl

    rng = np.random.default_rng(0)
    days = rng.integers(0, 1500, n).astype("timedelta64[D]")
    return pl.DataFrame(
        {
            "customer_id": rng.integers(0, 1_000_000, n),
            "date": (np.datetime64("2020-01-01") + days).astype("datetime64[us]"),
            "amount": rng.random(n) * 100,
            "stage": rng.choice(["prospect", "bid", "negotiation", "won", "lost"], n),
        }
    )


def _best(func: Callable[[], pd.DataFrame], repeat: int = 3) -> tuple[float, pd.DataFrame]:
    best, out = float("inf"), pd.DataFrame()
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(n: int) -> None:
    """Print one line per conversion: seconds (best of 3) and the dtypes it gives."""
    import importlib.util

    import pyarrow as pa

    from crmcore._interchange import arrow_to_pandas

    frame = _table(n)
    table = frame.to_arrow()
    options: dict[str, Callable[[], pd.DataFrame]] = {
        "polars: DataFrame.to_pandas()": frame.to_pandas,
        "polars: to_pandas(use_pyarrow_extension_array=True)": lambda: frame.to_pandas(
            use_pyarrow_extension_array=True
        ),
        "pandas: api.interchange.from_dataframe(frame)": lambda: pd.api.interchange.from_dataframe(
            frame
        ),
        "crmcore: polars -> to_arrow() -> arrow_to_pandas": lambda: arrow_to_pandas(
            frame.to_arrow()
        ),
        "pyarrow: Table.to_pandas()": table.to_pandas,
        "pyarrow: Table.to_pandas(types_mapper=pd.ArrowDtype)": lambda: table.to_pandas(
            types_mapper=pd.ArrowDtype
        ),
        "crmcore: pyarrow Table -> arrow_to_pandas": lambda: arrow_to_pandas(table),
        "crmcore: Arrow stream (pa.table(frame)) -> arrow_to_pandas": lambda: arrow_to_pandas(
            pa.table(frame)
        ),
    }
    if importlib.util.find_spec("narwhals") is not None:  # not an extra: measured when present
        import narwhals as nw

        options["narwhals: from_native(frame).to_pandas()"] = lambda: nw.from_native(
            frame, eager_only=True
        ).to_pandas()
    print(f"{n:,} rows; best of 3 runs")
    for name, func in options.items():
        seconds, out = _best(func)
        dtypes = ", ".join(f"{c}={out[c].dtype}" for c in out.columns)
        print(f"{name:60s} {seconds:8.3f} s   {dtypes}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
