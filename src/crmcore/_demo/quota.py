"""Quota part of the demo report: a yearly target split by region, person and month."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmcore.datasets import customers, transactions
from crmcore.quota import (
    allocate,
    build_plan,
    history_weights,
    potential_weights,
    reassign_accounts,
)

__all__ = ["section"]

TARGET_CENTS = 2_400_000_00  # 2,400,000.00 for the year
YEAR = pd.period_range("2025-01", periods=12, freq="M")
# Seasonal shape (percent per month, sums to 100): slow summer, strong year end.
SEASON = [7, 7, 8, 8, 9, 8, 6, 6, 9, 10, 10, 12]
N_CUSTOMERS = 600


def _team(accounts: pd.DataFrame) -> pd.DataFrame:
    """Two reps per region plus one new hire in the North, starting in March."""
    rows = [
        (region, f"{region[:1]}{k}", "2021-01-01")
        for region in sorted(accounts["region"].unique())
        for k in (1, 2)
    ]
    rows.append(("North", "N3 (new)", "2025-03-01"))
    return pd.DataFrame(rows, columns=["region", "person", "start"])


def _cents(value: Any) -> str:
    return f"{int(value) / 100:,.2f}"


def section(seed: int = 0) -> str:
    """Return the quota section of the demo report as text.

    Examples
    --------
    >>> from crmcore._demo.quota import section
    >>> "every level reconciles" in section(1)
    True
    """
    cust = customers(N_CUSTOMERS, seed=seed)
    team = _team(cust)
    # Accounts go to the reps of their region in turn (the new hire gets a share in the North).
    owners = []
    for region, idx in cust.groupby("region").groups.items():
        reps = team.loc[team["region"] == region, "person"].to_numpy()
        owners.append(pd.Series(np.resize(reps, len(idx)), index=idx))
    cust = cust.assign(person=pd.concat(owners).sort_index())
    # Grades from potential: top 20 % A, next 30 % B, rest C.
    rank = cust["potential"].rank(pct=True, method="first")
    cust["grade"] = np.where(rank > 0.8, "A", np.where(rank > 0.5, "B", "C"))
    potential = potential_weights(cust, person="person", grade="grade")
    sales = transactions(N_CUSTOMERS, seed=seed)
    sales = sales[sales["date"].dt.year == 2024].merge(cust[["customer_id", "person"]])
    weights = history_weights(sales, person="person", potential=potential, blend=0.5)
    people = team.assign(weight=team["person"].map(weights).fillna(0.0).to_numpy())

    plan = build_plan(
        people,
        TARGET_CENTS,
        distribution=SEASON,
        periods=YEAR,
        start="start",
        method="huntington_hill",
    )
    plan.check()
    by_region = plan.by("region")
    by_person = plan.by("person")
    wide = plan.pivot("region_person", margins=True)
    quarters = pd.DataFrame(
        {f"2025-Q{q}": wide.iloc[:, 3 * (q - 1) : 3 * q].sum(axis=1) for q in (1, 2, 3, 4)}
    )
    quarters["2025"] = wide["total"]  # period labels as everywhere: 2025-Q1 .. 2025
    lines = [
        (
            f"Company target {_cents(TARGET_CENTS)} for 2025 over {len(people)} reps in "
            f"{len(by_region)} regions."
        ),
        "Weights: 50 % last year's sales share, 50 % potential share from account grades",
        "(A = 5, B = 3, C = 1 per account); Huntington-Hill for regions and people; months by",
        "a seasonal distribution (%): " + ", ".join(str(p) for p in SEASON) + ".",
        "The new hire (starts March) ramps 25/50/75/100 %; the ramped-away quota goes to the",
        "colleagues of the same region and month.",
        "",
        "Quota by region, rep and quarter (currency units):",
        quarters.to_string(
            formatters={c: lambda v: f"{v / 100:,.2f}" for c in map(str, quarters.columns)}
        ),
        "",
        "Reconciliation (integer cents, exact):",
        f"  sum of regions  {int(by_region.sum()):>14,}",
        f"  sum of reps     {int(by_person.sum()):>14,}",
        f"  sum of months   {int(plan.by('month').sum()):>14,}",
        f"  company target  {TARGET_CENTS:>14,}  -> every level reconciles",
    ]
    # Quota relief: move the South's three largest A accounts from S1 to S2.
    quotas = allocate(
        pd.DataFrame({"person": by_person.index, "weight": by_person.to_numpy()}),
        int(by_person.sum()),
    )
    book = cust.assign(weight=cust["grade"].map({"A": 5.0, "B": 3.0, "C": 1.0}))
    moved = (
        book[(book["person"] == "S1") & (book["grade"] == "A")]
        .nlargest(3, "potential")["customer_id"]
        .tolist()
    )
    after = reassign_accounts(
        quotas, book, dict.fromkeys(moved, "S2"), account="customer_id", person="person"
    )
    rec = after.to_dict(orient="index")
    s1, s2 = rec["S1"], rec["S2"]
    lines += [
        "",
        (
            "Reassigning 3 A accounts from S1 to S2 moves their share of S1's quota "
            f"({_cents(s1['moved_out_cents'])}):"
        ),
        (
            f"  S1 {_cents(s1['previous_cents'])} -> {_cents(s1['quota_cents'])}, "
            f"S2 {_cents(s2['previous_cents'])} -> {_cents(s2['quota_cents'])}; "
            f"company total unchanged ({int(after['quota_cents'].sum()) == TARGET_CENTS})."
        ),
    ]
    return "\n".join(lines)
