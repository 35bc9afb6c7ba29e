"""Benchmark inputs: seeded generators, written once per size as Parquet files.

Every engine of a measurement reads the same Parquet file into its own native form before the
clock starts (``benchmarks/_harness.py``), so an input is generated once per size and kept in
the data directory (``benchmarks/results/data`` by default; the file name carries the
generator's version, so a changed generator never reuses a stale file).

``transactions`` is the summary benchmark's log and reproduces the reference harness's
``gen_transactions.py`` exactly (same seed, same draws in the same order, so the same table):
sparse int64 customer ids, Pareto-like purchase counts, an acquisition time and an exponential
active life per customer, times of day, lognormal amounts in cents, rows sorted by date like an
append-only export. ``tests/test_benchmarks.py`` checks it against a recorded checksum and,
when the shared harness is found beside the checkout, against its generator.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
from _params import PIPELINE_AS_OF, SCORECARD_PERIODS, SIM_STAGES

DATA_VERSION = 1
#: Inputs whose generator changed since DATA_VERSION (a cached file of an older version is not
#: read). ``deals`` is drawn by ``crmcore.datasets.opportunities``: bump it when that changes
#: its columns (2: ``owner`` became ``person`` and ``closed_at`` joined).
VERSIONS: dict[str, int] = {"deals": 2}
START = np.datetime64("2022-01-01T00:00:00", "s")
DAY_SECONDS = 86_400


def transactions_columns(
    n_rows: int, n_customers: int, seed: int = 42, days: int = 1096
) -> dict[str, npt.NDArray[np.generic]]:
    """The transaction log as numpy columns: ``customer_id``, ``date`` (ns), ``amount``.

    Draw order (it defines the table): customer ids without replacement from
    ``10 * n_customers`` values, offset by 10**6; Pareto(1.2) weights and a multinomial share
    of the rows beyond one per customer; acquisition second, exponential life (mean 365 days,
    truncated to whole seconds) and a normal log-scale per customer; then per row a uniform
    position between acquisition and end of life (0 for the customer's first row, which is the
    acquisition) and a lognormal amount rounded to cents (at least 0.01). Rows are finally put
    in date order by a stable sort.
    """
    if not 1 <= n_customers <= n_rows:
        raise ValueError(f"need 1 <= n_customers <= n_rows, got {n_customers} and {n_rows}")
    rng = np.random.default_rng(seed)
    span = days * DAY_SECONDS
    ids = rng.choice(10 * n_customers, size=n_customers, replace=False).astype(np.int64)
    ids += 1_000_000
    weights = rng.pareto(1.2, size=n_customers) + 1.0
    per_customer = rng.multinomial(n_rows - n_customers, weights / weights.sum()) + 1
    acquired = rng.integers(0, span, size=n_customers)
    life = rng.exponential(365 * DAY_SECONDS, size=n_customers).astype(np.int64)
    last = np.minimum(acquired + life, span - 1)
    log_scale = rng.normal(3.0, 0.5, size=n_customers)

    owner = np.repeat(np.arange(n_customers), per_customer)
    starts = np.concatenate(([0], np.cumsum(per_customer)[:-1]))
    position = rng.random(n_rows)
    position[starts] = 0.0
    begin = acquired[owner]
    seconds = begin + (position * (last[owner] - begin)).astype(np.int64)
    amount = np.maximum(np.round(rng.lognormal(log_scale[owner], 0.8), 2), 0.01)

    order = np.argsort(seconds, kind="stable")
    return {
        "customer_id": ids[owner][order],
        "date": (START + seconds[order].astype("timedelta64[s]")).astype("datetime64[ns]"),
        "amount": amount[order].astype(np.float64),
    }


def transactions_table(n_rows: int, n_customers: int, seed: int = 42) -> pa.Table:
    """:func:`transactions_columns` as an Arrow table (int64, timestamp[ns], float64)."""
    cols = transactions_columns(n_rows, n_customers, seed)
    return pa.table(
        {
            "customer_id": pa.array(cols["customer_id"], type=pa.int64()),
            "date": pa.array(cols["date"], type=pa.timestamp("ns")),
            "amount": pa.array(cols["amount"], type=pa.float64()),
        }
    )


def table_digest(table: pa.Table) -> str:
    """SHA-256 of a table's column names, types and values (independent of file encoding)."""
    digest = hashlib.sha256()
    for name, column in zip(table.column_names, table.columns, strict=True):
        digest.update(f"{name}:{column.type};".encode())
        for chunk in column.chunks:
            digest.update(np.ascontiguousarray(chunk.to_numpy(zero_copy_only=False)).tobytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------- other inputs


def _summary(n: int) -> pa.Table:
    """A per-customer RFM summary of ``n`` customers (what rfm_summary returns)."""
    rng = np.random.default_rng(3)
    return pa.table(
        {
            "customer_id": np.arange(1, n + 1, dtype=np.int64),
            "recency": rng.integers(0, 730, n),
            "frequency": 1 + rng.poisson(2.0, n),
            "monetary": rng.lognormal(5.0, 1.0, n).round(2),
        }
    )


def _scores(n: int) -> pa.Table:
    rng = np.random.default_rng(4)
    cols = {k: rng.integers(1, 6, n) for k in ("r_score", "f_score", "m_score")}
    return pa.table({"customer_id": np.arange(1, n + 1, dtype=np.int64), **cols})


def _values(n: int) -> pa.Table:
    rng = np.random.default_rng(5)
    return pa.table(
        {
            "customer_id": np.arange(1, n + 1, dtype=np.int64),
            "monetary": rng.lognormal(5.0, 1.5, n),
            "potential": rng.lognormal(6.0, 1.0, n),
        }
    )


def _weights(n: int) -> pa.Table:
    rng = np.random.default_rng(6)
    return pa.table({"i": np.arange(n, dtype=np.int64), "w": rng.lognormal(0.0, 1.0, n)})


def _deals(n: int) -> pa.Table:
    """Open deals (four stages, 15 % without close date, 10 % overdue)."""
    from crmcore.datasets import opportunities

    frame = opportunities(n, seed=1, as_of=PIPELINE_AS_OF, open_share=1.0)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _open_deals(n: int) -> pa.Table:
    """``n // 100`` open deals in three stages (the simulation runs 1 000 draws of each)."""
    k = max(1, n // 100)
    rng = np.random.default_rng(0)
    return pa.table(
        {
            "opportunity_id": np.arange(1, k + 1, dtype=np.int64),
            "stage": np.asarray(SIM_STAGES, dtype=object)[rng.integers(0, 3, k)],
            "amount": np.round(rng.lognormal(10.0, 1.0, k), 2),
        }
    )


def _team(n: int) -> pa.Table:
    """People-periods: ``n // 100`` people x 100 periods, one column per scorecard metric."""
    rng = np.random.default_rng(0)
    people = max(1, n // SCORECARD_PERIODS)
    k = people * SCORECARD_PERIODS
    return pa.table(
        {
            "period": np.repeat(np.arange(SCORECARD_PERIODS), people),
            "person": np.tile(np.arange(people), SCORECARD_PERIODS),
            "attainment": rng.gamma(4.0, 0.25, k),
            "win_rate": rng.beta(3, 5, k),
            "deal_size": rng.lognormal(8, 0.7, k).round(2),
            "cycle_days": rng.gamma(2.0, 20.0, k).round(),
            "activities": rng.poisson(100, k).astype(float),
            "feedback": rng.integers(1, 6, k).astype(float),
            "rating": rng.integers(1, 6, k).astype(float),
        }
    )


def _won_deals(n: int) -> pa.Table:
    """Won deals of 1 000 people over 2024, 3 % cancelled 5 to 90 days after closing."""
    rng = np.random.default_rng(0)
    day = np.timedelta64(1, "D")
    closed = np.datetime64("2024-01-01", "ns") + rng.integers(0, 365, n) * day
    cancel = rng.random(n) < 0.03
    cancelled = closed + rng.integers(5, 90, n) * day
    return pa.table(
        {
            "person": rng.integers(0, 1000, n),
            "opportunity_id": np.arange(n, dtype=np.int64),
            "closed_at": closed,
            "amount": rng.lognormal(8, 0.8, n).round(2),
            "cancelled_at": pa.array(cancelled, type=pa.timestamp("ns"), mask=~cancel),
        }
    )


def _segment_lookup(n: int) -> pa.Table:
    """The 125 (R, F, M) score combinations and their segment under the default map."""
    import pandas as pd

    from crmcore.segmentation import rfm_segments

    grid = np.array(np.meshgrid(*[np.arange(1, 6)] * 3, indexing="ij")).reshape(3, -1).T
    named = rfm_segments(pd.DataFrame(grid, columns=["r_score", "f_score", "m_score"]))
    return pa.Table.from_pandas(named.assign(segment=named["segment"].astype(str)))


# --------------------------------------------------------------------------- customer futures

#: Fader, Hardie & Lee (2005), CDNOW, weeks: (r, alpha, a, b) of BG/NBD.
BG_NBD = (0.243, 4.414, 0.793, 2.426)
#: (r, alpha, s, beta) of Pareto/NBD, the same customers' published fit.
PARETO = (0.55, 10.58, 0.61, 11.67)
#: Customers per size row for the CLV fit steps, and the fewest (a tiny size still fits).
BG_NBD_ROWS_PER_CUSTOMER = 50
PARETO_ROWS_PER_CUSTOMER = 200
MIN_CUSTOMERS = 300


def _times(rng: np.random.Generator, n: int, t_max: float, dated: bool) -> npt.NDArray[np.float64]:
    t = rng.uniform(1.0, t_max, n)
    return np.round(t * 7) / 7 if dated else t


def bg_nbd_columns(n: int, seed: int = 0, dated: bool = False) -> dict[str, npt.NDArray[Any]]:
    """(frequency, recency, T) of ``n`` customers drawn from the BG/NBD model, in weeks.

    Poisson purchases and a drop-out chance after each; continuous times (``dated``: on a day
    grid, days / 7, as ``btyd_summary`` gives for real dates).
    """
    rng = np.random.default_rng(seed)
    r, alpha, a, b = BG_NBD
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    big_t = _times(rng, n, 78.0, dated)
    x = np.zeros(n)
    last = np.zeros(n)
    clock = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        clock = clock + rng.exponential(1 / lam)
        bought = alive & (clock <= big_t)
        x[bought] += 1
        last[bought] = clock[bought]
        alive = bought & (rng.random(n) >= p)
    if dated:
        last = np.minimum(np.round(last * 7) / 7, big_t)
    return {"frequency": x, "recency": last, "T": big_t}


def pareto_columns(n: int, seed: int = 0, dated: bool = False) -> dict[str, npt.NDArray[Any]]:
    """(frequency, recency, T) of ``n`` customers drawn from the Pareto/NBD model, in weeks."""
    rng = np.random.default_rng(seed)
    r, alpha, s, beta = PARETO
    lam = rng.gamma(r, 1 / alpha, n)
    mu = rng.gamma(s, 1 / beta, n)
    big_t = _times(rng, n, 78.0, dated)
    end = np.minimum(rng.exponential(1 / mu), big_t)
    x = rng.poisson(lam * end).astype(float)
    last = np.where(x > 0, end * rng.random(n) ** (1 / np.maximum(x, 1)), 0.0)
    if dated:
        last = np.where(x > 0, np.minimum(np.round(last * 7) / 7, big_t), 0.0)
    return {"frequency": x, "recency": last, "T": big_t}


def _bg_nbd_customers(n: int) -> pa.Table:
    return pa.table(bg_nbd_columns(max(MIN_CUSTOMERS, n // BG_NBD_ROWS_PER_CUSTOMER)))


def _pareto_customers(n: int) -> pa.Table:
    return pa.table(pareto_columns(max(MIN_CUSTOMERS, n // PARETO_ROWS_PER_CUSTOMER)))


DATASETS: dict[str, Callable[[int], pa.Table]] = {
    "segment_lookup": _segment_lookup,
    "transactions": lambda n: transactions_table(n, max(1, n // 10)),
    "summary": _summary,
    "scores": _scores,
    "values": _values,
    "weights": _weights,
    "deals": _deals,
    "open_deals": _open_deals,
    "team": _team,
    "won_deals": _won_deals,
    "bg_nbd_customers": _bg_nbd_customers,
    "pareto_customers": _pareto_customers,
}


def default_data_dir() -> Path:
    """``$CRMCORE_BENCH_DATA`` or ``benchmarks/results/data`` (ignored by git)."""
    env = os.environ.get("CRMCORE_BENCH_DATA")
    return Path(env) if env else Path(__file__).resolve().parent / "results" / "data"


def dataset_path(name: str, size: int, data_dir: Path) -> Path:
    return data_dir / f"{name}-{size}-v{VERSIONS.get(name, DATA_VERSION)}.parquet"


def ensure(name: str, size: int, data_dir: Path) -> Path:
    """The Parquet file of input ``name`` at ``size`` rows, generated if it is not there yet."""
    if name not in DATASETS:
        raise KeyError(f"unknown input {name!r}; known: {sorted(DATASETS)}")
    path = dataset_path(name, size, data_dir)
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        pq.write_table(DATASETS[name](size), tmp, compression="zstd")
        tmp.replace(path)
    return path
