"""Segmentation steps: the per-customer summaries, scores, segments, ABC classes and grades."""

from __future__ import annotations

from typing import Any

from _harness import Engine, Goal, Step

from steps._engines import crmcore, duckdb, frames_close, polars

SEG = "crmcore.segmentation"
BINS = 5
QS = [k / BINS for k in range(1, BINS)]

# --------------------------------------------------------------------------- summaries

# The reference harness's query (shared/bench/anchors_rfm.py): per customer and day, then per
# customer; every column of both summaries. Kept as it is so the figures compare.
BTYD_SQL = """
WITH per_day AS (
    SELECT customer_id, CAST(date AS DATE) AS day, sum(amount) AS amt, count(*) AS n
    FROM tx
    GROUP BY customer_id, day
), per_cust AS (
    SELECT customer_id,
           min(day)           AS first_day,
           max(day)           AS last_day,
           count(*)           AS n_days,
           sum(n)             AS n_tx,
           sum(amt)           AS total_amount,
           arg_min(amt, day)  AS first_day_amount
    FROM per_day
    GROUP BY customer_id
), obs AS (SELECT CAST(max(date) AS DATE) AS obs_end FROM tx)
SELECT customer_id, first_day, last_day, n_days, n_tx, total_amount,
       total_amount / n_tx                          AS mean_amount,
       n_days - 1                                   AS frequency,
       date_diff('day', first_day, last_day)        AS recency,
       date_diff('day', first_day, obs.obs_end)     AS T,
       CASE WHEN n_days > 1
            THEN (total_amount - first_day_amount) / (n_days - 1)
            ELSE 0.0 END                            AS monetary_value
FROM per_cust, obs
"""

# rfm_summary's columns exactly: days for recency/tenure/frequency, instants for first/last.
RFM_SQL = """
WITH per_day AS (
    SELECT customer_id, CAST(date AS DATE) AS day,
           min(date) AS first_at, max(date) AS last_at, sum(amount) AS amt
    FROM tx
    GROUP BY customer_id, day
), per_cust AS (
    SELECT customer_id, count(*) AS frequency, sum(amt) AS monetary,
           min(first_at) AS first_purchase, max(last_at) AS last_purchase,
           min(day) AS first_day, max(day) AS last_day
    FROM per_day
    GROUP BY customer_id
), obs AS (SELECT CAST(max(date) AS DATE) AS obs_end FROM tx)
SELECT customer_id,
       date_diff('day', last_day, obs.obs_end)  AS recency,
       frequency, monetary, first_purchase, last_purchase,
       date_diff('day', first_day, obs.obs_end) AS tenure
FROM per_cust, obs
"""


def _crm_btyd(tx: Any) -> Any:
    from crmcore.segmentation import btyd_summary

    return btyd_summary(tx, customer="customer_id", date="date", amount="amount")


def _crm_rfm(tx: Any) -> Any:
    from crmcore.segmentation import rfm_summary

    return rfm_summary(tx, customer="customer_id", date="date", amount="amount")


def _polars_btyd(pl: Any, df: Any) -> Any:
    obs_end = df.select(pl.col("date").max().dt.date()).item()
    per_day = (
        df.lazy()
        .group_by("customer_id", pl.col("date").dt.date().alias("day"))
        .agg(amt=pl.col("amount").sum(), n=pl.len())
    )
    per_cust = per_day.group_by("customer_id").agg(
        first_day=pl.col("day").min(),
        last_day=pl.col("day").max(),
        n_days=pl.len(),
        n_tx=pl.col("n").sum(),
        total_amount=pl.col("amt").sum(),
        first_day_amount=pl.col("amt").get(pl.col("day").arg_min()),
    )
    freq = pl.col("n_days") - 1
    return per_cust.select(
        "customer_id",
        "first_day",
        "last_day",
        "n_days",
        "n_tx",
        "total_amount",
        mean_amount=pl.col("total_amount") / pl.col("n_tx"),
        frequency=freq,
        recency=(pl.col("last_day") - pl.col("first_day")).dt.total_days(),
        T=(pl.lit(obs_end) - pl.col("first_day")).dt.total_days(),
        monetary_value=pl.when(freq > 0)
        .then((pl.col("total_amount") - pl.col("first_day_amount")) / freq)
        .otherwise(0.0),
    ).collect()


