"""Privacy commands: ``pseudonymize`` (keyed tokens) and ``mask`` (values hidden for reports).

The key of ``pseudonymize`` comes only from an environment variable (``--key-env NAME``) or a
file (``--key-file PATH``), never from a command-line argument: arguments show in process
lists and shell histories. The key is never printed, not even in an error message.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from crmcore.cli._io import EXIT_OK, CLIError, Reading, emit, read_table
from crmcore.cli._options import add_command, split
from crmcore.privacy import mask, pseudonymize


def add_parser(sub: Any) -> None:
    """Add the ``pseudonymize`` and ``mask`` commands to ``sub``."""
    _add_pseudonymize(sub)
    _add_mask(sub)


class _RefuseKey(argparse.Action):
    """``--key``: refused without repeating its value (arguments show in process lists)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            "--key is not accepted: a key given as an argument shows in process lists and "
            "shell history; put it in an environment variable (--key-env NAME) or a file "
            "(--key-file PATH)"
        )


def _add_io(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the table, .csv (cells read as text) or .parquet; - is stdin")
    parser.add_argument(
        "--out", metavar="FILE", help="write to this .csv or .parquet file, or - for CSV on stdout"
    )
    parser.add_argument("--encoding", default="utf-8", help="text encoding of a CSV file (utf-8)")
    parser.add_argument("--sep", default=",", help="field separator of a CSV file (,)")


def _add_pseudonymize(sub: Any) -> None:
    cmd = add_command(
        sub,
        "pseudonymize",
        _run_pseudonymize,
        help="replace identifiers by keyed tokens (HMAC-SHA256) that still join",
        description="Replace the values of the named columns by keyed HMAC-SHA256 tokens: the "
        "same value and key give the same token in every file and run, so tables still join. "
        "The key is read from an environment variable or a file, never from the command line; "
        "a key file's one trailing newline is dropped. Pseudonymised data is still personal "
        "data: keep the key apart from it.",
        examples=[
            "orders.csv --columns email,customer_id --key-env CRM_KEY --out -",
            "orders.csv --columns customer_id --key-file /run/secrets/crm_key --out shared.csv",
        ],
    )
    _add_io(cmd)
    cmd.add_argument("--columns", required=True, help="columns to replace, comma-separated")
    key = cmd.add_mutually_exclusive_group(required=True)
    key.add_argument("--key-env", metavar="NAME", help="environment variable holding the key")
    key.add_argument("--key-file", metavar="PATH", help="file holding the key")
    key.add_argument("--key", nargs="?", action=_RefuseKey, help=argparse.SUPPRESS)
    cmd.add_argument("--length", type=int, default=32, help="hex digits per token, 16..64 (32)")


def _key(args: argparse.Namespace) -> str | bytes:
    """Return the key from ``--key-env`` or ``--key-file``; messages never include it."""
    if args.key_env is not None:
        value = os.environ.get(args.key_env)
        if not value:
            raise CLIError(f"--key-env: environment variable {args.key_env} is not set or is empty")
        return value
    path = Path(args.key_file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CLIError(f"--key-file: could not read {path} ({type(exc).__name__})") from None
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    elif raw.endswith(b"\n"):
        raw = raw[:-1]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw  # binary key bytes, used as they are


def _finish(frame: Any, args: argparse.Namespace, stream: TextIO) -> int:
    emit(frame, args.out or None, stream)
    return EXIT_OK


def _run_pseudonymize(args: argparse.Namespace, stream: TextIO) -> int:
    key = _key(args)
    frame = read_table(args.file, Reading(sep=args.sep, encoding=args.encoding), all_text=True)
    result = pseudonymize(frame, split(args.columns), key=key, length=args.length)
    del key
    return _finish(result, args, stream)


def _add_mask(sub: Any) -> None:
    cmd = add_command(
        sub,
        "mask",
        _run_mask,
        help="hide most of emails, phone numbers and names for reports",
        description="Mask the named columns for people who read a report: emails keep their "
        "first character and domain, phone numbers their last digits, names their initials. "
        "Give each column its kind as COLUMN:KIND (email, phone or name), or name the "
        "columns and give one --kind.",
        examples=[
            "contacts.csv --columns email:email,phone:phone --out -",
            "contacts.csv --columns name --kind name --out masked.csv",
        ],
    )
    _add_io(cmd)
    cmd.add_argument("--columns", required=True, help="COLUMN:KIND pairs (or names with --kind)")
    cmd.add_argument("--kind", choices=["email", "phone", "name"], help="kind of every column")
    cmd.add_argument(
        "--keep-digits", type=int, default=4, help="last phone digits left visible, 0..4 (4)"
    )


def _mask_kinds(text: str, kind: str | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for part in split(text):
        column, sep, given = part.partition(":")
        chosen = given.strip() if sep else kind
        if not column.strip() or chosen is None:
            raise CLIError(
                f"--columns: expected COLUMN:KIND (email, phone or name) or --kind, got {part!r}"
            )
        pairs[column.strip()] = chosen
    return pairs


def _run_mask(args: argparse.Namespace, stream: TextIO) -> int:
    kinds = _mask_kinds(args.columns, args.kind)
    frame = read_table(args.file, Reading(sep=args.sep, encoding=args.encoding), all_text=True)
    return _finish(mask(frame, kinds, keep_digits=args.keep_digits), args, stream)
