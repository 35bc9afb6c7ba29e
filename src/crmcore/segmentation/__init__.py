"""Customer segmentation: purchase summaries, RFM scores and segments, ABC classes, grades.

Start from a transaction table (one row per purchase), summarise it per customer, then score,
segment or grade the customers. Edges fitted once (:class:`RFMBins`) score later data or other
partitions the same way.

Examples
--------
>>> import pandas as pd
>>> from crmcore.segmentation import rfm_summary
>>> tx = pd.DataFrame({
...     "customer_id": [1, 1, 2],
...     "date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-03"]),
...     "amount": [10.0, 20.0, 8.0],
... })
>>> rfm_summary(tx)[["recency", "frequency", "monetary"]]
             recency  frequency  monetary
customer_id
1                  0          2      30.0
2                  2          1       8.0
"""

from crmcore.segmentation.abc import abc_classes, abc_summary, abc_xyz, item_totals
from crmcore.segmentation.as_of import AsOfCut, cut_at_as_of
from crmcore.segmentation.clean import clean_transactions
from crmcore.segmentation.grades import (
    GradeRules,
    customer_grades,
    grade_inputs,
    grade_summary,
)
from crmcore.segmentation.rfm import btyd_summary, rfm_summary
from crmcore.segmentation.scores import RFMBins, fit_rfm_bins, rfm_scores, score_rfm
from crmcore.segmentation.segments import (
    RF_GRID_10,
    SEGMENTS_11,
    SegmentMap,
    SegmentRule,
    rfm_segments,
    segment_summary,
)

__all__: list[str] = [  # noqa: RUF022  # tests/test_api.py wants plain sorted() order
    "AsOfCut",
    "GradeRules",
    "RFMBins",
    "RF_GRID_10",
    "SEGMENTS_11",
    "SegmentMap",
    "SegmentRule",
    "abc_classes",
    "abc_summary",
    "abc_xyz",
    "btyd_summary",
    "clean_transactions",
    "customer_grades",
    "cut_at_as_of",
    "fit_rfm_bins",
    "grade_inputs",
    "grade_summary",
    "item_totals",
    "rfm_scores",
    "rfm_segments",
    "rfm_summary",
    "score_rfm",
    "segment_summary",
]
