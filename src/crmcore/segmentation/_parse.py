"""Reading what real exports hold: amounts in local number styles, dates in local forms, ids.

Private helpers of :mod:`crmcore.segmentation.clean`. Each reader works on the *distinct*
values of a column (``pandas.factorize``) with pandas' vectorised string methods, then spreads
its answer back over the rows with one array take: the cost follows the number of distinct
values, and no Python runs per row.

A reader says, per row, whether the value could not be read (``bad``) and whether reading it
rewrote the text (``changed``, with a ``reason`` and the ``new`` value), so that the cleaning
report can list every rewrite. Plain number text (``"12.5"``, ``"-80"``) and ISO 8601 dates
(``"2024-01-09"``) are read without being reported: nothing about them needed interpreting.

Number styles follow the CLDR number patterns (Unicode TR35, part 3 "Numbers", section
"Number Patterns"): one decimal mark and one grouping separator per locale, groups of three
digits (``#,##0.###``: en ``1,234.5``, de ``1.234,5``, fr ``1 234,5`` with U+202F NARROW
NO-BREAK SPACE, de-CH ``1'234.5``) or the Indian secondary grouping of two digits
(``#,##,##0.###``: en-IN ``12,34,567``), and the accounting pattern's parentheses for negative
amounts (``¤#,##0.00;(¤#,##0.00)``).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Mapping
from decimal import Decimal
from numbers import Real
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "AMOUNT_SYMBOLS",
    "GROUPING_SEPARATORS",
    "AmountsRead",
    "DatesRead",
    "IdsRead",
    "read_amounts",
    "read_dates",
    "read_ids",
]

BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]

#: Grouping (thousands) separators understood when ``thousands`` is not given: comma, dot,
#: apostrophe (de-CH), right single quotation mark, space, NO-BREAK SPACE (U+00A0) and NARROW
#: NO-BREAK SPACE (U+202F, CLDR's French separator). The decimal mark is never one of them.
GROUPING_SEPARATORS: tuple[str, ...] = (",", ".", "'", "\u2019", " ", "\u00a0", "\u202f")

#: Currency markers that name one currency, and the ISO 4217 code they stand for. Markers not
#: listed here (``$``, ``¥``, ``kr``, ...) name several currencies and are kept as written;
#: ``symbols={"¥": "CNY"}`` says what they mean. Three capital letters are taken as a code.
AMOUNT_SYMBOLS: Mapping[str, str] = {
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₫": "VND",
    "₪": "ILS",
    "₴": "UAH",
    "₦": "NGN",
    "฿": "THB",
    "₱": "PHP",
    "元": "CNY",
    "円": "JPY",
    "RMB": "CNY",
    "US$": "USD",
    "HK$": "HKD",
    "NT$": "TWD",
    "R$": "BRL",
    "A$": "AUD",
    "C$": "CAD",
    "NZ$": "NZD",
    "S$": "SGD",
    "zł": "PLN",
}

# Full-width forms (Chinese and Japanese input methods) read as their ASCII symbol.
_WIDE = {"\uffe5": "¥", "\uff04": "$", "\uffe1": "£"}  # ￥ and the full-width $ and £

# infer_dtype kinds of an object column that cannot hold booleans.
_NO_BOOLS = frozenset({"string", "empty", "integer", "floating", "decimal", "mixed-integer-float"})
_MINUS = "-\u2212"  # HYPHEN-MINUS and MINUS SIGN (CLDR's minus for some locales)
_SPACE = " \u00a0\u202f"
_QUOTE = "\u2019"  # RIGHT SINGLE QUOTATION MARK, a grouping separator
_CUR = r"[A-Z]{1,3}\$|[A-Z]{3}|[$€£¥" + "\uffe5\uff04\uffe1" + r"₹₩₽₺₫₪₴₦฿₱元円]|kr\.?|zł"
# One pattern for Python's ``re`` and pyarrow's RE2 alike: no back-references, no ``\d``
# (ASCII in RE2, any Unicode digit in Python), non-ASCII characters as themselves (RE2 has no
# ``\u`` escape), texts stripped first (Python's ``$`` also matches before a final newline).
# Every group matches at least one character when it takes part, so RE2's empty string means
# "did not take part", Python's None.
_AMOUNT_PATTERN = (
    rf"^(?P<open>\()?[{_SPACE}]*"
    rf"(?P<sign1>[{_MINUS}+])?[{_SPACE}]*"
    rf"(?:(?P<cur1>{_CUR})[{_SPACE}]*)?"
    rf"(?P<sign2>[{_MINUS}+])?[{_SPACE}]*"
    rf"(?P<num>[.,]?[0-9](?:[0-9.,'{_QUOTE}{_SPACE}]*[0-9])?)[{_SPACE}]*"
    rf"(?:(?P<cur2>{_CUR})[{_SPACE}]*)?"
    rf"(?P<sign3>[{_MINUS}])?[{_SPACE}]*"
    r"(?P<close>\))?$"
)
_AMOUNT = re.compile(_AMOUNT_PATTERN)
_TIME = r"(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)"
_YMD = re.compile(
    rf"^(?P<y>\d{{4}})(?P<sep>[./])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}})(?:[ T]+{_TIME})?$"
)
_CJK = re.compile(
    rf"^(?P<y>\d{{4}})\s*[年년]\s*(?P<m>\d{{1,2}})\s*[月월]\s*(?P<d>\d{{1,2}})\s*[日일]?(?:\s*{_TIME})?$"
)
_XYZ = re.compile(
    rf"^(?P<a>\d{{1,2}})(?P<sep>[./-])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}})(?:[ T]+{_TIME})?$"
)


@attrs.frozen(kw_only=True)
class _Read:
    """What a reader found, one entry per row it was given."""

    bad: BoolArray  # the value cannot be read
    changed: BoolArray  # the value was read by rewriting its text (reported)
    reasons: ObjArray  # why, one entry per changed row (in row order)
    new: ObjArray  # the value read, one entry per changed row (in row order)


@attrs.frozen(kw_only=True)
class AmountsRead(_Read):
    """Amounts read from a column: ``values`` (float64, NaN where bad) and currency ``labels``."""

    values: npt.NDArray[np.float64]
    # the currency of each amount (ISO code or marker as written, None where not written);
    # None when no amount names a currency
    labels: ObjArray | None


@attrs.frozen(kw_only=True)
class DatesRead(_Read):
    """Dates read from a column.

    ``text`` holds, per row, ISO 8601 text for rewritten values and the value as given (text
    stripped of surrounding spaces) otherwise, ready for the ISO 8601 parser. ``ambiguous`` is
    the first row whose day and month could be either way; ``conflict`` a pair of rows that
    only read day-first and month-first respectively.
    """

    text: ObjArray | None  # None: not a text column (nothing to rewrite)
    ambiguous: int | None
    conflict: tuple[int, int] | None


@attrs.frozen(kw_only=True)
class IdsRead(_Read):
    """Ids read from a column: ``values`` per row (stripped, optionally case-folded)."""

    values: npt.NDArray[Any]  # object for text ids, else the column's own values


def _distinct(series: pd.Series) -> tuple[npt.NDArray[np.intp], ObjArray]:
    """Codes per row (-1 for missing) and the distinct values as a Python-object array."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), np.asarray(uniques, dtype=object)


