"""Keyed pseudonyms and masking of personal data.

Customer data is personal data. Two tools help share it with fewer people able to read it:

- :func:`pseudonymize` replaces identifiers (customer ids, emails, phone numbers) by keyed
  HMAC-SHA256 tokens: the same value and key give the same token in every frame and every run,
  so tables still join, while nobody without the key can compute a token from a guessed value.
- :func:`mask` hides most of a value for people who read a report: ``j***@example.com``,
  ``*** **** 5678``, ``J. D.``.

Pseudonymised data is still personal data (GDPR Art. 4(5) and Recital 26; PIPL Art. 73 calls it
de-identified, not anonymised): see the Privacy guide (``docs/privacy.md``) for what that means
and how to keep the key.

Errors raised here name the column and the row label but never repeat the value (it is the
personal data being protected, and messages end up in logs); their ``value`` field is ``None``.
The key never appears in a result, a message or an exception field.

Examples
--------
>>> import pandas as pd
>>> from crmcore import privacy
>>> key = "a-32-byte-secret-from-the-vault!"  # in real use: os.environ["CRM_KEY"]
>>> privacy.pseudonymize(pd.DataFrame({"customer_id": [42, 7]}), "customer_id", key=key,
...                      length=16)
        customer_id
0  e070c4c2a2742c56
1  6c3f579b6e4e5d58
"""

from __future__ import annotations

import decimal
import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import check_scalar, describe_row, first_true, require_columns
from crmcore.errors import ColumnTypeError, ConfigError, DataError

__all__ = ["mask", "pseudonymize"]

#: The shortest key :func:`pseudonymize` accepts, in bytes: half the SHA-256 output length, the
#: floor FIPS 198 section 3 sets for HMAC keys (32 random bytes are recommended).
MIN_KEY_BYTES = 16

#: The kinds of value :func:`mask` knows how to mask.
MASK_KINDS: tuple[str, ...] = ("email", "name", "phone")

_ObjArray = npt.NDArray[np.object_]
# infer_dtype kinds of an object column that cannot hold booleans (factorize would merge True
# with 1 and False with 0, so other columns are checked value by value).
_NO_BOOLS = frozenset({"string", "empty", "integer", "floating", "decimal", "mixed-integer-float"})


def _key_bytes(key: object) -> bytes:
    """Return the key as bytes, or raise a ConfigError that never repeats the key."""
    hint = (
        "read it from a secret store or an environment variable of the host "
        f"(at least {MIN_KEY_BYTES} bytes; 32 random bytes recommended, e.g. secrets.token_hex(32))"
    )
    if key is None:
        raise ConfigError(
            f"key is missing; pass the secret key as bytes or str: {hint}", column="key"
        )
    if isinstance(key, str):
        if key != key.strip():
            raise ConfigError(
                "key (str) has leading or trailing whitespace, often a newline read from a file; "
                "strip it, or pass the exact bytes if the whitespace is part of the key",
                column="key",
            )
        try:
            raw = key.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigError(
                "key (str) cannot be encoded as UTF-8 (it holds a lone surrogate)", column="key"
            ) from None
    elif isinstance(key, bytes | bytearray | memoryview):
        raw = bytes(key)
    else:
        raise ConfigError(f"key must be bytes or str, got {type(key).__name__}", column="key")
    if not raw:
        raise ConfigError(f"key is empty; {hint}", column="key")
    if len(raw) < MIN_KEY_BYTES:
        raise ConfigError(f"key is only {len(raw)} bytes long; {hint}", column="key")
    return raw


def _column_list(columns: object) -> list[str]:
    """``columns`` (one name or a sequence of names) as a list without repeats."""
    if isinstance(columns, str):
        return [columns]
    if not isinstance(columns, Sequence) or not all(isinstance(c, str) for c in columns):
        raise ConfigError(
            f"columns must be a column name or a list of column names, got {columns!r}",
            column="columns",
        )
    if not columns:
        raise ConfigError("columns is empty; name at least one column", column="columns")
    return list(dict.fromkeys(columns))


