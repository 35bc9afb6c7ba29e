"""Specs of the shell (charts, the command line) and of segmentation's configuration classes."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from catalogue import data as d
from catalogue.model import Expect, Kind, Spec
from crmcore import cli, clv, forecast, kpi, pipeline, plot, segmentation
from crmcore.errors import CRMError

A, ID, K, L, M, D, MI = (
    Kind.AMOUNT,
    Kind.ID,
    Kind.KEY,
    Kind.LABEL,
    Kind.MEASURE,
    Kind.DATE,
    Kind.MINOR,
)


def _a(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


class CommandLineError(CRMError):
    """Exit status 2 of the command line, carrying its one-line message (for classification)."""


def run_rfm_command(transactions: pd.DataFrame, *, bins: int = 5) -> str:
    """``python -m crmcore rfm FILE --segments --bins N`` on ``transactions`` written as CSV.

    Returns what the command printed; exit status 2 raises :class:`CommandLineError` with the
    message, so the catalogue judges it like a library error; status 1 (an unexpected error)
    raises ``RuntimeError``, a foreign exception.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        transactions.to_csv(path, index=False)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                code = cli.main(["rfm", str(path), "--segments", "--bins", str(bins)], stdout=out)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
    if code == 2:
        raise CommandLineError(err.getvalue().strip())
    if code != 0:
        raise RuntimeError(err.getvalue().strip())
    return out.getvalue()


def customers_as_written(args: tuple[Any, ...], kwargs: dict[str, Any], result: str) -> None:
    """The rfm command prints one row per customer id as the CSV file writes it.

    A file has no types: ``1`` and ``"1"`` in a frame are both written ``1``, one customer to
    the command (the library, given the frame, refuses them as one id typed two ways).
    """
    written = pd.read_csv(
        io.StringIO(args[0].to_csv(index=False)),
        dtype={"customer_id": str},
        keep_default_na=False,
        na_values=[""],
    )["customer_id"]
    lines = [line for line in result.splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.strip() == "customer_id") + 1
    printed = sorted(line.split()[0] for line in lines[start:])
    want = sorted(set(written.dropna()))
    assert printed == want, f"printed customers {printed[:5]}, the file holds {want[:5]}"


def _segments() -> pd.DataFrame:
    return segmentation.rfm_segments(segmentation.rfm_scores(d.summary())).join(
        d.summary()["monetary"]
    )


def _holdout_table() -> pd.DataFrame:
    report = clv.holdout_report(
        clv.BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426),
        clv.calibration_holdout(d.tx(), calibration_end="2024-06-30", observation_end="2024-12-31"),
    )
    return report.table.dropna()  # groups nobody is in have no mean to draw


def _attainment() -> pd.DataFrame:
    return kpi.attainment(d.deals(), d.targets(), date="closed_at", status="status").reset_index()