def _spread(codes: npt.NDArray[np.intp], per_value: npt.NDArray[Any], missing: Any) -> Any:
    """One entry per row from one entry per distinct value (``missing`` where code is -1)."""
    table = np.empty(len(per_value) + 1, dtype=per_value.dtype)
    table[:-1] = per_value
    table[-1] = missing
    return table[codes]


def _none(n: int) -> ObjArray:
    return np.full(n, None, dtype=object)


def _only(mask: BoolArray, values: Any) -> ObjArray:
    """``values`` where ``mask`` is set, ``None`` elsewhere (an object array)."""
    out = _none(len(mask))
    out[mask] = np.broadcast_to(np.asarray(values, dtype=object), (len(mask),))[mask]
    return out


def _is_str(uniques: ObjArray) -> BoolArray:
    return np.fromiter((isinstance(u, str) for u in uniques), dtype=bool, count=len(uniques))


# ---------------------------------------------------------------------------------------------
# amounts


def _groupers(decimal: str, thousands: str | None) -> str:
    """Return the grouping separators accepted: ``thousands`` (a space also as no-break spaces)."""
    if thousands is None:
        return "".join(c for c in GROUPING_SEPARATORS if c != decimal)
    if thousands == " ":
        return _SPACE
    return thousands


def _number_pattern(decimal: str, groupers: str) -> str:
    """Return a full-match number pattern: groups of 3 (or Indian 2-2-3), one separator.

    Written without back-references, so that pyarrow's RE2 engine (pandas' string methods on
    Arrow-backed text) and Python's ``re`` read it the same way.
    """
    alternatives = ["[0-9]+"]
    for c in groupers:
        g = f"[{c}]"
        alternatives.append(f"[0-9]{{1,3}}(?:{g}[0-9]{{3}})+")
        alternatives.append(f"[0-9]{{1,2}}(?:{g}[0-9]{{2}})*{g}[0-9]{{3}}")
    integer = "|".join(alternatives)
    d = f"[{decimal}]"
    return f"^(?:(?:{integer})(?:{d}[0-9]+)?|{d}[0-9]+)$"