def _polars_rfm(pl: Any, df: Any) -> Any:
    obs_end = df.select(pl.col("date").max().dt.date()).item()
    per_day = (
        df.lazy()
        .group_by("customer_id", pl.col("date").dt.date().alias("day"))
        .agg(
            first_at=pl.col("date").min(),
            last_at=pl.col("date").max(),
            amt=pl.col("amount").sum(),
        )
    )
    return (
        per_day.group_by("customer_id")
        .agg(
            frequency=pl.len(),
            monetary=pl.col("amt").sum(),
            first_purchase=pl.col("first_at").min(),
            last_purchase=pl.col("last_at").max(),
            first_day=pl.col("day").min(),
            last_day=pl.col("day").max(),
        )
        .select(
            "customer_id",
            recency=(pl.lit(obs_end) - pl.col("last_day")).dt.total_days(),
            frequency=pl.col("frequency"),
            monetary=pl.col("monetary"),
            first_purchase=pl.col("first_purchase"),
            last_purchase=pl.col("last_purchase"),
            tenure=(pl.lit(obs_end) - pl.col("first_day")).dt.total_days(),
        )
        .collect()
    )


BTYD_COLUMNS = {c: c for c in ("frequency", "recency", "T", "monetary_value")}
RFM_COLUMNS = {
    c: c for c in ("recency", "frequency", "monetary", "first_purchase", "last_purchase", "tenure")
}


def _check_btyd(ours: Any, theirs: Any, engine: str) -> None:
    if engine.startswith("crmcore"):  # a variant of the subject: the very same frame
        import pandas as pd

        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
        return
    frames_close(ours, theirs, key="customer_id", columns=BTYD_COLUMNS)


def _check_rfm(ours: Any, theirs: Any, engine: str) -> None:
    frames_close(ours, theirs, key="customer_id", columns=RFM_COLUMNS)


# --------------------------------------------------------------------------- Dask


def _dask_load(path: str, threads: int | None) -> Any:
    """A local cluster of 2 worker processes (1 thread each) holding the file's partitions."""
    import os
    import sys

    # Workers unpickle the memory probes from this folder.
    os.environ["PYTHONPATH"] = os.pathsep.join([*sys.path[:1], os.environ.get("PYTHONPATH", "")])
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster, wait

    import crmcore.segmentation  # noqa: F401

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    frame = dd.read_parquet(path, split_row_groups=True).persist()
    wait(frame)
    return {"client": client, "cluster": cluster, "frame": frame}


def _dask_btyd(native: Any) -> Any:
    from crmcore.segmentation import btyd_summary

    return btyd_summary(
        native["frame"], customer="customer_id", date="date", amount="amount"
    ).compute()


def _workers_reset(native: Any) -> None:
    from _harness import reset_peak_rss

    native["client"].run(reset_peak_rss)


def _workers_peak(native: Any) -> float:
    from _harness import peak_rss_mb

    return float(sum(native["client"].run(peak_rss_mb).values()))


def _check_same(ours: Any, theirs: Any, engine: str) -> None:
    """Counts and periods exactly; money up to the order of float additions.

    The Dask path sums each customer's amounts per partition and then adds the partial sums,
    so ``monetary_value`` may differ from the one-process sum in the last bits (measured at
    10M rows: about 10% of customers, relative difference below 1e-14).
    """
    import pandas as pd

    money = [c for c in ("monetary_value",) if c in theirs.columns]
    pd.testing.assert_frame_equal(
        ours.drop(columns=money), theirs.drop(columns=money), check_exact=True
    )
    for column in money:
        pd.testing.assert_series_equal(
            ours[column], theirs[column], check_exact=False, rtol=1e-12, atol=1e-9
        )


DASK = Engine(
    "dask",
    _dask_load,
    _dask_btyd,
    label="crmcore on Dask (local cluster, 2 worker processes x 1 thread)",
    requires=("dask", "distributed"),
    reset_extra=_workers_reset,
    extra_peak_mb=_workers_peak,
)


# --------------------------------------------------------------------------- scores


def _beats_sql(col: str, edges: str, op: str) -> str:
    # q1 <= q2 <= ... ; count each distinct edge once (where it first occurs).
    terms = [f"({col} {op} {edges}[1])::INT"]
    terms += [
        f"({col} {op} {edges}[{i}] AND {edges}[{i}] > {edges}[{i - 1}])::INT"
        for i in range(2, BINS)
    ]
    return "1 + " + " + ".join(terms)


def _scores_sql() -> str:
    qs = ", ".join(str(q) for q in QS)
    r, f, m = (
        _beats_sql(c, e, op)
        for c, e, op in (("recency", "qr", "<"), ("frequency", "qf", ">"), ("monetary", "qm", ">"))
    )
    return f"""
        WITH q AS (SELECT quantile_cont(recency, [{qs}]) AS qr,
                          quantile_cont(frequency, [{qs}]) AS qf,
                          quantile_cont(monetary, [{qs}]) AS qm FROM s),
        sc AS (SELECT customer_id, recency, frequency, monetary,
                      {r} AS r_score, {f} AS f_score, {m} AS m_score FROM s, q)
        SELECT *, 100 * r_score + 10 * f_score + m_score AS rfm_score
        FROM sc ORDER BY customer_id
        """


