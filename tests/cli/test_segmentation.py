"""The ``rfm``, ``segments``, ``abc`` and ``grades`` commands (crmcore.cli.segmentation)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmcore.errors import DataError
from crmcore.segmentation import rfm_summary
from helpers_cli import assert_same, cli, cli_frame, csv, read_out, run


def test_rfm_prints_table(orders: Path) -> None:
    result = run("rfm", str(orders), "--customer", "client", "--date", "day", "--amount", "total")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0]
    for column in ("recency", "frequency", "monetary"):
        assert column in header


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rfm_writes_file_matching_the_library(orders: Path, tmp_path: Path, suffix: str) -> None:
    from crmcore.segmentation import rfm_summary

    out = tmp_path / f"rfm{suffix}"
    result = run(
        "rfm",
        str(orders),
        "--customer",
        "client",
        "--date",
        "day",
        "--amount",
        "total",
        "--segments",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    written = read_out(out, ids=["client"])
    assert {"client", "recency", "r_score", "segment"} <= set(written.columns)
    tx = csv(orders, ids=["client"])
    expected = rfm_summary(tx, customer="client", date="day", amount="total")
    assert written["client"].tolist() == expected.index.tolist()
    assert written["monetary"].to_numpy() == pytest.approx(expected["monetary"].to_numpy())


def test_rfm_parquet_input(orders: Path, tmp_path: Path) -> None:
    pq = tmp_path / "orders.parquet"
    pd.read_csv(orders).to_parquet(pq)
    result = run("rfm", str(pq), "--customer", "client", "--date", "day", "--amount", "total")
    assert result.returncode == 0, result.stderr


def test_rfm_prints_amounts_near_the_largest_float(tmp_path: Path) -> None:
    # issue #14's catalogue: printing a monetary column holding 1e307 overflowed while choosing
    # its decimals (rounding 1e307 to 2 decimals multiplies it by 100). Hand-worked scores,
    # bins 3: recency 2, 1, 0 -> edges 2/3 and 4/3 -> r 1, 2, 3; frequency all 1 -> f 1;
    # monetary 1e307, 2.25, 10 -> edges 7.42 and 10 + (1e307 - 10) / 3 -> m 3, 1, 2.
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,date,amount\n1,2024-01-01,1e307\n2,2024-01-02,2.25\n3,2024-01-03,10\n"
    )
    status, text = cli("rfm", str(path), "--scores", "--bins", "3")
    assert status == 0, text
    rows = {line.split()[0]: line.split() for line in text.splitlines()[2:]}
    assert rows["1"][3].startswith("9,999,999,999,999,999,")  # 1e307 with every digit
    assert rows["2"][3] == "2.25"
    assert rows["3"][3] == "10.00"
    assert [rows[c][-1] for c in "123"] == ["113", "211", "312"]


def test_rfm_reads_an_id_typed_two_ways_in_a_frame_as_one_customer_in_a_file(
    tmp_path: Path,
) -> None:
    # issue #14: a frame holding 1 and "1" is refused by rfm_summary (one id typed two ways),
    # but its CSV file writes both as 1, and a file has no types: one customer 1 with two
    # purchase days (frequency 2, monetary 10 + 5), and customer 2.
    frame = pd.DataFrame(
        {
            "customer_id": [1, "1", 2],
            "date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-03"]),
            "amount": [10.0, 5.0, 7.0],
        }
    )
    with pytest.raises(DataError, match=r"mixes number 1 \(row 0.*\) and text '1' \(row 1"):
        rfm_summary(frame)
    path = tmp_path / "orders.csv"
    frame.to_csv(path, index=False)
    written = cli_frame(tmp_path, "rfm", str(path))
    assert written["customer_id"].tolist() == [1, 2]
    assert written["frequency"].tolist() == [2, 1]
    assert written["monetary"].tolist() == [15.0, 7.0]


def test_segments_subprocess_matches_library(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.segmentation import (
        RF_GRID_10,
        rfm_scores,
        rfm_segments,
        rfm_summary,
        segment_summary,
    )

    out = tmp_path / "seg.csv"
    result = run("segments", str(files["tx"]), "--map", "grid", "--summary", "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = rfm_summary(csv(files["tx"], ids=["customer_id"]))
    segments = rfm_segments(rfm_scores(summary), RF_GRID_10)
    expected = segment_summary(segments.join(summary["monetary"]), RF_GRID_10, value="monetary")
    assert_same(read_out(out), expected)
    assert int(read_out(out)["customers"].sum()) == len(summary)


def test_segments_per_customer_in_process(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.segmentation import rfm_scores, rfm_segments, rfm_summary

    written = cli_frame(tmp_path, "segments", str(files["tx"]), "--as-of", "2024-12-31")
    summary = rfm_summary(csv(files["tx"], ids=["customer_id"]), as_of="2024-12-31")
    assert_same(written, summary.join(rfm_segments(rfm_scores(summary))))


def test_segments_rejects_bins_the_map_cannot_read(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, _ = cli("segments", str(files["tx"]), "--bins", "3")
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "ConfigError: --bins 3 does not fit segment map '11'" in err


def test_abc_xyz_subprocess_parquet_matches_library(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.segmentation import abc_xyz

    out = tmp_path / "abc.parquet"
    result = run("abc", str(files["tx"]), "--xyz", "--cutoffs", "0.7,0.9", "--out", str(out))
    assert result.returncode == 0, result.stderr
    expected = abc_xyz(csv(files["tx"], ids=["customer_id"]), cutoffs=(0.7, 0.9))
    assert_same(read_out(out), expected)


def test_abc_classes_of_totals_per_customer(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.segmentation import abc_classes

    written = cli_frame(tmp_path, "abc", str(files["tx"]), "--basis", "count")
    totals = csv(files["tx"], ids=["customer_id"]).groupby("customer_id")["amount"].sum()
    assert written["customer_id"].astype(str).tolist() == totals.index.tolist()
    np.testing.assert_allclose(written["total"], totals.to_numpy())
    assert written["abc"].tolist() == abc_classes(totals, basis="count").astype(str).tolist()
    summary = cli_frame(tmp_path, "abc", str(files["tx"]), "--summary")
    assert summary["abc"].tolist() == ["A", "B", "C"]
    assert int(summary["items"].sum()) == len(totals)
    assert summary["share"].sum() == pytest.approx(1.0)
    # the item crossing 80 % is in A: A holds at least 80 % of the value
    assert summary["share"].iloc[0] >= 0.8


def test_grades_subprocess_matches_library(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.segmentation import GradeRules, customer_grades, rfm_summary

    out = tmp_path / "grades.csv"
    result = run(
        "grades",
        str(files["tx"]),
        "--customers",
        str(files["customers"]),
        "--potential-cutoff",
        "0.6",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    people = csv(files["customers"], ids=["customer_id"]).set_index("customer_id")
    tx = csv(files["tx"], ids=["customer_id"])
    frame = pd.DataFrame(
        {
            "value": rfm_summary(tx)["monetary"].reindex(people.index, fill_value=0),
            "potential": people["potential"],
        }
    )
    expected = customer_grades(frame, GradeRules(potential_cutoff=0.6), value="value")
    written = read_out(out)
    assert_same(written, expected.sort_index())  # ids are text: sorted as text
    # customers without purchases are graded, never dropped; they are never A
    no_buy = written[written["customer_id"].astype(int) > 40]
    assert len(no_buy) == 5
    assert set(no_buy["grade"]) <= {"B", "C"}


def test_grades_options_rules_file_and_summary(files: dict[str, Path], tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"value_method": "quantile", "value_cutoff": 0.5}))
    by_file = cli_frame(
        tmp_path, "grades", str(files["tx"]), "--customers", str(files["customers"]),
        "--rules", str(rules),
    )  # fmt: skip
    by_options = cli_frame(
        tmp_path, "grades", str(files["tx"]), "--customers", str(files["customers"]),
        "--value-method", "quantile", "--value-cutoff", "0.5",
    )  # fmt: skip
    pd.testing.assert_frame_equal(by_file, by_options)
    # without a customers file nobody has potential: only A and C
    alone = cli_frame(tmp_path, "grades", str(files["tx"]), "--labels", "top,mid,low")
    assert set(alone["grade"]) == {"top", "low"}
    summary = cli_frame(tmp_path, "grades", str(files["tx"]), "--summary")
    assert summary["grade"].tolist() == ["A", "B", "C"]
    assert summary["customers"].tolist()[1] == 0
