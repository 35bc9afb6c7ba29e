"""Regenerate every chart image in docs/images from crmcore.datasets with fixed seeds.

Usage: ``python docs/make_images.py [OUTPUT_DIR]`` (default: the ``images`` folder next to this
script). The same data and seeds as the examples in docs/charts.md, so the pictures show what
the page's code builds. Images are small PNGs (80 dpi). tests/test_plot.py runs this script
into a temporary folder to prove it works.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image

from crmcore import datasets, plot
from crmcore.kpi import Metric, Scorecard, attainment, kpi_table, score_scorecard
from crmcore.pipeline import (
    StageModel,
    close_schedule,
    funnel_conversion,
    simulate_pipeline,
)
from crmcore.quota import build_plan
from crmcore.segmentation import fit_rfm_bins, rfm_scores, rfm_segments, rfm_summary, score_rfm

DPI = 80
COLOURS = 128  # palette PNGs: a quarter of the size of full-colour ones, no visible loss
STAGES = ["prospect", "qualification", "proposal", "negotiation"]


def _bought_once() -> pd.DataFrame:
    """The summary of docs/charts.md where 55 % of customers bought once (edges collapse)."""
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "recency": rng.integers(0, 400, 500),
            "frequency": np.where(rng.random(500) < 0.55, 1, rng.integers(2, 9, 500)),
            "monetary": rng.gamma(2.0, 300.0, 500),
        },
        index=pd.Index(range(500), name="customer_id"),
    )


def _segmentation() -> dict[str, Figure]:
    summary = rfm_summary(datasets.transactions(1000, seed=1))
    scores = rfm_scores(summary)
    segments = rfm_segments(scores)
    once = _bought_once()
    edges = fit_rfm_bins(once)
    return {
        "rfm_heatmap": plot.rfm_heatmap(scores),
        "rfm_heatmap_collapsed": plot.rfm_heatmap(score_rfm(once, edges), rfm_bins=edges),
        "rfm_heatmap_value": plot.rfm_heatmap(scores.join(summary["monetary"]), value="monetary"),
        "segment_sizes": plot.segment_sizes(segments),
        "pareto_curve": plot.pareto_curve(summary["monetary"]),
    }


def _pipeline() -> dict[str, Figure]:
    history = datasets.stage_history(2000, seed=1)
    funnel = funnel_conversion(history, stages=["prospect", "bid", "negotiation"])
    model = StageModel.from_conversion_rates(STAGES, [0.5, 0.6, 0.7, 0.8], [30, 20, 20, 15])
    book = datasets.opportunities(400, seed=7)
    schedule = close_schedule(book, model, as_of="2025-01-01", close_date="close_date")
    simulation = simulate_pipeline(
        book, model, as_of="2025-01-01", close_date="close_date", n_draws=2000, seed=7
    )
    return {
        "funnel_chart": plot.funnel_chart(funnel),
        "landing_schedule": plot.landing_schedule(schedule, simulation, until="2025-12-01"),
    }


def _quota_and_kpi() -> dict[str, Figure]:
    people = datasets.team(8, seed=3).assign(weight=[3, 2, 2, 1, 1, 2, 3, 1])
    plan = build_plan(people, 2_400_000_00, distribution=[6, 7, 8, 8, 9, 9, 8, 7, 9, 9, 10, 10])
    att = attainment(
        datasets.deals(600, n_people=8, seed=3),
        datasets.targets(8, seed=3),
        status="status",
        date="closed_at",
    )
    kpis = kpi_table(
        datasets.deals(600, n_people=8, seed=3),
        datasets.targets(8, seed=3),
        feedback=datasets.feedback(8, seed=3),
    )
    year = kpis.groupby(level="person").mean()
    card = Scorecard(
        metrics=[
            Metric(column="attainment", weight=0.4, normalisation="target", target=1.0, cap=1.5),
            Metric(column="win_rate", weight=0.2),
            Metric(column="average_deal_size", weight=0.2),
            Metric(column="feedback", weight=0.2, scale=(1, 5)),
        ]
    )
    scores = score_scorecard(year.reset_index(), card)
    return {
        "quota_chart": plot.quota_chart(plan),
        "quota_heatmap": plot.quota_chart(plan, kind="heatmap"),
        "attainment_bars": plot.attainment_bars(att),
        "scorecard_bars": plot.scorecard_chart(scores, card),
        "scorecard_radar": plot.scorecard_chart(scores, card, kind="radar", max_people=4),
    }


def _forecast() -> dict[str, Figure]:
    from crmcore.forecast import sales_forecast
    from crmcore.kpi import revenue_by_period

    sales = datasets.transactions(1000, seed=1)
    result = sales_forecast(sales, horizon=6)
    return {"forecast_chart": plot.forecast_chart(result, revenue_by_period(sales)["revenue"])}


def _clv() -> dict[str, Figure]:
    """The customer-futures charts on the CDNOW log of tests/data (the page's example)."""
    from crmcore.clv import calibration_holdout, cohort_retention, fit_bg_nbd, holdout_report

    data = Path(__file__).resolve().parents[1] / "tests" / "data"
    raw = pd.read_csv(data / "cdnow_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "amount"])  # fmt: skip
    log = raw.assign(date=pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"))
    ch = calibration_holdout(log, calibration_end="1997-09-30", observation_end="1998-06-30",
                             freq_multiplier=7)  # fmt: skip
    cal = ch.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency",
                             "T_cal": "T"})  # fmt: skip
    return {
        "holdout_chart": plot.holdout_chart(holdout_report(fit_bg_nbd(cal), ch)),
        "cohort_heatmap": plot.cohort_heatmap(cohort_retention(log)),
    }


BUILDERS: tuple[Callable[[], dict[str, Figure]], ...] = (
    _segmentation,
    _pipeline,
    _forecast,
    _quota_and_kpi,
    _clv,
)


def save_small(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as an 80-dpi palette PNG (small enough to commit) and return ``path``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    buffer.seek(0)
    with Image.open(buffer) as image:
        small = image.convert("RGB").quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT)
        small.save(path, format="png", optimize=True)
    return path


def main(argv: list[str] | None = None) -> list[Path]:
    """Write every image into the folder named in ``argv`` (default docs/images)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path(__file__).resolve().parent / "images"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for build in BUILDERS:
        for name, fig in build().items():
            path = out / f"{name}.png"
            written.append(save_small(fig, path))
    return written


if __name__ == "__main__":
    for path in main():
        print(f"{path} ({path.stat().st_size // 1024} KB)")