def _marker_labels(markers: pd.Series, symbols: Mapping[str, str]) -> pd.Series:
    """Return the currency of each marker: ``symbols``, the built-in table, or as written."""
    wide = markers.replace(_WIDE)
    table = {**AMOUNT_SYMBOLS, **symbols}
    mapped = wide.map(table)
    return mapped.where(mapped.notna(), wide)


def _amount_reasons(parts: pd.DataFrame) -> pd.Series:
    """One reason per row of ``parts`` (columns marker, label, grouper, comma, negative).

    Built once per distinct combination of the parts (few), then spread over the values.
    """
    keys = parts.groupby(list(parts.columns), dropna=False, sort=False).ngroup().to_numpy()
    first = np.unique(keys, return_index=True)[1]
    texts = np.empty(len(first), dtype=object)
    for k, pos in zip(np.unique(keys), first, strict=True):
        marker, label, grouper, comma, negative = parts.iloc[pos].tolist()
        said: list[str] = []
        if isinstance(marker, str):
            same = not isinstance(label, str) or label == marker
            said.append(f"currency {marker!r}" + ("" if same else f" ({label})"))
        if isinstance(grouper, str):
            said.append(f"thousands separator {grouper!r}")
        if comma:
            said.append("decimal comma")
        if isinstance(negative, str):
            said.append(negative)
        texts[k] = "amount read with " + (", ".join(said) if said else "number text rewritten")
    return pd.Series(texts[keys], index=parts.index, dtype=object)