def _polars_beats(pl: Any, col: str, op: str) -> Any:
    v = pl.col(col)
    q = [pl.col(col).quantile(x, interpolation="linear") for x in QS]
    score = pl.lit(1, dtype=pl.Int32)
    for i, edge in enumerate(q):
        hit = (v < edge) if op == "<" else (v > edge)
        if i:
            hit = hit & (edge > q[i - 1])
        score = score + hit.cast(pl.Int32)
    return score


def _polars_scores(pl: Any, df: Any) -> Any:
    return (
        df.lazy()
        .with_columns(
            _polars_beats(pl, "recency", "<").alias("r_score"),
            _polars_beats(pl, "frequency", ">").alias("f_score"),
            _polars_beats(pl, "monetary", ">").alias("m_score"),
        )
        .with_columns(
            (100 * pl.col("r_score") + 10 * pl.col("f_score") + pl.col("m_score")).alias(
                "rfm_score"
            )
        )
        .sort("customer_id")
        .collect()
    )


def _by_customer(frame: Any) -> Any:
    return frame.set_index("customer_id")


def _crm_scores(summary: Any) -> Any:
    from crmcore.segmentation import rfm_scores

    return rfm_scores(summary, BINS)


SCORE_COLUMNS = {c: c for c in ("r_score", "f_score", "m_score", "rfm_score")}

# --------------------------------------------------------------------------- segments

SEGMENTS_SQL = """
SELECT s.*, l.segment FROM s JOIN l USING (r_score, f_score, m_score) ORDER BY customer_id
"""
LOOKUP = "read_parquet('{dir}/segment_lookup-0-v1.parquet')"


def _crm_segments(scores: Any) -> Any:
    from crmcore.segmentation import rfm_segments

    return rfm_segments(scores)


def _polars_segments_load(path: str, threads: int | None) -> Any:
    from pathlib import Path

    from steps._engines import polars_load

    frame = polars_load(path, threads)
    import polars as pl

    lookup = pl.read_parquet(Path(path).parent / "segment_lookup-0-v1.parquet")
    return frame, lookup


def _polars_segments(pl: Any, data: Any) -> Any:
    frame, lookup = data
    return (
        frame.lazy()
        .join(lookup.lazy(), on=["r_score", "f_score", "m_score"], how="left")
        .sort("customer_id")
        .collect()
    )


# --------------------------------------------------------------------------- ABC and grades

ABC_SQL = """
WITH c AS (SELECT customer_id, monetary,
                  sum(monetary) OVER (ORDER BY monetary DESC, customer_id
                                      ROWS UNBOUNDED PRECEDING) - monetary AS before,
                  sum(monetary) OVER () AS total FROM v)
SELECT customer_id, CASE WHEN before < 0.8 * total THEN 'A'
                         WHEN before < 0.95 * total THEN 'B' ELSE 'C' END AS abc
FROM c ORDER BY customer_id
"""

GRADES_SQL = """
WITH c AS (SELECT customer_id, monetary, potential,
                  sum(monetary) OVER (ORDER BY monetary DESC, customer_id
                                      ROWS UNBOUNDED PRECEDING) - monetary AS before,
                  sum(monetary) OVER () AS total FROM v),
p AS (SELECT quantile_cont(potential, 0.75) AS p75 FROM v)
SELECT customer_id, monetary, potential,
       CASE WHEN monetary > 0 AND before < 0.8 * total THEN 'A'
            WHEN potential > p75 THEN 'B' ELSE 'C' END AS grade
FROM c, p ORDER BY customer_id
"""


def _polars_abc(pl: Any, df: Any) -> Any:
    before = pl.col("monetary").cum_sum() - pl.col("monetary")
    total = pl.col("monetary").sum()
    return (
        df.lazy()
        .select("customer_id", "monetary")
        .sort("monetary", "customer_id", descending=[True, False])
        .select(
            "customer_id",
            pl.when(before < 0.8 * total)
            .then(pl.lit("A"))
            .when(before < 0.95 * total)
            .then(pl.lit("B"))
            .otherwise(pl.lit("C"))
            .alias("abc"),
        )
        .sort("customer_id")
        .collect()
    )


def _polars_grades(pl: Any, df: Any) -> Any:
    m = pl.col("monetary")
    before = m.cum_sum() - m
    return (
        df.lazy()
        .sort("monetary", "customer_id", descending=[True, False])
        .with_columns(
            pl.when((m > 0) & (before < 0.8 * m.sum()))
            .then(pl.lit("A"))
            .when(pl.col("potential") > pl.col("potential").quantile(0.75, "linear"))
            .then(pl.lit("B"))
            .otherwise(pl.lit("C"))
            .alias("grade")
        )
        .sort("customer_id")
        .collect()
    )