SHELL = [
    Spec(
        "cli.main",
        run_rfm_command,
        lambda: _a(d.tx(), bins=5),
        {0: {"customer_id": ID, "date": D, "amount": A}},
        {"bins": Kind.COUNT},
        check=customers_as_written,
        arg_names={0: "transactions"},
        positional_labels=True,
        covers=cli.main,
        overrides={
            "mixed_id:0:customer_id": (
                Expect.VALID,
                (
                    "a CSV file has no types: 1 and '1' are written alike and are one customer "
                    "to the command (the check counts the printed customers as the file holds)"
                ),
            )
        },
    ),
    Spec(
        "plot.attainment_bars",
        plot.attainment_bars,
        lambda: _a(_attainment()),
        {0: {"person": ID, "target": A, "achieved": A}},
        # documented: a missing target (sales with no target) counts as 0 target
        nulls_ok=frozenset({(0, "target")}),
    ),
    Spec(
        "plot.funnel_chart",
        plot.funnel_chart,
        lambda: _a(
            pipeline.funnel_conversion(d.history(), stages=["prospect", "bid", "negotiation"])
        ),
        {0: {"entered": M, "conversion_rate": M, "win_rate": M}},
        # documented: a stage nobody left has NaN rates (funnel_conversion gives them)
        nulls_ok=frozenset({(0, "conversion_rate"), (0, "win_rate")}),
    ),
    Spec(
        "plot.landing_schedule",
        plot.landing_schedule,
        lambda: _a(pipeline.close_schedule(d.opps(), d.model(), as_of=d.AS_OF).table),
        {0: {"expected_amount": A}},
    ),
    Spec(
        "plot.cohort_heatmap",
        plot.cohort_heatmap,
        lambda: _a(clv.cohort_retention(d.tx(), as_of=d.AS_OF)),
        {0: {0: M, 1: M, 2: M}},  # type: ignore[dict-item]
        # a younger cohort has no value yet for later periods: the table's own NaN
        nulls_ok=frozenset({(0, 0), (0, 1), (0, 2)}),  # type: ignore[arg-type]
        order_independent=False,  # cohorts and periods are drawn in the table's order
    ),
    Spec(
        "plot.forecast_chart",
        plot.forecast_chart,
        lambda: _a(forecast.sales_forecast(d.tx(), horizon=3, as_of=d.AS_OF).forecast),
        {0: {"forecast": A, "lower_80": A, "upper_80": A}},
        {"level": Kind.COUNT},
        order_independent=False,  # periods are drawn in the table's order
    ),
    Spec(
        "plot.holdout_chart",
        plot.holdout_chart,
        lambda: _a(_holdout_table()),
        {0: {"actual": M, "predicted": M}},
        order_independent=False,  # groups are drawn in the table's order
    ),
    Spec(
        "plot.pareto_curve",
        plot.pareto_curve,
        lambda: _a(pd.Series([30.0, 10.0, 60.0, 5.0, 1.0, 0.5, 12.0], name="values")),
        {0: {None: A}},
    ),
    Spec(
        "plot.quota_chart",
        plot.quota_chart,
        lambda: _a(d.plan_table()),
        {0: {"person": ID, "month": ID, "quota_cents": MI}},
    ),
    Spec(
        "plot.rfm_heatmap",
        plot.rfm_heatmap,
        lambda: _a(
            segmentation.rfm_scores(d.summary()).join(d.summary()["monetary"]), value="monetary"
        ),
        {0: {"r_score": M, "f_score": M, "monetary": A}},
    ),
    Spec(
        "plot.scorecard_chart",
        plot.scorecard_chart,
        lambda: _a(kpi.score_scorecard(d.team_scores(), d.card()), d.card()),
        # the chart adds up the points itself: the 'total' column is not read
        {0: {"revenue_points": M, "cycle_days_points": M, "rating_points": M}},
    ),
    Spec(
        "plot.segment_sizes",
        plot.segment_sizes,
        lambda: _a(_segments(), value="monetary"),
        {0: {"segment": L, "monetary": A}},
    ),
    Spec(
        "segmentation.GradeRules",
        segmentation.GradeRules,
        lambda: _a(value_cutoff=0.8, potential_cutoff=0.75),
        {},
        {"value_cutoff": Kind.REAL, "potential_cutoff": Kind.REAL},
    ),
    Spec(
        "segmentation.RFMBins",
        segmentation.RFMBins,
        lambda: _a(bins=3, recency=[10.0, 30.0], frequency=[1.0, 2.0], monetary=[50.0, 200.0]),
        {},
        {"bins": Kind.COUNT, "recency": Kind.REALS, "monetary": Kind.REALS},
    ),
    Spec(
        "segmentation.SegmentRule",
        segmentation.SegmentRule,
        lambda: _a(segment="Best", r=[4, 5], f=[5]),
        {},
        {"segment": Kind.LABEL, "r": Kind.REALS},
        overrides={"scalar_case:segment:*": (Expect.ANY, "any text is a segment name")},
    ),
    Spec(
        "segmentation.SegmentMap",
        segmentation.SegmentMap,
        lambda: _a(
            bins=2,
            rules=[
                segmentation.SegmentRule(segment="Best", r=2, f=2),
                segmentation.SegmentRule(segment="Rest"),
            ],
        ),
        {},
        {"bins": Kind.COUNT},
    ),
]
