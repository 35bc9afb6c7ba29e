"""The ``quota`` command (crmcore.cli.quota)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers_cli import assert_same, cli_frame, csv, read_out, run


def test_quota_subprocess_allocation_matches_library(
    files: dict[str, Path], tmp_path: Path
) -> None:
    from crmcore.quota import allocate

    out = tmp_path / "quota.csv"
    result = run(
        "quota", str(files["team"]), "--total", "1000000.01", "--method", "dhondt",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = allocate(csv(files["team"]), 100_000_001, method="dhondt")
    written = read_out(out)
    assert_same(written.drop(columns="quota"), expected)
    assert int(written["quota_cents"].sum()) == 100_000_001
    np.testing.assert_allclose(written["quota"], written["quota_cents"] / 100)


def test_quota_bounds_seasonal_and_plans(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.quota import allocate, build_plan, seasonal_split

    team = csv(files["team"])
    bounded = cli_frame(tmp_path, "quota", str(files["team"]), "--total", "1000",
                        "--minimum", "150", "--maximum", "260")  # fmt: skip
    expected = allocate(team, 100_000, minimum=15_000, maximum=26_000)
    assert bounded["quota_cents"].tolist() == expected["quota_cents"].tolist()

    season = cli_frame(tmp_path, "quota", "--total", "1000", "--seasonal", "20,25,25,30",
                       "--first-month", "2025-01")  # fmt: skip
    assert season["period"].tolist() == ["2025-01", "2025-02", "2025-03", "2025-04"]
    want = seasonal_split(100_000, [20, 25, 25, 30]).tolist()
    assert season["quota_cents"].tolist() == want

    long = cli_frame(tmp_path, "quota", str(files["team"]), "--total", "1000",
                     "--seasonal", "50,50", "--method", "webster")  # fmt: skip
    plan = build_plan(
        team.assign(_region="all")
        .rename(columns={"region": "r0"})
        .rename(columns={"_region": "region"}),
        100_000,
        distribution=[50, 50],
        method="webster",
    )
    assert long.columns.tolist() == ["person", "month", "quota_cents", "quota"]
    assert long["quota_cents"].tolist() == plan.table["quota_cents"].tolist()

    wide = cli_frame(
        tmp_path, "quota", str(files["team"]), "--total", "1200", "--region", "region",
        "--first-month", "2025-01", "--seasonal", "25,25,25,25", "--wide",
    )  # fmt: skip
    expected_wide = build_plan(
        team, 120_000, distribution=[25] * 4,
        periods=list(pd.period_range("2025-01", periods=4, freq="M")),
    ).pivot("region_person")  # fmt: skip
    assert wide.columns.tolist() == ["region", "person", "2025-01", "2025-02", "2025-03",
                                     "2025-04", "total"]  # fmt: skip
    assert wide["total"].tolist() == expected_wide["total"].tolist()
    assert int(wide["total"].iloc[-1]) == 120_000


def test_quota_ramps_new_people(tmp_path: Path) -> None:
    people = pd.DataFrame(
        {"person": ["old", "new"], "weight": [1.0, 1.0], "start": ["2020-01-01", "2025-02-01"]}
    )
    path = tmp_path / "people.csv"
    people.to_csv(path, index=False)
    long = cli_frame(
        tmp_path, "quota", str(path), "--total", "400", "--first-month", "2025-01",
        "--seasonal", "25,25,25,25", "--start", "start", "--ramp", "0.5,1", "--ramp-excess", "drop",
    )  # fmt: skip
    # 200.00 each = 50.00 a month; "new" carries 0 in January, half in February, then full
    new = long[long["person"] == "new"]["quota"].tolist()
    assert new == [0.0, 25.0, 50.0, 50.0]