def _crm_abc(values: Any) -> Any:
    from crmcore.segmentation import abc_classes

    return abc_classes(values["monetary"])


def _crm_grades(values: Any) -> Any:
    from crmcore.segmentation import customer_grades

    return customer_grades(values)


def _check_abc(ours: Any, theirs: Any, engine: str) -> None:
    frames_close(ours.rename("abc").to_frame(), theirs, key="customer_id", columns={"abc": "abc"})


def _check_grades(ours: Any, theirs: Any, engine: str) -> None:
    frames_close(ours, theirs, key="customer_id", columns={"grade": "grade"})


SUMMARY_GOAL = Goal(time=1.0, memory=1.0, against=("duckdb",))
#: crmcore again with numpy never asking for transparent huge pages (the whole process): a
#: control for crmcore._memory.normal_pages, which switches the request off inside the call
#: (where THP defrag is "madvise", the request stalls fresh allocations in compaction).
NO_THP = crmcore(
    _crm_btyd,
    SEG,
    name="crmcore:no-thp",
    label="crmcore, NUMPY_MADVISE_HUGEPAGE=0",
    env=(("NUMPY_MADVISE_HUGEPAGE", "0"),),
)
HOT_PATH_GOAL = Goal(time=1.5)
TRANSACTIONS = "transactions (rows/10 customers, in date order)"

STEPS = [
    Step(
        "btyd_summary",
        "transactions",
        TRANSACTIONS,
        (
            crmcore(_crm_btyd, SEG),
            duckdb("tx", BTYD_SQL),
            polars(_polars_btyd),
            NO_THP,
        ),
        "the reference harness's queries (shared/bench/anchors_rfm.py): per customer and "
        "day, then per customer; observation end = last day; unsorted",
        _check_btyd,
        SUMMARY_GOAL,
        "segmentation",
    ),
    Step(
        "rfm_summary",
        "transactions",
        TRANSACTIONS,
        (
            crmcore(_crm_rfm, SEG),
            duckdb("tx", RFM_SQL),
            polars(_polars_rfm),
        ),
        "same shape as the harness's query with rfm_summary's columns: distinct days, sum, "
        "first/last instant, recency/tenure in days to the last day; unsorted",
        _check_rfm,
        SUMMARY_GOAL,
        "segmentation",
    ),
    Step(
        "btyd_summary_dask",
        "transactions",
        TRANSACTIONS,
        (
            DASK,
            crmcore(_crm_btyd, SEG),
        ),
        "the subject is btyd_summary on a Dask frame (partitions = Parquet row groups, "
        "persisted on the workers before timing; computed to pandas); the reference is the "
        "same call on pandas in one process. Memory: client + both workers",
        _check_same,
        Goal(time=1.0, against=("crmcore",)),
        "segmentation",
    ),
    Step(
        "rfm_scores",
        "summary",
        "customers",
        (
            crmcore(_crm_scores, SEG, _by_customer),
            duckdb("s", _scores_sql()),
            polars(_polars_scores),
        ),
        "same scores: quantile_cont edges (linear, as numpy), 1 + distinct edges beaten",
        lambda ours, theirs, e: frames_close(
            ours, theirs, key="customer_id", columns=SCORE_COLUMNS
        ),
        HOT_PATH_GOAL,
        "segmentation",
    ),
    Step(
        "rfm_segments",
        "scores",
        "customers",
        (
            crmcore(_crm_segments, SEG, _by_customer),
            duckdb("s", SEGMENTS_SQL, (f"CREATE TABLE l AS SELECT * FROM {LOOKUP}",)),
            polars(_polars_segments, _polars_segments_load),
        ),
        "join with the 125-row (R, F, M) -> segment table, sorted by customer (segment as "
        "text, not categorical)",
        lambda ours, theirs, e: frames_close(
            ours, theirs, key="customer_id", columns={"segment": "segment"}
        ),
        HOT_PATH_GOAL,
        "segmentation",
        ("segment_lookup",),
    ),
    Step(
        "abc_classes",
        "values",
        "customers",
        (
            crmcore(_crm_abc, SEG, _by_customer),
            duckdb("v", ABC_SQL),
            polars(_polars_abc),
        ),
        "window cumulative sum in descending order; ties broken by id (crmcore gives tied "
        "values one class)",
        _check_abc,
        HOT_PATH_GOAL,
        "segmentation",
    ),
    Step(
        "customer_grades",
        "values",
        "customers",
        (
            crmcore(_crm_grades, SEG, _by_customer),
            duckdb("v", GRADES_SQL),
            polars(_polars_grades),
        ),
        "ABC window sum for A, potential above its 75th percentile for B (no reason column)",
        _check_grades,
        HOT_PATH_GOAL,
        "segmentation",
    ),
]
