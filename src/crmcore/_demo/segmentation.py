"""Demo report section: customer segmentation on synthetic data."""

from __future__ import annotations

import pandas as pd

from crmcore import datasets
from crmcore.segmentation import (
    abc_classes,
    customer_grades,
    rfm_scores,
    rfm_segments,
    rfm_summary,
    segment_summary,
)


def section(seed: int = 0) -> str:
    """Return the segmentation part of the demo report.

    Examples
    --------
    >>> from crmcore._demo.segmentation import section
    >>> "Customers per RFM segment" in section(0)
    True
    """
    tx = datasets.transactions(2_000, seed=seed)
    people = datasets.customers(2_000, seed=seed).set_index("customer_id")
    summary = rfm_summary(tx)
    scores = rfm_scores(summary)
    segments = rfm_segments(scores)
    lines = [
        (
            f"{len(tx):,} transactions from {summary.shape[0]:,} customers, "
            f"{tx['date'].min():%Y-%m-%d} to {tx['date'].max():%Y-%m-%d}."
        ),
        "",
        "Customers per RFM segment (11-segment map):",
    ]
    per_segment = segment_summary(segments.join(summary["monetary"]), value="monetary")
    pct = "{:.1%}".format
    money = "{:,.2f}".format
    lines.append(
        _indent(
            per_segment.to_string(formatters={"share": pct, "value": money, "value_share": pct})
        )
    )

    abc = abc_classes(summary["monetary"])
    by_class = pd.DataFrame({"class": abc, "monetary": summary["monetary"]}).groupby(
        "class", observed=False
    )["monetary"]
    shares = pd.DataFrame({"customers": by_class.size(), "revenue": by_class.sum()})
    shares["revenue_share"] = shares["revenue"] / shares["revenue"].sum()
    lines += ["", "ABC classes by revenue (cut-offs 80 % / 95 %):"]
    lines.append(_indent(shares.to_string(formatters={"revenue": money, "revenue_share": pct})))

    graded = customer_grades(summary.join(people["potential"]))
    counts = graded["grade"].value_counts().sort_index()
    lines += ["", "Customer grades (A high value, B potential, C low value):"]
    lines.append(_indent(counts.rename("customers").to_frame().to_string()))

    top = (
        summary.join(segments["segment"])
        .join(graded["grade"])
        .sort_values(["monetary"], ascending=False)
        .head(5)[["monetary", "frequency", "recency", "segment", "grade"]]
    )
    lines += ["", "Top 5 customers by revenue:"]
    lines.append(_indent(top.to_string(float_format=lambda v: f"{v:,.2f}")))
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
