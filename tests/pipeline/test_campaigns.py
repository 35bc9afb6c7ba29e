"""Tests for crmcore.pipeline.campaigns: campaign_roi."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, ConfigError, DataError, SchemaError
from crmcore.pipeline import campaign_roi
from helpers import call_unmutated, shuffled

# Three campaigns x four deals, worked by hand below.
CAMPAIGNS = pd.DataFrame(
    {
        "campaign_id": ["A", "B", "C"],
        "cost": [100.0, 200.0, 0.0],
        "channel": ["web", "web", "event"],
    }
)
DEALS = pd.DataFrame(
    {
        "opportunity_id": ["D1", "D2", "D3", "D4"],
        "stage": ["won", "won", "lost", "negotiation"],
        "amount": [1000.00, 500.01, 300.00, 700.00],
    }
)
# D1: A (Jan 1), B (Jan 5), C (Jan 9)       -> won 1000.00
# D2: B and C both on Jan 2 (a tie), B Jan 3 -> won 500.01
# D3: A (Jan 1)                              -> lost
# D4: C (Jan 4)                              -> open
# plus one touch of campaign A on a lead that never became a deal (Jan 6).
TOUCHES = pd.DataFrame(
    {
        "campaign_id": ["A", "B", "C", "B", "C", "B", "A", "C", "A"],
        "opportunity_id": ["D1", "D1", "D1", "D2", "D2", "D2", "D3", "D4", None],
        "touched_at": pd.to_datetime(
            [
                "2024-01-01",
                "2024-01-05",
                "2024-01-09",
                "2024-01-02",
                "2024-01-02",
                "2024-01-03",
                "2024-01-01",
                "2024-01-04",
                "2024-01-06",
            ]
        ),
        "lead_id": ["L1", "L1", "L1", "L2", "L2", "L2", "L3", "L4", "L5"],
    }
)


class TestCampaignRoiExamples:
    def test_first_touch(self) -> None:
        # D1 -> A (Jan 1 is earliest). D2: B and C tie on Jan 2 -> B (sorts first).
        # A: 100000 cents, ROI (1000 - 100) / 100 = 9. B: 50001 cents, (500.01 - 200) / 200.
        # C: 0 cents and cost 0 -> ROI NaN.
        out = call_unmutated(campaign_roi, CAMPAIGNS, TOUCHES, DEALS)
        expected = pd.DataFrame(
            {
                "campaigns": [1, 1, 1],
                "cost": [100.0, 200.0, 0.0],
                # touch rows: A has D1, D3 and the lead-only touch.
                "touches": [3, 3, 3],
                "leads": [3, 3, 3],
                "deals_influenced": [2, 2, 3],  # A {D1, D3}, B {D1, D2}, C {D1, D2, D4}
                "deals_closed": [2, 2, 2],
                "deals_won": [1, 2, 2],
                "attributed_deals": [1.0, 1.0, 0.0],
                "attributed_revenue_cents": [100000, 50001, 0],
                "attributed_revenue": [1000.0, 500.01, 0.0],
                "roi": [9.0, (500.01 - 200) / 200, np.nan],
                "deal_rate": [2 / 3, 2 / 3, 3 / 3],
                "win_rate": [1 / 2, 2 / 2, 2 / 2],
            },
            index=pd.Index(["A", "B", "C"], name="campaign_id"),
        )
        expected = expected.astype(
            {c: np.int64 for c in expected.columns if expected[c].dtype == np.int64}
        )
        pd.testing.assert_frame_equal(out, expected, check_index_type=False)

    def test_last_touch(self) -> None:
        # D1 -> C (Jan 9 is latest); D2 -> B (Jan 3 is latest).
        out = campaign_roi(CAMPAIGNS, TOUCHES, DEALS, model="last_touch")
        assert out["attributed_revenue_cents"].tolist() == [0, 50001, 100000]
        assert out["attributed_deals"].tolist() == [0.0, 1.0, 1.0]
        np.testing.assert_allclose(out["roi"].to_numpy()[:2], [-1.0, (500.01 - 200) / 200])

    def test_even(self) -> None:
        # D1: 100000 / 3 = 33333.33 each; the left-over cent goes to A (sorts first).
        # D2: two distinct campaigns (B touched twice, still one part): 50001 / 2 = 25000.5;
        # the odd cent goes to B. A 33334; B 33333 + 25001 = 58334; C 33333 + 25000 = 58333.
        out = campaign_roi(CAMPAIGNS, TOUCHES, DEALS, model="even")
        assert out["attributed_revenue_cents"].tolist() == [33334, 58334, 58333]
        assert out["attributed_revenue_cents"].sum() == 100000 + 50001
        np.testing.assert_allclose(out["attributed_deals"], [1 / 3, 1 / 3 + 1 / 2, 1 / 3 + 1 / 2])

    def test_tie_rule_is_by_campaign_id_in_last_touch_too(self) -> None:
        # Only D2's tied touches: B and C both on Jan 2 -> B for first and last touch.
        touches = TOUCHES.iloc[[3, 4]]
        for model in ("first_touch", "last_touch"):
            out = campaign_roi(CAMPAIGNS, touches, DEALS, model=model)  # type: ignore[arg-type]
            assert out["attributed_revenue_cents"].tolist() == [0, 50001, 0]

    def test_by_channel_counts_each_deal_once(self) -> None:
        # web = A + B: cost 300, touches 6, deals {D1, D2, D3} (D1 touched by both counts once),
        # closed 3, won 2, attributed 100000 + 50001 -> ROI (1500.01 - 300) / 300.
        out = campaign_roi(CAMPAIGNS, TOUCHES, DEALS, by="channel")
        assert out.index.tolist() == ["event", "web"]
        web = out.loc["web"]
        assert web["campaigns"] == 2
        assert web["cost"] == 300.0
        assert web["touches"] == 6
        assert web["deals_influenced"] == 3
        assert web["deals_closed"] == 3
        assert web["deals_won"] == 2
        assert web["attributed_revenue_cents"] == 150001
        assert web["roi"] == pytest.approx((1500.01 - 300) / 300)
        assert web["win_rate"] == pytest.approx(2 / 3)

    def test_by_two_columns(self) -> None:
        campaigns = CAMPAIGNS.assign(region=["north", "south", "north"])
        out = campaign_roi(campaigns, TOUCHES, DEALS, by=["region", "channel"])
        assert out.index.names == ["region", "channel"]
        assert out.index.tolist() == [("north", "event"), ("north", "web"), ("south", "web")]

    def test_leads_column_counts_distinct_leads(self) -> None:
        # A: leads L1, L3, L5 -> 3; B: L1, L2 (L2 touched twice) -> 2; C: L1, L2, L4 -> 3.
        out = campaign_roi(CAMPAIGNS, TOUCHES, DEALS, lead="lead_id")
        assert out["leads"].tolist() == [3, 2, 3]
        np.testing.assert_allclose(out["deal_rate"], [2 / 3, 2 / 2, 3 / 3])

    def test_campaign_without_touches_and_no_deals(self) -> None:
        campaigns = pd.DataFrame({"campaign_id": [1, 2], "cost": [50.0, 0.0]})
        touches = pd.DataFrame(
            {"campaign_id": [], "opportunity_id": [], "touched_at": pd.to_datetime([])}
        )
        deals = pd.DataFrame({"opportunity_id": [], "stage": [], "amount": []})
        out = campaign_roi(campaigns, touches, deals)
        assert out["touches"].tolist() == [0, 0]
        assert out["roi"].tolist()[0] == -1.0
        assert np.isnan(out["roi"].to_numpy()[1])
        assert np.isnan(out["deal_rate"]).all()
        assert np.isnan(out["win_rate"]).all()


@st.composite
def roi_cases(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n_c = draw(st.integers(1, 5))
    n_d = draw(st.integers(0, 8))
    campaigns = pd.DataFrame(
        {
            "campaign_id": [f"c{i}" for i in range(n_c)],
            "cost": draw(st.lists(st.integers(0, 10**6), min_size=n_c, max_size=n_c)),
            "channel": draw(st.lists(st.sampled_from(["web", "mail"]), min_size=n_c, max_size=n_c)),
        }
    )
    deals = pd.DataFrame(
        {
            "opportunity_id": list(range(n_d)),
            "stage": draw(
                st.lists(st.sampled_from(["won", "lost", "open"]), min_size=n_d, max_size=n_d)
            ),
            "amount": np.asarray(
                draw(st.lists(st.integers(0, 10**8), min_size=n_d, max_size=n_d)), dtype=np.float64
            )
            / 100.0,
        }
    )
    n_t = draw(st.integers(0, 25))
    deal_choice = st.one_of(st.none(), st.integers(0, n_d - 1)) if n_d else st.none()
    touches = pd.DataFrame(
        {
            "campaign_id": draw(
                st.lists(
                    st.sampled_from(list(campaigns["campaign_id"])), min_size=n_t, max_size=n_t
                )
            ),
            "opportunity_id": pd.array(
                draw(st.lists(deal_choice, min_size=n_t, max_size=n_t)), dtype="Int64"
            ),
            "touched_at": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(
                draw(st.lists(st.integers(0, 5), min_size=n_t, max_size=n_t)), unit="D"
            ),
        }
    )
    return campaigns, touches, deals


def _won_touched_cents(touches: pd.DataFrame, deals: pd.DataFrame) -> int:
    touched = set(touches["opportunity_id"].dropna().tolist())
    won = deals[(deals["stage"] == "won") & deals["opportunity_id"].isin(touched)]
    return int(np.round(won["amount"].to_numpy() * 100).astype(np.int64).sum())


def _reference_attribution(
    touches: pd.DataFrame, deals: pd.DataFrame, model: str
) -> dict[str, int]:
    """Deal-by-deal reference of the documented rules (ties: campaign id that sorts first)."""
    out: dict[str, int] = {}
    for deal_id, stage, amount in deals.itertuples(index=False):
        if stage != "won":
            continue
        rows = touches[touches["opportunity_id"] == deal_id]
        rows = rows[rows["opportunity_id"].notna()]
        if rows.empty:
            continue
        cents = round(amount * 100)
        pairs = [(t.value, c) for c, t in zip(rows["campaign_id"], rows["touched_at"], strict=True)]
        if model == "first_touch":
            winners = {min(pairs)[1]: cents}
        elif model == "last_touch":
            winners = {min((-t, c) for t, c in pairs)[1]: cents}
        else:
            names = sorted({c for _, c in pairs})
            q, r = divmod(cents, len(names))
            winners = {c: q + (1 if i < r else 0) for i, c in enumerate(names)}
        for c, v in winners.items():
            out[c] = out.get(c, 0) + v
    return out


class TestCampaignRoiProperties:
    @given(roi_cases(), st.sampled_from(["first_touch", "last_touch", "even"]))
    def test_attribution_sums_to_won_revenue(self, case, model) -> None:  # type: ignore[no-untyped-def]
        campaigns, touches, deals = case
        out = campaign_roi(campaigns, touches, deals, model=model)
        assert out["attributed_revenue_cents"].dtype == np.int64
        assert int(out["attributed_revenue_cents"].sum()) == _won_touched_cents(touches, deals)
        touched = set(touches["opportunity_id"].dropna().tolist())
        n_won = int(((deals["stage"] == "won") & deals["opportunity_id"].isin(touched)).sum())
        assert out["attributed_deals"].sum() == pytest.approx(n_won)
        assert (out["deals_won"] <= out["deals_closed"]).all()
        assert (out["deals_closed"] <= out["deals_influenced"]).all()
        assert (out["deals_influenced"] <= out["touches"]).all()

    @given(roi_cases(), st.sampled_from(["first_touch", "last_touch", "even"]))
    def test_matches_reference(self, case, model) -> None:  # type: ignore[no-untyped-def]
        campaigns, touches, deals = case
        out = campaign_roi(campaigns, touches, deals, model=model)
        expected = _reference_attribution(touches, deals, model)
        got = out["attributed_revenue_cents"]
        assert {k: int(v) for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}

    @given(
        roi_cases(), st.sampled_from(["first_touch", "last_touch", "even"]), st.integers(0, 10**6)
    )
    def test_row_order_changes_nothing(self, case, model, seed) -> None:  # type: ignore[no-untyped-def]
        campaigns, touches, deals = case
        a = campaign_roi(campaigns, touches, deals, model=model)
        b = campaign_roi(
            shuffled(campaigns, seed),
            shuffled(touches, seed + 1),
            shuffled(deals, seed + 2),
            model=model,
        )
        pd.testing.assert_frame_equal(a, b)

    @given(roi_cases(), st.sampled_from(["first_touch", "last_touch", "even"]))
    def test_grouping_adds_up(self, case, model) -> None:  # type: ignore[no-untyped-def]
        campaigns, touches, deals = case
        per = campaign_roi(campaigns, touches, deals, model=model)
        grouped = campaign_roi(campaigns, touches, deals, model=model, by="channel")
        channel = campaigns.set_index("campaign_id")["channel"]
        summed = per.groupby(channel.reindex(per.index).to_numpy())[
            ["cost", "touches", "attributed_revenue_cents", "campaigns"]
        ].sum()
        pd.testing.assert_frame_equal(
            grouped[["cost", "touches", "attributed_revenue_cents", "campaigns"]],
            summed,
            check_names=False,
            check_index_type=False,
        )
        # A deal touched by two campaigns of one channel counts once for the channel.
        assert (grouped["deals_influenced"] <= summed.reindex(grouped.index)["touches"]).all()


@pytest.mark.parametrize(
    ("campaigns", "touches", "deals", "kwargs", "exc", "match"),
    [
        (
            CAMPAIGNS,
            TOUCHES.assign(campaign_id=["A", "B", "C", "B", "C", "B", "A", "Z", "A"]),
            DEALS,
            {},
            DataError,
            r"touches row 7 names campaign 'Z', which is not in campaigns",
        ),
        (
            CAMPAIGNS,
            TOUCHES.assign(opportunity_id=["D1"] * 8 + ["D9"]),
            DEALS,
            {},
            DataError,
            r"touches row 8 \(campaign_id='A'\) names deal 'D9', which is not in opportunities",
        ),
        (
            CAMPAIGNS.assign(cost=[1.0, -5.0, 0.0]),
            TOUCHES,
            DEALS,
            {},
            DataError,
            r"column 'cost' of campaigns has negative value -5.0 at row 1 \(campaign_id='B'\)",
        ),
        (
            CAMPAIGNS.assign(cost=[1.0, np.nan, 0.0]),
            TOUCHES,
            DEALS,
            {},
            DataError,
            r"'cost' .* NaN at row 1",
        ),
        (
            CAMPAIGNS.assign(campaign_id=["A", "A", "C"]),
            TOUCHES,
            DEALS,
            {},
            DataError,
            r"duplicate value 'A'",
        ),
        (
            CAMPAIGNS,
            TOUCHES,
            DEALS.assign(amount=[1.0, -1.0, 0.0, 0.0]),
            {},
            DataError,
            r"'amount' of opportunities has negative value -1.0 at row 1 \(opportunity_id='D2'\)",
        ),
        (
            CAMPAIGNS,
            TOUCHES,
            DEALS.assign(stage=["won", None, "lost", "open"]),
            {},
            DataError,
            r"column 'stage' of opportunities has a missing value at row 1",
        ),
        (
            CAMPAIGNS,
            TOUCHES,
            DEALS.assign(opportunity_id=["D1", "D1", "D3", "D4"]),
            {},
            DataError,
            r"duplicate value 'D1'",
        ),
        (
            CAMPAIGNS,
            TOUCHES.assign(touched_at=["2024-01-01"] * 8 + ["soon"]),
            DEALS,
            {},
            ColumnTypeError,
            r"column 'touched_at' of touches has value 'soon' at row 8",
        ),
        (
            CAMPAIGNS,
            TOUCHES.drop(columns="touched_at"),
            DEALS,
            {},
            SchemaError,
            r"touches is missing column\(s\) 'touched_at'",
        ),
        (CAMPAIGNS.iloc[:0], TOUCHES, DEALS, {}, SchemaError, r"campaigns is empty"),
        (
            CAMPAIGNS,
            TOUCHES,
            DEALS,
            {"by": "region"},
            SchemaError,
            r"campaigns is missing column\(s\) 'region'",
        ),
        (
            CAMPAIGNS.assign(channel=["web", None, "event"]),
            TOUCHES,
            DEALS,
            {"by": "channel"},
            DataError,
            r"column 'channel' of campaigns has a missing value at row 1",
        ),
        (CAMPAIGNS, TOUCHES, DEALS, {"lead": "lead"}, SchemaError, r"missing column\(s\) 'lead'"),
        (
            CAMPAIGNS,
            TOUCHES.assign(lead_id=[None] + ["x"] * 8),
            DEALS,
            {"lead": "lead_id"},
            DataError,
            r"column 'lead_id' of touches has a missing value at row 0",
        ),
        (
            CAMPAIGNS,
            TOUCHES,
            DEALS,
            {"model": "linear"},
            ConfigError,
            r"model='linear' is not one of",
        ),
        (CAMPAIGNS, TOUCHES, DEALS, {"decimals": 1.5}, ConfigError, r"decimals must be int"),
        (
            CAMPAIGNS.assign(cost=["a", 1.0, 0.0]),
            TOUCHES,
            DEALS,
            {},
            ColumnTypeError,
            r"non-numeric value 'a'",
        ),
    ],
)
def test_campaign_roi_bad_input(
    campaigns: pd.DataFrame,
    touches: pd.DataFrame,
    deals: pd.DataFrame,
    kwargs: dict[str, object],
    exc: type[Exception],
    match: str,
) -> None:
    with pytest.raises(exc, match=match):
        campaign_roi(campaigns, touches, deals, **kwargs)  # type: ignore[arg-type]


def test_tz_aware_touch_times() -> None:
    touches = TOUCHES.assign(touched_at=TOUCHES["touched_at"].dt.tz_localize("Europe/Berlin"))
    a = campaign_roi(CAMPAIGNS, touches, DEALS, model="last_touch")
    b = campaign_roi(CAMPAIGNS, TOUCHES, DEALS, model="last_touch")
    pd.testing.assert_frame_equal(a, b)
