"""The shareable HTML report: its writer, the sections each input gives, and the command.

The page must be one self-contained file: styles inline, charts as PNG data URIs, no script,
nothing fetched (a strict Content-Security-Policy says so to the browser). Figures on the page
are the library's own, computed independently here. The browser check (a real Chromium render,
a screenshot, the net log) is the slow test in tests/test_report_browser.py.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmcore import datasets
from crmcore.cli._report import build_report
from crmcore.cli._report.html import CSP, MISSING, Page, table_html
from crmcore.errors import ConfigError
from crmcore.pipeline import StageModel, pipeline_by_stage
from crmcore.segmentation import rfm_summary
from helpers_cli import cli, run

PNG = b"\x89PNG\r\n\x1a\n"
MODEL = StageModel.from_conversion_rates(
    ["prospect", "qualification", "proposal", "negotiation"], [0.5, 0.6, 0.7, 0.8], [30, 20, 20, 15]
)


def images(page: str) -> list[bytes]:
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert all(s.startswith("data:image/png;base64,") for s in sources), sources
    return [base64.b64decode(s.split(",", 1)[1]) for s in sources]


def sections(page: str) -> list[str]:
    return re.findall(r'<section id="(\w+)"><h2>', page)


def facts(page: str) -> dict[str, str]:
    found = re.findall(r'<div class="fact"><b>([^<]*)</b><span>([^<]*)</span></div>', page)
    return {html.unescape(label): html.unescape(value) for value, label in found}


def assert_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "default-src 'none'" in CSP
    assert "<script" not in page.lower()
    assert not re.search(r'(?:src|href)="(?!data:|#)', page), "a reference leaves the file"
    assert not re.search(r"url\(", page), "a style fetches something"
    for data in images(page):
        assert data.startswith(PNG)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {
        "transactions": datasets.transactions(400, seed=5),
        "deals": datasets.deals(300, n_people=4, seed=5),
        "targets": datasets.targets(4, n_deals=300, seed=5),
        "opportunities": datasets.opportunities(200, seed=5),
    }


# ------------------------------------------------------------------------------------------
# the writer
# ------------------------------------------------------------------------------------------


def test_table_escapes_text_and_formats_each_column_in_its_dtype() -> None:
    frame = pd.DataFrame(
        {
            "<b>name</b>": ["<script>alert(1)</script>", "O'Neil & Co"],
            "deals": [1200, 3],
            "amount": [1234.5, np.nan],
            "won": [True, False],
        },
        index=pd.Index(["a<", "b"], name="person"),
    )
    text = table_html(frame, formats={"amount": lambda v: f"{v:.1f}"})
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "O&#x27;Neil &amp; Co" in text
    assert "&lt;b&gt;name&lt;/b&gt;" in text
    cells = re.findall(r"<td(?: class=\"num\")?>([^<]*)</td>", text)
    assert cells == [
        *["a&lt;", "&lt;script&gt;alert(1)&lt;/script&gt;", "1,200", "1234.5", "yes"],
        *["b", "O&#x27;Neil &amp; Co", "3", MISSING, "no"],
    ]
    assert text.count('<td class="num">') == 4  # deals and amount, right-aligned
    assert "more rows" not in text
    long = table_html(pd.DataFrame({"x": range(60)}), max_rows=50)
    assert long.count("<tr>") == 51
    assert "… and 10 more rows." in long


def test_page_is_one_file_with_a_strict_policy_and_no_script() -> None:
    page = Page(title="T <1>", subtitle="s & t")
    part = page.section("Part", "part")
    part.note("a < b")
    part.facts({"customers": "1,000"})
    from crmcore.plot import pareto_curve

    part.figures((pareto_curve([5, 3, 1]), "a chart"))
    text = page.render()
    assert_self_contained(text)
    assert "<title>T &lt;1&gt;</title>" in text
    assert '<a href="#part">Part</a>' in text
    assert len(images(text)) == 1


# ------------------------------------------------------------------------------------------
# sections by input
# ------------------------------------------------------------------------------------------


def test_transactions_give_the_customer_section_with_the_library_figures(
    tables: dict[str, pd.DataFrame],
) -> None:
    tx = tables["transactions"]
    page = build_report(tx)
    assert_self_contained(page)
    assert sections(page) == ["customers", "futures", "forecast"]
    summary = rfm_summary(tx)
    shown = facts(page)
    assert shown["customers"] == f"{len(summary):,}"
    assert shown["purchases"] == f"{len(tx):,}"
    assert shown["revenue"] == f"{summary['monetary'].sum():,.0f}"
    assert len(images(page)) == 4  # RFM grid, segment sizes, Pareto curve, forecast
    top = summary["monetary"].nlargest(1)
    assert f"<td>{top.index[0]}</td>" in page
    # customer futures: the library's 12-month value, summed
    from crmcore.clv import customer_lifetime_value, fit_bg_nbd, fit_gamma_gamma
    from crmcore.segmentation import btyd_summary

    weekly = btyd_summary(tx, amount="amount", period="W")
    value = customer_lifetime_value(
        fit_bg_nbd(weekly, time_unit="W"),
        fit_gamma_gamma(weekly[weekly["frequency"] > 0]),
        weekly,
        months=12,
        time_unit="W",
    )
    assert shown["expected value, next 12 months"] == f"{value.sum():,.0f}"


def test_every_input_adds_its_sections(tables: dict[str, pd.DataFrame]) -> None:
    page = build_report(tables["transactions"], tables["deals"], tables["targets"])
    assert_self_contained(page)
    assert sections(page) == ["customers", "futures", "forecast", "team", "quotas"]
    assert len(images(page)) == 4 + 1 + 1  # + attainment bars, quota heat map
    assert sections(build_report(deals=tables["deals"])) == ["team"]
    assert "Give --targets FILE" in build_report(deals=tables["deals"])
    assert sections(build_report(targets=tables["targets"])) == ["quotas"]


def test_open_deals_give_the_pipeline_weighted_with_a_model(
    tables: dict[str, pd.DataFrame],
) -> None:
    book = tables["opportunities"]
    page = build_report(deals=book, model=MODEL, as_of="2025-01-01")
    assert_self_contained(page)
    assert sections(page) == ["pipeline"]
    by_stage = pipeline_by_stage(book, MODEL).loc[list(MODEL.stages)]
    shown = facts(page)
    assert shown["open deals"] == f"{int(by_stage['count'].sum()):,}"
    assert shown["expected (weighted)"] == f"{by_stage['expected_amount'].sum():,.0f}"
    assert shown["as of"] == "2025-01-01"
    assert len(images(page)) == 1  # the landing schedule with its band
    assert "Omitted" in page  # the roll-up says what the open pipeline leaves out
    unweighted = build_report(deals=book)
    assert "Give a stage model (--model FILE" in unweighted
    assert len(images(unweighted)) == 0


def test_the_report_is_deterministic_and_needs_a_table(tables: dict[str, pd.DataFrame]) -> None:
    book = tables["opportunities"]
    first = build_report(deals=book, model=MODEL, as_of="2025-01-01")
    assert build_report(deals=book, model=MODEL, as_of="2025-01-01") == first
    with pytest.raises(ConfigError, match="at least one table"):
        build_report()


# ------------------------------------------------------------------------------------------
# the command
# ------------------------------------------------------------------------------------------


def test_command_writes_one_html_file(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    for name in ("transactions", "deals", "targets"):
        tables[name].to_csv(tmp_path / f"{name}.csv", index=False)
    out = tmp_path / "report.html"
    status, printed = cli(
        "report",
        "--transactions",
        str(tmp_path / "transactions.csv"),
        "--deals",
        str(tmp_path / "deals.csv"),
        "--targets",
        str(tmp_path / "targets.csv"),
        "--title",
        "Q1 <review>",
        "--out",
        str(out),
    )
    assert status == 0
    assert printed.startswith(f"wrote {out} (")
    page = out.read_text(encoding="utf-8")
    assert_self_contained(page)
    assert sections(page) == ["customers", "futures", "forecast", "team", "quotas"]
    assert "<h1>Q1 &lt;review&gt;</h1>" in page


def test_command_with_a_stage_model_file(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    import json

    tables["opportunities"].to_csv(tmp_path / "deals.csv", index=False)
    (tmp_path / "model.json").write_text(json.dumps(MODEL.to_dict()), encoding="utf-8")
    out = tmp_path / "pipeline.html"
    status, _ = cli(
        "report",
        "--deals",
        str(tmp_path / "deals.csv"),
        "--model",
        str(tmp_path / "model.json"),
        "--as-of",
        "2025-01-01",
        "--out",
        str(out),
    )
    assert status == 0
    assert sections(out.read_text(encoding="utf-8")) == ["pipeline"]


def test_command_errors_are_one_line(tmp_path: Path) -> None:
    done = run("report", "--out", str(tmp_path / "r.html"))
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith("give at least one of --transactions, --deals, --targets")
    )
    datasets.transactions(50, seed=1).to_csv(tmp_path / "tx.csv", index=False)
    status, _ = cli("report", "--transactions", str(tmp_path / "tx.csv"), "--out", "r.pdf")
    assert status == 2
    missing = run("report", "--transactions", str(tmp_path / "nope.csv"), "--out", "r.html")
    assert missing.returncode == 2
    assert "file not found" in missing.stderr
    assert "Traceback" not in missing.stderr
