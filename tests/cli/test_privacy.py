"""``pseudonymize`` and ``mask`` run as users run them: subprocesses on files."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crmcore.privacy import mask, pseudonymize

KEY = "k3y-0f-the-crm-team-not-in-argv-123456"

PEOPLE = (
    "customer_id,email,phone,amount\n"
    "00123,ann@example.com,+86 138 1234 5678,1.50\n"
    "7,bo@example.org,(030) 901820,2\n"
    "00123,ann@example.com,+86 138 1234 5678,3\n"
)


def _run(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "CRM_KEY"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "crmcore", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    return path


def _as_text() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(PEOPLE), dtype=str, keep_default_na=False)


def test_pseudonymize_with_the_key_from_the_environment_to_stdout(people: Path) -> None:
    result = _run(
        "pseudonymize",
        str(people),
        "--columns",
        "email,customer_id",
        "--key-env",
        "CRM_KEY",
        "--out",
        "-",
        env={"CRM_KEY": KEY},
    )
    assert result.returncode == 0, result.stderr
    got = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    want = pseudonymize(_as_text(), ["email", "customer_id"], key=KEY)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # cells are read as written: the id 00123 is keyed as the text "00123", amounts untouched
    assert (
        got["customer_id"].iloc[0]
        == pseudonymize(pd.DataFrame({"c": ["00123"]}), "c", key=KEY)["c"].iloc[0]
    )
    assert got["amount"].tolist() == ["1.50", "2", "3"]
    assert got["customer_id"].iloc[0] == got["customer_id"].iloc[2]
    assert KEY not in result.stdout + result.stderr


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_a_key_file_gives_the_same_tokens_without_its_trailing_newline(
    people: Path, tmp_path: Path, ending: str
) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes((KEY + ending).encode())
    by_file = _run(
        "pseudonymize", str(people), "--columns", "email", "--key-file", str(key_file), "--out", "-"
    )
    by_env = _run(
        "pseudonymize",
        str(people),
        "--columns",
        "email",
        "--key-env",
        "CRM_KEY",
        "--out",
        "-",
        env={"CRM_KEY": KEY},
    )
    assert by_file.returncode == 0, by_file.stderr
    assert by_file.stdout == by_env.stdout


def test_pseudonymize_writes_a_file(people: Path, tmp_path: Path) -> None:
    out = tmp_path / "shared.csv"
    result = _run(
        "pseudonymize",
        str(people),
        "--columns",
        "customer_id",
        "--key-env",
        "K",
        "--length",
        "16",
        "--out",
        str(out),
        env={"K": KEY},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote 3 rows to {out}\n"
    got = pd.read_csv(out, dtype=str)
    assert got["customer_id"].str.len().tolist() == [16, 16, 16]
    assert got["email"].tolist() == _as_text()["email"].tolist()


BAD = [
    # arguments, environment, what the one line says
    (["--key-env", "CRM_KEY"], {}, "environment variable CRM_KEY is not set or is empty"),
    (["--key-env", "CRM_KEY"], {"CRM_KEY": ""}, "environment variable CRM_KEY is not set"),
    (["--key-file", "/nonexistent/key"], {}, "--key-file: could not read /nonexistent/key"),
    (["--key-env", "CRM_KEY"], {"CRM_KEY": KEY[:10]}, "ConfigError: key is only 10 bytes long"),
    (["--key-env", "CRM_KEY"], {"CRM_KEY": KEY + " "}, "leading or trailing whitespace"),
    (["--key-env", "CRM_KEY", "--length", "8"], {"CRM_KEY": KEY}, "length == 8"),
]


@pytest.mark.parametrize(("args", "env", "message"), BAD, ids=[b[2][:30] for b in BAD])
def test_bad_input_exits_2_with_one_line_and_never_shows_the_key(
    people: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = _run("pseudonymize", str(people), "--columns", "email", *args, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("crmcore pseudonymize: error: ")
    assert message in lines[0]
    for value in env.values():
        if value.strip():
            assert value.strip() not in result.stderr


def test_a_wrong_column_names_the_columns_not_the_key(people: Path) -> None:
    result = _run(
        "pseudonymize",
        str(people),
        "--columns",
        "mail",
        "--key-env",
        "CRM_KEY",
        env={"CRM_KEY": KEY},
    )
    assert result.returncode == 2
    assert "frame is missing column(s) 'mail'" in result.stderr
    assert KEY not in result.stderr + result.stdout


def test_the_key_as_an_argument_is_refused_without_repeating_it(people: Path) -> None:
    result = _run("pseudonymize", str(people), "--columns", "email", "--key", KEY)
    assert result.returncode == 2
    assert "--key is not accepted" in result.stderr
    assert KEY not in result.stderr + result.stdout
    result = _run("pseudonymize", str(people), "--columns", "email", f"--key={KEY}")
    assert result.returncode == 2
    assert KEY not in result.stderr + result.stdout


def test_mask_with_a_kind_per_column(people: Path) -> None:
    result = _run("mask", str(people), "--columns", "email:email,phone:phone", "--out", "-")
    assert result.returncode == 0, result.stderr
    got = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    want = mask(_as_text(), {"email": "email", "phone": "phone"})
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert got["phone"].tolist()[:2] == ["+** *** **** 5678", "(***) **1820"]


def test_mask_from_stdin_with_one_kind_and_to_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    out = tmp_path / "masked.parquet"
    result = _run(
        "mask",
        "-",
        "--columns",
        "phone",
        "--kind",
        "phone",
        "--keep-digits",
        "2",
        "--out",
        str(out),
        stdin=PEOPLE,
    )
    assert result.returncode == 0, result.stderr
    assert pd.read_parquet(out)["phone"].tolist() == [
        "+** *** **** **78",
        "(***) ****20",
        "+** *** **** **78",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--columns", "email"], "--columns: expected COLUMN:KIND"),
        (["--columns", "email:mail"], "mask kind 'mail' for column 'email' is not one of"),
        (["--columns", "amount:email"], "column 'amount' of frame has a value at row 0"),
    ],
)
def test_mask_bad_input_exits_2_with_one_line(people: Path, args: list[str], message: str) -> None:
    result = _run("mask", str(people), *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
