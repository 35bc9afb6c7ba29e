"""The report in a real browser (slow; the slow CI step installs Debian's chromium).

Headless Chromium opens the written file with no network (host names resolve to nothing), takes
a screenshot, and its net log lists every request the page made. The report must paint (the
screenshot is not blank: the header colour, the charts' many colours), and no request may
leave the file. The check is shown to work: a page with a web image is caught, and the report's
Content-Security-Policy stops the same image before any request is made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from crmcore import datasets
from crmcore.cli._report import build_report
from helpers_browser import dump_dom, screenshot

pytestmark = pytest.mark.slow

LEAK = '<img src="https://example.com/pixel.png" alt="leak">'


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from crmcore.pipeline import StageModel

    model = StageModel.from_conversion_rates(
        ["prospect", "qualification", "proposal", "negotiation"],
        [0.5, 0.6, 0.7, 0.8],
        [30, 20, 20, 15],
    )
    book = datasets.opportunities(300, seed=2)  # open deals with a stage, and closed ones
    deals = book.assign(status=np.where(book["stage"].isin(["won", "lost"]), book["stage"], "open"))
    page = build_report(
        datasets.transactions(600, seed=2),
        deals,
        datasets.targets(8, n_deals=300, seed=2),
        model=model,
        as_of="2025-01-01",
    )
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def test_the_report_paints_and_requests_nothing(report_file: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    requests = screenshot(report_file.as_uri(), shot, size=(1280, 2400))
    assert requests == []
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[:2] == (2400, 1280)
    assert pixels.std() > 20, "the screenshot is blank"
    colours = np.unique(pixels.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 200, "no charts were painted"
    # the header band is the report's accent colour (#3949ab): the inline style applied
    assert tuple(pixels[20, 640]) == (0x39, 0x49, 0xAB)
    dom, _ = dump_dom(report_file.as_uri(), budget_ms=5_000)
    assert dom.count("<img") >= 5
    for title in (
        "Customers",
        "Customer futures",
        "Sales forecast",
        "Pipeline",
        "Team performance",
        "Quotas",
    ):
        assert f"<h2>{title}</h2>" in dom


def test_a_leaking_page_is_caught_and_the_report_policy_blocks_it(
    report_file: Path, tmp_path: Path
) -> None:
    leaky = tmp_path / "leaky.html"
    leaky.write_text(f"<!DOCTYPE html><html><body>{LEAK}</body></html>", encoding="utf-8")
    _, requests = dump_dom(leaky.as_uri(), budget_ms=3_000)
    assert [r["url"] for r in requests] == ["https://example.com/pixel.png"]
    # the same image inside the report: its Content-Security-Policy refuses it unrequested
    guarded = tmp_path / "guarded.html"
    text = report_file.read_text(encoding="utf-8")
    guarded.write_text(text.replace("<main>", f"<main>{LEAK}", 1), encoding="utf-8")
    _, requests = dump_dom(guarded.as_uri(), budget_ms=3_000)
    assert requests == []
