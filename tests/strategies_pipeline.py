"""Hypothesis strategies for the pipeline forecast tests: deals, stage models, snapshots."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from crmcore.pipeline import StageModel

AS_OF = pd.Timestamp("2025-01-15")
STAGE_NAMES = ("prospect", "qualify", "proposal", "negotiation")


@st.composite
def stage_models(draw: st.DrawFn) -> StageModel:
    """Stage models of 1-4 stages built from step rates in [0, 1] and whole-day durations."""
    k = draw(st.integers(1, len(STAGE_NAMES)))
    rates = draw(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=k, max_size=k))
    durations = draw(st.lists(st.integers(0, 120), min_size=k, max_size=k))
    return StageModel.from_conversion_rates(STAGE_NAMES[:k], rates, durations)


@st.composite
def deal_frames(
    draw: st.DrawFn,
    model: StageModel,
    *,
    min_rows: int = 1,
    max_rows: int = 40,
    close_dates: bool = True,
) -> pd.DataFrame:
    """Deals in the model's stages (won and lost included), unique ids in random order.

    Amounts are whole cents up to 1 000 000.00; close dates (optional column) are missing, in
    the past (overdue for open deals) or in the future, relative to :data:`AS_OF`.
    """
    n = draw(st.integers(min_rows, max_rows))
    names = [*model.stages, model.won, model.lost]
    stages = draw(st.lists(st.sampled_from(names), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(0, 100_000_000), min_size=n, max_size=n))
    ids = draw(st.permutations(list(range(1, n + 1))))
    frame = pd.DataFrame(
        {
            "opportunity_id": np.asarray(ids, dtype=np.int64),
            "stage": stages,
            "amount": np.asarray(cents, dtype=np.float64) / 100.0,
        }
    )
    if close_dates:
        offsets = draw(
            st.lists(st.one_of(st.none(), st.integers(-200, 400)), min_size=n, max_size=n)
        )
        frame["close_date"] = pd.to_datetime(
            [None if o is None else AS_OF + pd.Timedelta(days=o) for o in offsets]
        )
    return frame


@st.composite
def models_and_deals(draw: st.DrawFn, **kwargs: object) -> tuple[StageModel, pd.DataFrame]:
    """A stage model and deals in its stages."""
    model = draw(stage_models())
    return model, draw(deal_frames(model, **kwargs))  # type: ignore[arg-type]


WATERFALL_STAGES = ("prospect", "bid", "won", "lost")


@st.composite
def snapshot_pairs(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two snapshots of one pipeline: deals appear, disappear, change stage, amount, date.

    Every deal id of the start snapshot is also in the end snapshot (so ``missing="error"``
    never triggers); the end adds new ids. Close dates lie within +-150 days of :data:`AS_OF`.
    """
    n_start = draw(st.integers(0, 25))
    n_new = draw(st.integers(0, 10))

    def rows(n: int) -> dict[str, list[object]]:
        return {
            "stage": draw(st.lists(st.sampled_from(WATERFALL_STAGES), min_size=n, max_size=n)),
            "amount": [
                c / 100.0 for c in draw(st.lists(st.integers(0, 5_000_000), min_size=n, max_size=n))
            ],
            "close_date": [
                AS_OF + pd.Timedelta(days=d)
                for d in draw(st.lists(st.integers(-150, 150), min_size=n, max_size=n))
            ],
        }

    start = pd.DataFrame(
        {"opportunity_id": np.arange(1, n_start + 1, dtype=np.int64), **rows(n_start)}
    )
    n_end = n_start + n_new
    end = pd.DataFrame({"opportunity_id": np.arange(1, n_end + 1, dtype=np.int64), **rows(n_end)})
    # Keep some deals unchanged so the "stays" path is exercised often.
    keep = draw(st.lists(st.booleans(), min_size=n_start, max_size=n_start))
    for i, same in enumerate(keep):
        if same:
            end.loc[i, ["stage", "amount", "close_date"]] = start.loc[
                i, ["stage", "amount", "close_date"]
            ].to_numpy()
    perm = draw(st.permutations(list(range(n_end))))
    end = end.iloc[perm].reset_index(drop=True)
    start["close_date"] = pd.to_datetime(start["close_date"])
    end["close_date"] = pd.to_datetime(end["close_date"])
    return start, end


@st.composite
def lead_histories(draw: st.DrawFn) -> tuple[pd.DataFrame, float]:
    """Closed deals of teams a, b, c (some without a team) with two features, and a smoothing.

    ``source`` is text (x, y, z or missing), ``size`` an integer (1, 2, 3 or missing); the
    smoothing is 0.1 (Odoo's), 1 or another value in (0, 2]. Index labels are text ids.
    """
    n = draw(st.integers(1, 30))
    team = draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n))
    source = draw(st.lists(st.sampled_from(["x", "y", "z", None]), min_size=n, max_size=n))
    size = draw(st.lists(st.sampled_from([1, 2, 3, None]), min_size=n, max_size=n))
    status = draw(st.lists(st.sampled_from(["won", "lost"]), min_size=n, max_size=n))
    smoothing = draw(st.sampled_from([0.1, 1.0]) | st.floats(0.01, 2.0))
    frame = pd.DataFrame(
        {
            "team": pd.Series(team, dtype=object),
            "source": pd.Series(source, dtype=object),
            "size": pd.Series(size, dtype="Int64"),
            "status": status,
        },
        index=[f"d{i}" for i in range(n)],
    )
    return frame, smoothing


@st.composite
def process_pipelines(
    draw: st.DrawFn, *, sure: bool = False
) -> tuple[dict[str, StageModel], pd.DataFrame]:
    """Two or three sales processes, each with its own model (days or months), and their deals.

    The models share stage names (``prospect`` may mean different odds in each process). With
    ``sure`` every step rate is 0 or 1, so a simulation is deterministic. Deals carry a
    ``process`` column; ids are unique over all processes and rows are shuffled.
    """
    n = draw(st.integers(2, 3))
    models: dict[str, StageModel] = {}
    for name in ("short", "enterprise", "project")[:n]:
        base = draw(stage_models())
        rates = (
            draw(
                st.lists(
                    st.sampled_from([0.0, 1.0]),
                    min_size=len(base.stages),
                    max_size=len(base.stages),
                )
            )
            if sure
            else list(base.conversion_rates)
        )
        unit = draw(st.sampled_from(["D", "M"]))
        durations = [d if unit == "D" else d / 30.0 for d in base.stage_durations]
        models[name] = StageModel.from_conversion_rates(base.stages, rates, durations, unit=unit)
    parts = []
    for name, model in models.items():
        part = draw(deal_frames(model, min_rows=0, max_rows=12))
        parts.append(part.assign(process=name))
    frame = pd.concat(parts, ignore_index=True)
    ids = draw(st.permutations(list(range(1, len(frame) + 1))))
    frame["opportunity_id"] = np.asarray(ids, dtype=np.int64)
    if frame.empty:
        frame = draw(deal_frames(models["short"], min_rows=1, max_rows=3)).assign(process="short")
    order = draw(st.permutations(list(range(len(frame)))))
    return models, frame.iloc[list(order)].reset_index(drop=True)
