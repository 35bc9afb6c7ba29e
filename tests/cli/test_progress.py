"""Progress of long work on standard error (crmcore.cli._progress), only on a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from helpers_cli import RATES, run

FORECAST = ["--as-of", "2025-01-01", "--draws", "3000", "--seed", "1"]


def run_with_terminal_stderr(*args: str, code: str | None = None) -> tuple[int, str, str]:
    """Run a command with standard error on a pseudo-terminal; return status, stdout, stderr."""
    leader, follower = pty.openpty()
    # a terminal 120 columns wide (a new pseudo-terminal has none, and a bar needs some)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    command = [sys.executable, "-m", "crmcore", *args]
    if code is not None:
        command = [sys.executable, "-c", code, *args]
    chunks = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower) as proc:
        os.close(follower)
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
        status = proc.wait(timeout=300)
    os.close(leader)
    return status, out, b"".join(chunks).decode(errors="replace")


def test_a_simulation_shows_a_progress_bar_on_a_terminal(files: dict[str, Path]) -> None:
    pytest.importorskip("tqdm")
    status, out, err = run_with_terminal_stderr("forecast", str(files["opps"]), *RATES, *FORECAST)
    assert status == 0, err
    assert "simulating" in err
    assert "3000/3000" in err  # the bar reached the total
    assert "draw" in err
    assert out.splitlines()[0].split()[:2] == ["count", "amount"]  # results stay on stdout


def test_no_progress_into_a_file_or_pipe(files: dict[str, Path]) -> None:
    result = run("forecast", str(files["opps"]), *RATES, *FORECAST)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_without_tqdm_a_terminal_gets_one_line_saying_how_to_get_the_bar(
    files: dict[str, Path],
) -> None:
    code = (
        "import sys; sys.modules['tqdm'] = None\n"
        "from crmcore.cli import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n"
    )
    status, _, err = run_with_terminal_stderr(
        "forecast", str(files["opps"]), *RATES, *FORECAST, code=code
    )
    assert status == 0, err
    assert err.strip() == (
        "crmcore: simulating 3,000 draws... (for a progress bar: pip install tqdm, or from a "
        "crmcore source checkout: pip install -e '.[progress]')"
    )
