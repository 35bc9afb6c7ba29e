"""Headless Chromium for the slow tests: render a page offline, screenshot it, list its requests.

Debian's ``chromium`` (the slow CI step installs it when missing). Every run gets a fresh
``--user-data-dir`` and the flags that keep the browser's own background traffic off the
closed network; host names resolve to nothing (``--host-resolver-rules``), so a page that
needs the network visibly fails. The browser's net log records every request; the ones a page
made carry the page's origin as ``initiator`` (``null`` for a file), the browser's own
housekeeping (update checks, account probes) carries ``not an origin``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def chromium() -> str:
    """Path of the Chromium binary; skip the test without one (fail on CI, which installs it)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
    pytest.skip("chromium is not installed (apt-get install -y chromium)")


def run_chromium(
    url: str, *extra: str, budget_ms: int = 15_000, timeout: float = 120.0
) -> tuple[str, list[dict[str, Any]]]:
    """Load ``url`` headless and return (stdout, the requests the page made)."""
    with tempfile.TemporaryDirectory(prefix="crmcore-chromium-") as tmp:
        netlog = Path(tmp) / "net.json"
        command = [
            chromium(),
            *FLAGS,
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--virtual-time-budget={budget_ms}",
            f"--log-net-log={netlog}",
            *extra,
            url,
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=tmp
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout, page_requests(netlog)


def page_requests(netlog: Path) -> list[dict[str, Any]]:
    """Requests a page made (``url``, ``initiator``), from a Chromium net log."""
    data = json.loads(netlog.read_text(encoding="utf-8"))
    names = {number: name for name, number in data["constants"]["logEventTypes"].items()}
    found = []
    for event in data["events"]:
        if names.get(event["type"]) != "URL_REQUEST_START_JOB":
            continue
        params = event.get("params", {})
        initiator = params.get("initiator")
        if params.get("url") and initiator not in (None, "not an origin"):
            found.append({"url": params["url"], "initiator": initiator})
    return found


def dump_dom(url: str, **kwargs: Any) -> tuple[str, list[dict[str, Any]]]:
    """The page's DOM after its scripts ran (virtual time), and its requests."""
    return run_chromium(url, "--dump-dom", **kwargs)


def screenshot(
    url: str, path: Path, *, size: tuple[int, int] = (1280, 1600), **kwargs: Any
) -> list[dict[str, Any]]:
    """Save a PNG screenshot of ``url`` to ``path``; return the page's requests."""
    _, requests = run_chromium(
        url, f"--screenshot={path}", f"--window-size={size[0]},{size[1]}", **kwargs
    )
    assert path.is_file(), f"chromium wrote no screenshot to {path}"
    return requests
