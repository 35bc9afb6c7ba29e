"""The amount reader's two engines and its plain-number shortcut give the same answers.

``_groups`` matches amount texts with pyarrow's RE2 engine when pyarrow is installed and with
Python's ``re`` otherwise; ``_read_amount_text`` reads plain number text (``"12.5"``) without the
number styles when the decimal mark is a point. Both are speed choices only: these tests hold
them to the slow, obvious path on texts built from every character the styles care about.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.segmentation._parse import (
    _AMOUNT,
    _groups,
    _read_amount_text,
    _read_styled_text,
    read_amounts,
)

pytest.importorskip("pyarrow")

# Digits (ASCII and others), marks, signs, parentheses, spaces, currency letters and symbols.
_PIECES = [
    *"0123456789.,'\u2019 \u00a0\u202f-\u2212+()$€¥£元円₹kKrRzł",
    *["HK$", "CNY", "EUR", "US$", "١٢", "e", "\n"],
]
amount_texts = st.lists(st.sampled_from(_PIECES), min_size=0, max_size=8).map("".join)
number_texts = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)


@given(texts=st.lists(amount_texts, min_size=1, max_size=40))
def test_arrow_and_python_engines_find_the_same_groups(texts: list[str]) -> None:
    s = pd.Series([t.strip() for t in texts], dtype=object)
    arrow = _groups(s, _AMOUNT, arrow=True)
    python = _groups(s, _AMOUNT, arrow=False)
    assert list(arrow) == list(python)
    for name in python:
        assert arrow[name].tolist() == python[name].tolist(), name


@given(
    texts=st.lists(st.one_of(amount_texts, number_texts), min_size=1, max_size=40),
    thousands=st.sampled_from([None, ",", " ", "'", ""]),
)
def test_plain_number_shortcut_reads_like_the_styles(
    texts: list[str], thousands: str | None
) -> None:
    s = pd.Series(list(dict.fromkeys(texts)), dtype=object)
    fast = _read_amount_text(s, ".", thousands, {})
    slow = _read_styled_text(s, ".", thousands, {})
    np.testing.assert_array_equal(fast[0], slow[0])  # values (NaN where unreadable)
    assert fast[1].tolist() == slow[1].tolist()  # changed
    assert fast[2].tolist() == slow[2].tolist()  # reasons
    assert fast[3].tolist() == slow[3].tolist()  # currency labels


def test_read_amounts_worked_examples_with_either_engine() -> None:
    # Hand-read: CLDR en "¥1,200.50", an ISO code after the number, accounting parentheses,
    # de "1.234,5 €" with decimal=",", plain text left as it is.
    got = read_amounts(pd.Series(["¥1,200.50", "80 CNY", "(3.5)", "12", "n/a"]))
    assert got.values[:4].tolist() == [1200.5, 80.0, -3.5, 12.0]
    assert np.isnan(got.values[4])
    assert got.bad.tolist() == [False] * 4 + [True]
    assert got.changed.tolist() == [True, True, True, False, False]
    de = read_amounts(pd.Series(["1.234,5 €", "-7,25"]), decimal=",")
    assert de.values.tolist() == [1234.5, -7.25]
    assert de.labels is not None
    assert de.labels.tolist() == ["EUR", None]
