"""How every command reads its files (crmcore.cli._io): cells as written, Unix habits, real exports.

Each test runs the real command as a subprocess on files, as users do.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crmcore.errors import DataError
from crmcore.segmentation import rfm_summary
from helpers_cli import RATES, csv, run

ORDERS = ["--customer", "client", "--date", "day", "--amount", "total"]


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# --------------------------------------------------------------------------------------------
# cells as written


def test_a_cell_n_a_is_named_as_written(orders: Path, tmp_path: Path) -> None:
    text = orders.read_text().splitlines()
    text[6] = ",".join([*text[6].split(",")[:2], "n/a"])
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(text) + "\n")
    line = one_error_line(run("rfm", str(bad), *ORDERS))
    # the library's own words, not "has NaN" (a CSV reader guessing that n/a means missing)
    assert (
        "ColumnTypeError: column 'total' of transactions has non-numeric value 'n/a' at row 5"
        in (line)
    )


def test_an_empty_cell_is_a_missing_value(orders: Path, tmp_path: Path) -> None:
    text = orders.read_text().splitlines()
    text[3] = ",".join([*text[3].split(",")[:2], ""])
    bad = tmp_path / "gap.csv"
    bad.write_text("\n".join(text) + "\n")
    line = one_error_line(run("rfm", str(bad), *ORDERS))
    assert "DataError: column 'total' of transactions has NaN at row 2" in line


def test_ids_are_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,date,amount\n00001,2024-01-05,10\n00001,2024-02-05,5\n1,2024-03-01,7\n"
    )
    out = tmp_path / "rfm.csv"
    assert run("rfm", str(path), "--out", str(out)).returncode == 0
    written = pd.read_csv(out, dtype={"customer_id": str})
    assert written["customer_id"].tolist() == ["00001", "1"]  # two customers, zeros kept
    assert written["monetary"].tolist() == [15.0, 7.0]
    # the same for an item (abc), a person (quota) and an opportunity (funnel)
    abc = tmp_path / "abc.csv"
    assert run("abc", str(path), "--item", "customer_id", "--out", str(abc)).returncode == 0
    assert pd.read_csv(abc, dtype=str)["customer_id"].tolist() == ["00001", "1"]
    people = tmp_path / "people.csv"
    people.write_text("person,weight\n007,1\n7,3\n")
    quota = tmp_path / "quota.csv"
    assert run("quota", str(people), "--total", "100", "--out", str(quota)).returncode == 0
    assert pd.read_csv(quota, dtype=str)["person"].tolist() == ["007", "7"]
    deals = tmp_path / "deals.csv"
    deals.write_text("opportunity_id,stage,amount\n0042,bid,100\n042,won,50\n")
    funnel = tmp_path / "funnel.csv"
    result = run("funnel", str(deals), *RATES, "--out", str(funnel))
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(funnel, dtype=str)["opportunity_id"].tolist() == ["0042", "042"]


def test_labels_that_look_like_numbers_stay_labels(tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text("opportunity_id,stage,amount\n1,1,100\n2,2,50\n3,3,10\n")
    result = run(
        "funnel", str(deals), "--stages", "1,2", "--rates", "0.5,0.5", "--durations", "1,1",
        "--won", "3", "--by-stage",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[2:]] == ["1", "2", "3", "lost"]


# --------------------------------------------------------------------------------------------
# standard input and output


def test_dash_reads_standard_input_and_writes_standard_output(orders: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crmcore", "rfm", "-", *ORDERS, "--out", "-"],
        input=orders.read_bytes(),
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    from io import BytesIO

    written = pd.read_csv(BytesIO(result.stdout), dtype={"client": str})
    from_file = run("rfm", str(orders), *ORDERS, "--out", "-")
    assert result.stdout.decode() == from_file.stdout
    assert written.columns[:4].tolist() == ["client", "recency", "frequency", "monetary"]
    assert len(written) == csv(orders)["client"].nunique()


def test_parquet_on_standard_input(orders: Path, tmp_path: Path) -> None:
    pq = tmp_path / "orders.parquet"
    csv(orders, ids=["client"]).to_parquet(pq)
    result = subprocess.run(
        [sys.executable, "-m", "crmcore", "rfm", "-", *ORDERS, "--out", "-"],
        input=pq.read_bytes(),
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == run("rfm", str(orders), *ORDERS, "--out", "-").stdout


def test_empty_standard_input_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crmcore", "rfm", "-"],
        input=b"",
        capture_output=True,
        text=False,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.decode().strip() == (
        "crmcore rfm: error: standard input is empty; expected a CSV or Parquet table"
    )


# --------------------------------------------------------------------------------------------
# real exports: separators, decimal commas, encodings, dates


def _european(tmp_path: Path, orders: Path) -> Path:
    frame = csv(orders, ids=["client"])
    day = pd.to_datetime(frame["day"]).dt.strftime("%d.%m.%Y")
    amount = frame["total"].map(lambda v: f"{v:,.2f}".replace(",", " ").replace(".", ","))
    amount = amount.str.replace(" ", ".")
    text = "client;day;total\n" + "\n".join(
        f"{c};{d};{a}" for c, d, a in zip(frame["client"], day, amount, strict=True)
    )
    path = tmp_path / "european.csv"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_european_csv_with_semicolons_decimal_commas_and_day_first_dates(
    orders: Path, tmp_path: Path
) -> None:
    path = _european(tmp_path, orders)
    assert "1.533,80" in path.read_text() or "." in path.read_text()
    plain = run("rfm", str(orders), *ORDERS, "--out", "-").stdout
    for dates in (["--date-format", "%d.%m.%Y"], ["--dayfirst"]):
        result = run(
            "rfm", str(path), *ORDERS, "--sep", ";", "--decimal", ",", "--thousands", ".",
            *dates, "--out", "-",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout == plain


def test_a_date_not_in_the_format_is_named(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,date,amount\n1,31.01.2024,10\n2,2024-02-05,5\n")
    line = one_error_line(run("rfm", str(path), "--date-format", "%d.%m.%Y"))
    assert line == (
        "crmcore rfm: error: column 'date' of "
        f"{path} has '2024-02-05' at row 1, which is not a date in --date-format '%d.%m.%Y'"
    )


def test_decimal_comma_needs_another_separator(orders: Path) -> None:
    line = one_error_line(run("rfm", str(orders), *ORDERS, "--decimal", ","))
    assert "--decimal ',' is also the field separator; pass --sep ';'" in line


def test_gbk_files_are_read_with_their_encoding(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    rows = "客户,日期,金额\n张三,2024-01-05,10.5\n李四,2024-02-05,20\n张三,2024-03-05,1\n"
    path.write_bytes(rows.encode("gbk"))
    args = ["--customer", "客户", "--date", "日期", "--amount", "金额", "--out", "-"]
    result = run("rfm", str(path), *args, "--encoding", "gbk")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("张三,")
    line = one_error_line(run("rfm", str(path), *args))
    assert "it is not utf-8 text" in line
    assert "--encoding gbk" in line


# --------------------------------------------------------------------------------------------
# time zones


MIXED_OFFSETS = (
    "customer_id,date,amount\n"
    "1,2024-03-30T23:30:00+01:00,10\n"  # 22:30 UTC on the 30th
    "1,2024-03-31T00:30:00+02:00,5\n"  # 22:30 UTC on the 30th too (after the DST change)
    "2,2024-04-02T12:00:00+02:00,7\n"
)


def test_mixed_utc_offsets_exit_2_naming_both_rows_as_the_library_does(tmp_path: Path) -> None:
    # issue #14: the file's dates were read as UTC; rfm_summary refuses the same text in a
    # frame (naming the column and both rows), and so does the command unless told --utc
    path = tmp_path / "orders.csv"
    path.write_text(MIXED_OFFSETS)
    line = one_error_line(run("rfm", str(path)))
    assert line == (
        f"crmcore rfm: error: column 'date' of {path} mixes UTC offsets: "
        "'2024-03-30T23:30:00+01:00' at row 0 and '2024-03-31T00:30:00+02:00' at row 1; pass "
        "--utc to read its dates as UTC, or write every date with one offset"
    )
    frame = pd.read_csv(path)
    with pytest.raises(DataError, match=r"column 'date' of transactions mixes UTC offsets"):
        rfm_summary(frame)


def test_mixed_utc_offsets_are_read_as_utc_on_request(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(MIXED_OFFSETS)
    result = run("rfm", str(path), "--utc", "--out", "-")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # asked for: nothing to tell
    written = pd.read_csv(pd.io.common.StringIO(result.stdout))
    # both purchases of customer 1 are on 30 March in UTC: one purchase day
    assert written["frequency"].tolist() == [1, 1]
    assert written["last_purchase"].tolist()[0].startswith("2024-03-30 22:30:00+00:00")


@pytest.mark.parametrize("utc", [[], ["--utc"]])
def test_dates_with_and_without_offsets_exit_2_naming_two_values(
    tmp_path: Path, utc: list[str]
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,date,amount\n1,2024-03-30,10\n1,2024-03-31T00:30:00+02:00,5\n")
    line = one_error_line(run("rfm", str(path), *utc))  # --utc cannot place a naive date
    assert line == (
        f"crmcore rfm: error: column 'date' of {path} mixes dates with and without a UTC "
        "offset: '2024-03-30' at row 0 and '2024-03-31T00:30:00+02:00' at row 1; give every "
        "date an offset, or none"
    )


def test_rows_after_as_of_are_left_out_on_request_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,date,amount\n1,2024-01-01,10\n1,2024-03-02,4\n2,2024-04-01,1\n")
    result = run("rfm", str(path), "--as-of", "2024-02-01", "--after-as-of", "exclude")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "crmcore: note: 2 row(s) after --as-of 2024-02-01 left out\n"
    assert len(result.stdout.splitlines()) == 3  # customer 1 only


# --------------------------------------------------------------------------------------------
# hints speak the command line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["rfm", "{refunds}"], "pass --refunds allow to count refunds"),
        (["rfm", "{refunds}", "--refunds", "allow", "--as-of", "2024-01-01"],
         "Leave them out with --after-as-of exclude (their number is reported), or choose"),
        (["forecast", "{late}", *RATES, "--as-of", "2025-01-01", "--close-date", "close_date",
          "--overdue", "error"], "or pass --overdue as_of"),
        (["funnel", "{opps}", *RATES, "--fx", "USD=1"], "pass --currency CURRENCY"),
        (["commission", "{deals}", "--status", "status", "--tiers", "0:0.03,1:0.05",
          "--basis", "attainment"], "pass --targets FILE"),
        (["scorecard", "{kpis}", "--metric", "revenue:0.5", "--metric", "win_rate:0.2"],
         "or pass --normalise-weights"),
        (["funnel", "{opps}", "--stages", "prospect,bid", "--history", "{backward}"],
         "(pass --backward furthest to keep each deal's furthest progress)"),
        (["commission", "{capital}", "--status", "status", "--tiers", "0:0.1"],
         "(pass --open-values * to treat every other value as open)"),
    ],
)  # fmt: skip
def test_hints_name_options_not_python_keywords(
    files: dict[str, Path], tmp_path: Path, args: list[str], expected: str
) -> None:
    refunds = tmp_path / "refunds.csv"
    refunds.write_text("customer_id,date,amount\n1,2024-01-01,10\n1,2024-01-02,-4\n")
    late = tmp_path / "late.csv"
    late.write_text("opportunity_id,stage,amount,close_date\n1,bid,10,2024-06-01\n")
    backward = tmp_path / "backward.csv"
    backward.write_text(
        "opportunity_id,stage,entered_at\n1,prospect,2024-01-01\n1,bid,2024-02-01\n"
        "1,prospect,2024-03-01\n"
    )
    capital = tmp_path / "capital.csv"
    deals = csv(files["deals"])
    deals.assign(status=deals["status"].str.capitalize()).to_csv(capital, index=False)
    paths = {k: str(v) for k, v in files.items()}
    named = {"refunds": refunds, "late": late, "capital": capital, "backward": backward}
    argv = [a.format(**named, **paths) for a in args]
    line = one_error_line(run(*argv))
    assert expected in line
    hints = re.sub(r"\(\w+=[^)]*\)", "", line)  # without row descriptions: (customer_id='1')
    assert not re.search(r"[a-z_]+=|\w\((?!s\))", hints), line  # no keyword, no call


def test_parquet_without_pyarrow_says_what_to_install(
    orders: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib.util

    from helpers_cli import cli

    pq = tmp_path / "orders.parquet"
    csv(orders).to_parquet(pq)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    status, _ = cli("rfm", str(pq))
    assert status == 2
    assert capsys.readouterr().err == (
        "crmcore rfm: error: reading Parquet needs pyarrow: pip install pyarrow "
        "(from a crmcore source checkout: pip install -e '.[parquet]')\n"
    )