def _canonical(value: Any) -> str | None:
    """Return the text a value is keyed as, or ``None`` for a type that is not an identifier.

    Text is taken as it is. Integers and integral numbers are written in decimal without a
    fraction (``42``, ``42.0`` and ``Decimal("42.00")`` all give ``"42"``, like the text
    ``"42"``); other floats by their shortest round-trip text (``0.5`` → ``"0.5"``).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return None
    try:
        if type(value) is int or isinstance(value, Integral):  # plain int first: ABCs are slow
            return str(int(value))
        if isinstance(value, float | np.floating):
            number = float(value)
            if math.isfinite(number) and number.is_integer():
                return str(int(number))
            return repr(number)
        if isinstance(value, decimal.Decimal):
            if value.is_finite():
                if value == value.to_integral_value():
                    return str(int(value))
                return format(value.normalize(), "f")
            return repr(float(value))
    except ValueError:  # an integer of more than sys.get_int_max_str_digits() digits
        return None
    return None


def _factorize_text(
    frame: pd.DataFrame, column: str, *, allow_numbers: bool = True
) -> tuple[npt.NDArray[np.intp], list[str]]:
    """Codes (-1 = missing) and the canonical text of each distinct value of ``column``.

    Raises ColumnTypeError for booleans, dates and other values that are not identifiers,
    naming the first offending row but not its value.
    """
    series = frame[column]
    dtype = series.dtype
    what = "text or numbers" if allow_numbers else "text"
    if (
        pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype | pd.IntervalDtype)
        or (isinstance(dtype, pd.ArrowDtype) and dtype.kind in "bmM")
    ):
        raise ColumnTypeError(
            f"column {column!r} of frame holds {dtype} values; expected {what} "
            "(format dates or flags as text first if they are to be hidden)",
            column=column,
        )
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.intp)
    values = np.asarray(uniques, dtype=object).tolist()
    texts: list[str] = []
    bad: int | None = None
    for j, value in enumerate(values):
        text = _canonical(value) if allow_numbers or isinstance(value, str) else None
        if text is None:
            bad = j
            break
        texts.append(text)
    bool_pos = None
    if (
        pd.api.types.is_object_dtype(dtype)
        and pd.api.types.infer_dtype(series, skipna=True) not in _NO_BOOLS
    ):
        is_bool = series.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
        bool_pos = first_true(is_bool)
    positions = [
        p for p in (bool_pos, None if bad is None else first_true(codes == bad)) if p is not None
    ]
    if positions:
        pos = min(positions)
        found = series.iloc[pos]
        # numpy 1.x names its boolean scalar type bool_, numpy 2 bool: say bool for both.
        kind = "bool" if isinstance(found, bool | np.bool_) else type(found).__name__
        raise ColumnTypeError(
            f"column {column!r} of frame has a {kind} value at "
            f"{describe_row(frame, pos)}; expected {what} (the value is not repeated here)",
            column=column,
            row=frame.index[pos],
        )
    return codes, texts


def _spread(codes: npt.NDArray[np.intp], texts: Sequence[str | None]) -> _ObjArray:
    """One value per row from one value per distinct code; code -1 (missing) gives ``None``."""
    table = np.empty(len(texts) + 1, dtype=object)
    table[: len(texts)] = texts
    table[-1] = None
    out: _ObjArray = table[codes]
    return out


def pseudonymize(
    frame: pd.DataFrame,
    columns: str | Sequence[str],
    *,
    key: bytes | str,
    length: int = 32,
) -> pd.DataFrame:
    """Replace identifiers by keyed tokens that still join across tables and runs.

    Each value becomes the lowercase hexadecimal HMAC-SHA256 (RFC 2104, FIPS 198) of its
    canonical text under ``key``, cut to its first ``length`` hex digits. The same value and
    key give the same token in every frame and every run; another key gives unrelated tokens;
    without the key, nobody can compute the token of a guessed email or id.

    Canonical text (what is keyed):

    - text as it is, encoded as UTF-8: no trimming, case folding or Unicode normalisation, so
      ``"Ann@x.com"`` and ``"ann@x.com"`` differ (normalise first if they are the same person);
      an empty string is a value, not a missing one;
    - integers and integral numbers in decimal without a fraction: ``42``, ``42.0``,
      ``numpy.int32(42)``, ``Decimal("42.00")`` and the text ``"42"`` share one token (a CSV
      id column read as int in one export and as text or float in another still joins);
      other floats by their shortest round-trip text (``0.5`` like ``"0.5"``); the text
      ``"42.0"`` is text, unlike the float ``42.0``;
    - a missing value (``None``, ``NaN``, ``NA``, ``NaT``) stays missing, never a token.

    Booleans, dates and other objects are refused: they are not identifiers.

    Parameters
    ----------
    frame
        The table; not modified.
    columns
        The column or columns to replace. Other columns are returned unchanged.
    key
        The secret key: bytes, or text encoded as UTF-8, at least :data:`MIN_KEY_BYTES` (16)
        bytes; 32 random bytes are recommended (``secrets.token_hex(32)``). Text with
        leading or trailing whitespace is refused (a newline read from a file would silently
        give other tokens). Never written anywhere by this function.
    length
        Hex digits kept, 16 to 64 (default 32 = 128 bits). With ``n`` distinct values the chance
        that any two share a token is about ``n**2 / 2**(4 * length + 1)``: for a billion values,
        about 1e-21 at 32 digits and 3 % at 16 digits.

    Returns
    -------
    pandas.DataFrame
        A new frame with the same index, row order and columns; each of ``columns`` holds
        ``length``-character tokens (``object`` dtype, ``None`` where the value was missing).

    Raises
    ------
    ConfigError
        ``key`` missing, empty, too short, of another type or with surrounding whitespace;
        ``length`` out of range; ``columns`` not column names.
    SchemaError
        A named column is missing.
    ColumnTypeError
        A column holds booleans, dates or other non-identifier values (the message names the
        row, not the value).

    Notes
    -----
    HMAC has no vectorised form: the column is factorised once (``pandas.factorize``) and the
    HMAC computed once per distinct value in Python, then spread back over the rows with one
    array take. The cost grows with the number of distinct values, not rows.

    Examples
    --------
    >>> import pandas as pd
    >>> key = b"0123456789abcdef0123456789abcdef"
    >>> orders = pd.DataFrame({"customer_id": [42, 7, None], "amount": [10, 20, 30]})
    >>> pseudonymize(orders, "customer_id", key=key, length=16)
            customer_id  amount
    0  3b12d0412db185c9      10
    1  9657f4db0378a439      20
    2              None      30

    The same id as text, or in another table, gets the same token, so joins still work:

    >>> people = pd.DataFrame({"customer_id": ["42"], "name": ["Ann"]})
    >>> pseudonymize(people, "customer_id", key=key, length=16)["customer_id"].tolist()
    ['3b12d0412db185c9']
    """
    raw = _key_bytes(key)
    check_scalar(length, "length", kind=int, min_value=16, max_value=64)
    names = _column_list(columns)
    frame = require_columns(frame, names, arg="frame", allow_empty=True)
    base = hmac.new(raw, digestmod=hashlib.sha256)
    del raw
    out = frame.copy(deep=False)
    for column in names:
        codes, texts = _factorize_text(frame, column)
        tokens: list[str | None] = []
        for text in texts:
            mac = base.copy()
            mac.update(text.encode("utf-8", errors="surrogatepass"))
            tokens.append(mac.hexdigest()[:length])
        out[column] = pd.Series(_spread(codes, tokens), index=frame.index, dtype=object)
    return out


def _kinds(columns: object, kind: object) -> dict[str, str]:
    """One mask kind per column, from a mapping or from a column list and ``kind``."""
    if isinstance(columns, Mapping):
        if kind is not None:
            raise ConfigError(
                "give kinds either in the columns mapping or as kind=, not both", column="kind"
            )
        if not columns:
            raise ConfigError("columns is empty; name at least one column", column="columns")
        pairs = dict(columns)
        if not all(isinstance(c, str) for c in pairs):
            raise ConfigError("columns mapping keys must be column names", column="columns")
    else:
        if kind is None:
            raise ConfigError(
                f"kind is missing; pass kind= one of {', '.join(map(repr, MASK_KINDS))} or a "
                "mapping {column: kind}",
                column="kind",
            )
        pairs = dict.fromkeys(_column_list(columns), kind)
    for column, k in pairs.items():
        if k not in MASK_KINDS:
            raise ConfigError(
                f"mask kind {k!r} for column {column!r} is not one of "
                f"{', '.join(map(repr, MASK_KINDS))}",
                column="kind",
                value=k,
            )
    return pairs


def _mask_email(text: pd.Series) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    """``jane.doe@example.com`` → ``j***@example.com``; mask of values that are not emails."""
    stripped = text.str.strip()
    ok = stripped.str.fullmatch(r"[^@\s]+@[^@\s]+").to_numpy(dtype=bool)
    masked = stripped.str.replace(r"^([^@])[^@]*@", r"\1***@", regex=True)
    return masked, ~ok


def _mask_phone(text: pd.Series, keep: int) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    """Every digit but the last ``keep`` (at most half the digits) becomes ``*``."""
    digits = text.str.count(r"\d").to_numpy(dtype=np.int64)
    kept = np.minimum(keep, digits // 2)
    masked = text.copy()
    for k in np.unique(kept):
        rows = kept == k
        masked[rows] = text[rows].str.replace(rf"\d(?=(?:\D*\d){{{k}}})", "*", regex=True)
    return masked, digits == 0


def _mask_name(text: pd.Series) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    """``Jane  van Doe`` → ``J. v. D.``: the first character of each word, then a dot."""
    initials = (
        text.str.strip()
        .str.replace(r"(\S)\S*", r"\1.", regex=True)
        .str.replace(r"\s+", " ", regex=True)
    )
    return initials, np.zeros(len(text), dtype=bool)


_WHAT = {
    "email": "an email address (one '@' with text on both sides and no spaces)",
    "phone": "a phone number (no digits in it)",
    "name": "a name",
}


def mask(
    frame: pd.DataFrame,
    columns: str | Sequence[str] | Mapping[str, str],
    kind: str | None = None,
    *,
    keep_digits: int = 4,
) -> pd.DataFrame:
    """Hide most of each personal value for people who read a report.

    Kinds (``"email"``, ``"phone"``, ``"name"``; see :data:`MASK_KINDS`):

    | kind  | example                    | masked                  |
    |-------|----------------------------|-------------------------|
    | email | ``jane.doe@example.com``   | ``j***@example.com``    |
    | phone | ``+86 138 1234 5678``      | ``+** *** **** 5678``   |
    | phone | ``13812345678`` (a number) | ``*******5678``         |
    | name  | ``Jane van Doe``           | ``J. v. D.``            |
    | name  | ``李小龙``                 | ``李.``                 |

    - **email**: the first character of the local part, ``***``, then ``@`` and the domain
      (the domain is kept: a small company's domain can itself point to a person). Surrounding
      spaces are dropped. A value without exactly one ``@`` is an error.
    - **phone**: every digit becomes ``*`` except the last ``keep_digits``, and never more than
      half of the value's digits are kept (``"1234"`` → ``"**34"``); spaces, ``+``, dashes and
      brackets stay where they are. Integer columns are read as digits. A value with no digit
      is an error.
    - **name**: the first character of each word followed by a dot, words separated by one
      space. Names without spaces (most Chinese names) keep only the first character.

    Missing values stay missing; text that is empty or only spaces is kept as it is.

    Parameters
    ----------
    frame
        The table; not modified.
    columns
        A column, a list of columns (all masked as ``kind``), or a mapping
        ``{column: kind}`` for a kind per column (then ``kind`` is not given).
    kind
        The kind of every column in ``columns``, when it is not a mapping.
    keep_digits
        Trailing digits of phone numbers left visible, 0 to 4 (default 4).

    Returns
    -------
    pandas.DataFrame
        A new frame with the same index, row order and columns; each masked column holds text
        (``object`` dtype, ``None`` where the value was missing).

    Raises
    ------
    ConfigError
        An unknown kind, ``kind`` missing or given twice, ``keep_digits`` out of range.
    SchemaError
        A named column is missing.
    ColumnTypeError
        Numbers in an email or name column; booleans or dates in any masked column.
    DataError
        A value that is not an email address or has no digit for a phone number. Messages name
        the row label but never repeat the value.

    Examples
    --------
    >>> import pandas as pd
    >>> people = pd.DataFrame({
    ...     "email": ["jane.doe@example.com", None],
    ...     "phone": ["+86 138 1234 5678", "(030) 901820"],
    ...     "name": ["Jane van Doe", "李小龙"],
    ... })
    >>> mask(people, {"email": "email", "phone": "phone", "name": "name"})
                  email              phone      name
    0  j***@example.com  +** *** **** 5678  J. v. D.
    1              None       (***) **1820        李.
    >>> mask(people, "phone", kind="phone", keep_digits=2)["phone"].tolist()
    ['+** *** **** **78', '(***) ****20']
    """
    pairs = _kinds(columns, kind)
    check_scalar(keep_digits, "keep_digits", kind=int, min_value=0, max_value=4)
    frame = require_columns(frame, pairs, arg="frame", allow_empty=True)
    out = frame.copy(deep=False)
    for column, k in pairs.items():
        codes, texts = _factorize_text(frame, column, allow_numbers=k == "phone")
        text = pd.Series(texts, dtype=object)
        blank = text.str.strip().eq("").to_numpy(dtype=bool)
        if k == "email":
            masked, bad = _mask_email(text)
        elif k == "phone":
            masked, bad = _mask_phone(text, keep_digits)
        else:
            masked, bad = _mask_name(text)
        bad &= ~blank
        j = first_true(bad)
        if j is not None:
            pos = int(np.argmax(codes == j))  # every distinct value comes from a row
            raise DataError(
                f"column {column!r} of frame has a value at {describe_row(frame, pos)} that is "
                f"not {_WHAT[k]}; the value is not repeated here",
                column=column,
                row=frame.index[pos],
            )
        result = np.where(blank, text.to_numpy(dtype=object), masked.to_numpy(dtype=object))
        out[column] = pd.Series(_spread(codes, result.tolist()), index=frame.index, dtype=object)
    return out