def _groups(
    text: pd.Series, pattern: re.Pattern[str], *, arrow: bool | None = None
) -> dict[str, ObjArray]:
    """Return the named groups of ``pattern`` matched at each text's start (None: no match).

    With pyarrow installed the texts are matched by its RE2 engine in one call
    (``pyarrow.compute.extract_regex``); without it, one Python match per text. ``pattern``
    must read the same in both engines (see ``_AMOUNT_PATTERN``). ``arrow`` forces one engine
    (tests compare them); ``None`` takes pyarrow when it can be imported.
    """
    if arrow is None:
        arrow = importlib.util.find_spec("pyarrow") is not None
    names = sorted(pattern.groupindex, key=pattern.groupindex.__getitem__)
    if arrow and len(text):
        pa = importlib.import_module("pyarrow")  # optional: the Python loop below without it
        pc = importlib.import_module("pyarrow.compute")
        found = pc.extract_regex(pa.array(text.tolist(), type=pa.large_string()), pattern.pattern)
        missed = ~np.asarray(found.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        out: dict[str, ObjArray] = {}
        for name in names:
            got = np.asarray(found.field(name).to_numpy(zero_copy_only=False), dtype=object)
            got[missed | (got == "")] = None
            out[name] = got
        return out
    empty = (None,) * pattern.groups
    rows = [m.groups() if (m := pattern.match(x)) else empty for x in text.tolist()]
    table = np.empty((len(rows), pattern.groups), dtype=object)
    if rows:
        table[:] = rows
    return {name: table[:, pattern.groupindex[name] - 1] for name in names}


def _read_amount_text(
    text: pd.Series, decimal: str, thousands: str | None, symbols: Mapping[str, str]
) -> tuple[npt.NDArray[np.float64], BoolArray, ObjArray, ObjArray]:
    """Values, changed mask, reasons and currency labels of distinct amount texts.

    Plain number text (``"12.5"``, ``"-80"``, ``"1e3"``) is its own value, unchanged, with no
    currency, whatever the styles below would say: with a decimal point such text is read
    without them (the styles would read it to the same value: the same digits, no grouping
    separator, no marker). Only the rest goes through the styles.
    """
    if decimal != "." or thousands == ".":
        return _read_styled_text(text, decimal, thousands, symbols)
    plain = pd.to_numeric(text.str.strip(), errors="coerce")
    values = np.array(plain.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    easy = np.isfinite(values)
    changed = np.zeros(len(text), dtype=bool)
    reasons, labels = _none(len(text)), _none(len(text))
    hard = ~easy
    if hard.any():
        got = _read_styled_text(text[hard], decimal, thousands, symbols)
        values[hard], changed[hard], reasons[hard], labels[hard] = got
    return values, changed, reasons, labels


def _read_styled_text(
    text: pd.Series, decimal: str, thousands: str | None, symbols: Mapping[str, str]
) -> tuple[npt.NDArray[np.float64], BoolArray, ObjArray, ObjArray]:
    """:func:`_read_amount_text` by the number styles, for every text."""
    s = text.str.strip()
    plain = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    m = _groups(s, _AMOUNT)
    groupers = _groupers(decimal, thousands)
    num = pd.Series(m["num"])  # pandas picks its string dtype (Arrow-backed when available)
    ok = np.array(num.str.fullmatch(_number_pattern(decimal, groupers)), dtype=bool)
    canon = num.str.replace(f"[{groupers}]", "", regex=True) if groupers else num
    canon = canon.str.replace(decimal, ".", regex=False)
    magnitude = pd.to_numeric(canon.where(ok), errors="coerce").to_numpy(dtype=np.float64)
    has = {k: pd.notna(v) for k, v in m.items()}
    minus = {k: np.isin(m[k], list(_MINUS)) for k in ("sign1", "sign2", "sign3")}
    paren = has["open"] & has["close"]
    signs = has["sign1"].astype(np.int64) + has["sign2"] + has["sign3"]
    ok &= (has["open"] == has["close"]) & (signs <= np.where(paren, 0, 1))
    ok &= ~(has["cur1"] & has["cur2"])
    negative = paren | minus["sign1"] | minus["sign2"] | minus["sign3"]
    values = np.where(negative, -magnitude, magnitude)
    if decimal == ".":  # other number text that Python reads the same way ("1e3")
        fallback = ~ok & np.isfinite(plain)
        values = np.where(fallback, plain, values)
        ok |= fallback
    values = np.where(ok, values, np.nan)
    changed = ok & ~(values == plain)
    marker = pd.Series(np.where(has["cur1"], m["cur1"], m["cur2"]), dtype=object).where(ok)
    labels = _marker_labels(marker, symbols)
    reasons = _none(len(s))
    if changed.any():
        seps = num[changed].str.replace("[0-9]", "", regex=True)
        first = seps.str[0]
        unicode_minus = (m["sign1"] == "\u2212") | (m["sign2"] == "\u2212")
        how = np.select(
            [paren, has["sign3"], unicode_minus],
            ["parentheses as minus", "trailing minus", "minus sign U+2212"],
            default="",
        )[changed]
        parts = pd.DataFrame(
            {
                "marker": marker[changed].to_numpy(dtype=object),
                "label": labels[changed].to_numpy(dtype=object),
                "grouper": first.where(first != decimal).to_numpy(dtype=object),
                "comma": (decimal == ",") & seps.str.contains(",", regex=False).to_numpy(bool),
                "negative": np.where(how == "", None, how),
            },
            dtype=object,
        )
        reasons[changed] = _amount_reasons(parts).to_numpy(dtype=object)
    return values, changed, reasons, _only(labels.notna().to_numpy(dtype=bool), labels)


def _number_value(value: object) -> float:
    """Return a number held as an object (int, float, Decimal, numpy), else NaN."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real | Decimal):
        return np.nan
    try:
        return float(value)
    except (OverflowError, ValueError):
        return np.nan


def read_amounts(
    series: pd.Series,
    *,
    decimal: str = ".",
    thousands: str | None = None,
    symbols: Mapping[str, str] | None = None,
) -> AmountsRead:
    """Read amounts: numbers as they are, text in the export styles described in the module.

    Booleans are not amounts; infinities and NaN are not finite amounts (both ``bad``).

    Examples
    --------
    >>> import pandas as pd
    >>> got = read_amounts(pd.Series(["¥1,200.50", "80 CNY", "(3.5)", "12"]))
    >>> got.values.tolist(), got.changed.tolist(), got.labels.tolist()
    ([1200.5, 80.0, -3.5, 12.0], [True, True, True, False], ['¥', 'CNY', None, None])
    >>> got.reasons[0]  # one reason per changed row
    "amount read with currency '¥', thousands separator ','"
    """
    n = len(series)
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return AmountsRead(
            bad=np.ones(n, dtype=bool),
            changed=np.zeros(n, dtype=bool),
            reasons=_none(0),
            new=_none(0),
            values=np.full(n, np.nan),
            labels=None,
        )
    if pd.api.types.is_numeric_dtype(dtype):
        values = np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
        return AmountsRead(
            bad=~np.isfinite(values),
            changed=np.zeros(n, dtype=bool),
            reasons=_none(0),
            new=_none(0),
            values=values,
            labels=None,
        )
    codes, uniques = _distinct(series)
    k = len(uniques)
    per_value = np.full(k, np.nan)
    changed = np.zeros(k, dtype=bool)
    reasons = _none(k)
    labels = _none(k)
    is_str = _is_str(uniques)
    for j in np.flatnonzero(~is_str):  # numbers held as objects: once per distinct value
        per_value[j] = _number_value(uniques[j])
    if is_str.any():
        text = pd.Series(uniques[is_str], dtype=object)
        got = _read_amount_text(text, decimal, thousands, symbols or {})
        per_value[is_str], changed[is_str], reasons[is_str], labels[is_str] = got
    values = np.asarray(_spread(codes, per_value, np.nan), dtype=np.float64)
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) not in _NO_BOOLS:
        # factorize puts True with 1 and False with 0: look for booleans row by row
        is_bool = series.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
        values[is_bool] = np.nan
    bad = ~np.isfinite(values)
    row_changed = np.asarray(_spread(codes, changed, False), dtype=bool) & ~bad
    marked = np.array([label is not None for label in labels], dtype=bool)
    return AmountsRead(
        bad=bad,
        changed=row_changed,
        reasons=reasons[codes[row_changed]],
        new=values[row_changed].astype(object),
        values=values,
        labels=_only(~bad, _spread(codes, labels, None)) if marked.any() else None,
    )


# ---------------------------------------------------------------------------------------------
# dates


def _iso(y: pd.Series, m: pd.Series, d: pd.Series, time: pd.Series) -> pd.Series:
    """ISO 8601 text from year, month, day and optional time parts."""
    day = y + "-" + m.str.zfill(2) + "-" + d.str.zfill(2)
    clock = time.str.replace(r"^(\d):", r"0\1:", regex=True)
    return day.where(time.isna(), day + " " + clock)


def _valid(iso: pd.Series) -> BoolArray:
    parsed = pd.to_datetime(iso, format="ISO8601", errors="coerce")
    return np.asarray(parsed.notna().to_numpy(dtype=bool), dtype=bool)


def _read_local(
    s: pd.Series, dayfirst: bool | None
) -> tuple[pd.Series, BoolArray, ObjArray, BoolArray, BoolArray, BoolArray]:
    """Local forms of distinct date texts that are not ISO 8601.

    Returns ISO text (NaN where not read), the mask of texts read, their reasons, and the
    masks of ambiguous texts, texts that only read day-first and texts that only read
    month-first (the last two only when ``dayfirst`` is None).
    """
    k = len(s)
    iso = pd.Series(np.nan, index=s.index, dtype=object)
    reasons = _none(k)
    ymd = s.str.extract(_YMD)
    hit = ymd["y"].notna().to_numpy(dtype=bool)
    iso[hit] = _iso(ymd["y"], ymd["m"], ymd["d"], ymd["time"])[hit]
    reasons[hit] = ("date read as year-month-day separated by '" + ymd["sep"] + "'")[hit].to_numpy(
        dtype=object
    )
    cjk = s.str.extract(_CJK)
    hit = cjk["y"].notna().to_numpy(dtype=bool) & ~hit
    iso[hit] = _iso(cjk["y"], cjk["m"], cjk["d"], cjk["time"])[hit]
    reasons[hit] = "date read from the year-month-day characters (年月日, 년월일)"
    got = s.str.extract(_XYZ)
    xyz = got["y"].notna().to_numpy(dtype=bool) & iso.isna().to_numpy(dtype=bool)
    dmy = _iso(got["y"], got["b"], got["a"], got["time"])
    mdy = _iso(got["y"], got["a"], got["b"], got["time"])
    ok_d = _valid(dmy) & xyz
    ok_m = _valid(mdy) & xyz
    same = (got["a"].astype(float) == got["b"].astype(float)).to_numpy(dtype=bool)
    none = np.zeros(k, dtype=bool)
    if dayfirst is True:
        iso[ok_d] = dmy[ok_d]
        reasons[ok_d] = "date read day-first (dayfirst=True)"
        return iso, iso.notna().to_numpy(dtype=bool), reasons, none, none, none
    if dayfirst is False:
        iso[ok_m] = mdy[ok_m]
        reasons[ok_m] = "date read month-first (dayfirst=False)"
        return iso, iso.notna().to_numpy(dtype=bool), reasons, none, none, none
    only_d = ok_d & ~ok_m
    only_m = ok_m & ~ok_d
    both_same = ok_d & ok_m & same
    iso[only_d | both_same] = dmy[only_d | both_same]
    iso[only_m] = mdy[only_m]
    reasons[only_d] = "date read day-first: the only reading that is a date"
    reasons[only_m] = "date read month-first: the only reading that is a date"
    reasons[both_same] = "date read: day and month are the same number"
    ambiguous = ok_d & ok_m & ~same
    return iso, iso.notna().to_numpy(dtype=bool), reasons, ambiguous, only_d, only_m


def _read_format(s: pd.Series, date_format: str) -> tuple[pd.Series, BoolArray]:
    """Distinct date texts read with ``date_format``: ISO text (NaN where it does not fit)."""
    from crmcore.errors import ConfigError

    try:
        parsed = pd.to_datetime(s, format=date_format, errors="coerce", utc=False)
    except ValueError as exc:
        raise ConfigError(
            f"date_format={date_format!r} could not be used: {exc}", column="date_format"
        ) from None
    index = pd.DatetimeIndex(parsed)
    text = pd.Series(index.astype(str), index=s.index, dtype=object)
    ok = np.asarray(index.notna(), dtype=bool)
    return text.where(ok), ok


def _first_row(codes: npt.NDArray[np.intp], mask: BoolArray) -> int | None:
    """Position of the first row whose distinct value is flagged in ``mask``."""
    if not mask.any():
        return None
    rows = np.flatnonzero(mask[codes] & (codes >= 0))
    return int(rows[0]) if len(rows) else None


def read_dates(
    series: pd.Series, *, dayfirst: bool | None = None, date_format: str | None = None
) -> DatesRead:
    """Read date text in local forms into ISO 8601 text (datetime columns pass through).

    Without ``date_format``: ISO 8601 text as it is; ``2024/01/09`` and ``2024.01.09``
    (year first); ``2024年1月9日`` and ``2024년 1월 9일`` (the CLDR long date pattern
    ``y年M月d日`` of zh and ja, ``y년 M월 d일`` of ko); ``05.01.2024``, ``05/01/2024`` and
    ``05-01-2024`` day-first with ``dayfirst=True``, month-first with ``dayfirst=False``.
    With ``dayfirst=None`` such a date is read only when one reading alone is a date
    (``13.01.2024``); when both are (``01.02.2024``) it is ``ambiguous``. Each form may be
    followed by a time ``HH:MM[:SS[.fff]]``. With ``date_format`` every text is read with
    that format only (``bad`` when it does not fit).

    Examples
    --------
    >>> import pandas as pd
    >>> got = read_dates(pd.Series(["2024年1月9日", "13.01.2024", "2024-02-01", "01.02.2024"]))
    >>> got.text.tolist(), got.changed.tolist(), got.ambiguous
    (['2024-01-09', '2024-01-13', '2024-02-01', '01.02.2024'], [True, True, False, False], 3)
    """
    n = len(series)
    dtype = series.dtype
    text_kinds = ("string", "mixed", "mixed-integer", "empty")
    is_text = (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)) and (
        pd.api.types.infer_dtype(series, skipna=True) in text_kinds
    )
    none = np.zeros(n, dtype=bool)
    if not is_text:
        return DatesRead(
            bad=none,
            changed=none,
            reasons=_none(0),
            new=_none(0),
            text=None,
            ambiguous=None,
            conflict=None,
        )
    plain = series.to_numpy(dtype=object)
    codes, uniques = _distinct(series)
    is_str = _is_str(uniques)
    s = pd.Series(uniques[is_str], dtype=object).str.strip()
    k = len(s)
    iso_ok = pd.to_datetime(s, format="ISO8601", errors="coerce", utc=True).notna()
    fast = (iso_ok & ~s.str.match(r"\d{4}[./]")).to_numpy(dtype=bool)
    bad_u = np.zeros(k, dtype=bool)
    ambiguous_u = only_d = only_m = np.zeros(k, dtype=bool)
    if date_format is not None:
        iso, ok = _read_format(s, date_format)
        bad_u = ~ok
        same = fast & ok
        if same.any():  # ISO text read the same way by the format is not a rewrite
            as_utc = pd.to_datetime(s[same], format="ISO8601", utc=True)
            by_format = pd.to_datetime(iso[same], format="ISO8601", utc=True)
            same[same] = (as_utc == by_format).to_numpy(dtype=bool)
        read = ok & ~same
        reasons = _only(read, f"date read with date_format={date_format!r}")
    else:
        need = ~fast
        iso = pd.Series(np.nan, index=s.index, dtype=object)
        reasons = _none(k)
        read = np.zeros(k, dtype=bool)
        ambiguous_u = np.zeros(k, dtype=bool)
        only_d = np.zeros(k, dtype=bool)
        only_m = np.zeros(k, dtype=bool)
        if need.any():
            got = _read_local(s[need], dayfirst)
            iso[need] = got[0].to_numpy(dtype=object)
            read[need], reasons[need] = got[1], got[2]
            ambiguous_u[need], only_d[need], only_m[need] = got[3], got[4], got[5]
    new_text = np.where(read, iso.to_numpy(dtype=object), s.to_numpy(dtype=object))
    # per distinct value of the whole column (text and other objects)
    text_u = uniques.copy()
    text_u[is_str] = new_text

    def full(mask: BoolArray) -> BoolArray:
        out = np.zeros(len(uniques), dtype=bool)
        out[is_str] = mask
        return out

    reasons_u = _none(len(uniques))
    reasons_u[is_str] = reasons
    new_u = _none(len(uniques))
    if read.any():
        stamps = pd.to_datetime(pd.Series(iso[read].to_numpy(dtype=object)), format="ISO8601")
        values = new_u[is_str]
        values[read] = list(stamps)
        new_u[is_str] = values
    changed = np.asarray(_spread(codes, full(read), False), dtype=bool)
    p_d, p_m = _first_row(codes, full(only_d)), _first_row(codes, full(only_m))
    return DatesRead(
        bad=np.asarray(_spread(codes, full(bad_u), False), dtype=bool),
        changed=changed,
        reasons=reasons_u[codes[changed]],
        new=new_u[codes[changed]],
        text=np.where(codes >= 0, _spread(codes, text_u, None), plain),
        ambiguous=_first_row(codes, full(ambiguous_u)),
        conflict=None if p_d is None or p_m is None else (p_d, p_m),
    )


# ---------------------------------------------------------------------------------------------
# ids


def read_ids(series: pd.Series, *, casefold: bool = False) -> IdsRead:
    """Text ids stripped of surrounding spaces and, with ``casefold``, case-folded.

    Examples
    --------
    >>> import pandas as pd
    >>> got = read_ids(pd.Series([" A7", "B8", 9]), casefold=True)
    >>> got.values.tolist(), got.reasons.tolist()
    (['a7', 'b8', 9], ['id: surrounding spaces removed; case folded', 'id: case folded'])
    """
    n = len(series)
    dtype = series.dtype
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        return IdsRead(
            bad=np.zeros(n, dtype=bool),
            changed=np.zeros(n, dtype=bool),
            reasons=_none(0),
            new=_none(0),
            values=series.to_numpy(),
        )
    plain = series.to_numpy(dtype=object)
    codes, uniques = _distinct(series)
    is_str = _is_str(uniques)
    text = pd.Series(uniques[is_str], dtype=object)
    stripped = text.str.strip()
    folded = stripped.str.casefold() if casefold else stripped
    spaced = (stripped != text).to_numpy(dtype=bool)
    cased = (folded != stripped).to_numpy(dtype=bool)
    why = np.select(
        [spaced & cased, spaced, cased],
        [
            "id: surrounding spaces removed; case folded",
            "id: surrounding spaces removed",
            "id: case folded",
        ],
        default="",
    )
    values_u = uniques.copy()
    values_u[is_str] = folded.to_numpy(dtype=object)
    changed_u = np.zeros(len(uniques), dtype=bool)
    changed_u[is_str] = spaced | cased
    reasons_u = _none(len(uniques))
    reasons_u[is_str] = _only(spaced | cased, why)
    changed = np.asarray(_spread(codes, changed_u, False), dtype=bool)
    values = np.where(codes >= 0, _spread(codes, values_u, None), plain)
    return IdsRead(
        bad=np.zeros(n, dtype=bool),
        changed=changed,
        reasons=reasons_u[codes[changed]],
        new=values[changed],
        values=values,
    )
