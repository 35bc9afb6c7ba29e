"""crmcore.privacy: keyed pseudonyms and masks."""

from __future__ import annotations

import decimal
import hashlib
import hmac
import pickle
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, ConfigError, CRMError, DataError, SchemaError
from crmcore.privacy import MASK_KINDS, MIN_KEY_BYTES, mask, pseudonymize
from helpers import call_unmutated, shuffled

KEY = b"0123456789abcdef0123456789abcdef"
OTHER_KEY = b"fedcba9876543210fedcba9876543210"


def _hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _token(value: object, *, key: bytes | str = KEY, length: int = 32) -> object:
    frame = pd.DataFrame({"v": pd.Series([value], dtype=object)})
    return pseudonymize(frame, "v", key=key, length=length)["v"].iloc[0]


# --- pseudonymize: the primitive, against RFC 4231 ------------------------------------------


def test_rfc4231_test_case_1_full_length() -> None:
    # RFC 4231 section 4.2: key = 0x0b * 20, data = "Hi There".
    frame = pd.DataFrame({"v": ["Hi There"]})
    out = pseudonymize(frame, "v", key=b"\x0b" * 20, length=64)
    assert out["v"].iloc[0] == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"


def test_rfc4231_test_case_5_truncated_to_128_bits() -> None:
    # RFC 4231 section 4.6: key = 0x0c * 20, data = "Test With Truncation"; the test vector is
    # the HMAC-SHA-256 cut to 128 bits, i.e. the default length of 32 hex digits.
    frame = pd.DataFrame({"v": ["Test With Truncation"]})
    out = pseudonymize(frame, "v", key=b"\x0c" * 20)
    assert out["v"].iloc[0] == "a3b6167473100ee06e0c796c2955552b"


def test_rfc4231_test_case_6_key_longer_than_a_block() -> None:
    # RFC 4231 section 4.7: key = 0xaa * 131 (hashed first by HMAC).
    frame = pd.DataFrame({"v": ["Test Using Larger Than Block-Size Key - Hash Key First"]})
    out = pseudonymize(frame, "v", key=b"\xaa" * 131, length=64)
    assert out["v"].iloc[0] == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


def test_rfc4231_test_case_2_key_is_too_short_for_pseudonyms() -> None:
    # RFC 4231 section 4.3 uses the 4-byte key "Jefe": fine for a test vector, refused here
    # (FIPS 198 section 3 asks for at least half the hash output, 16 bytes).
    with pytest.raises(ConfigError, match=r"key is only 4 bytes long; .*at least 16 bytes"):
        pseudonymize(pd.DataFrame({"v": ["what do ya want for nothing?"]}), "v", key="Jefe")


# --- pseudonymize: canonical text --------------------------------------------------------------


def test_integers_integral_floats_decimals_and_their_text_share_one_token() -> None:
    expected = _hmac_hex(KEY, "42")[:32]
    for value in (42, "42", 42.0, np.int32(42), np.float32(42.0), decimal.Decimal("42.00")):
        assert _token(value) == expected, value


def test_nullable_and_arrow_integer_columns_match_plain_ints() -> None:
    expected = _hmac_hex(KEY, "42")[:32]
    for dtype in ("Int64", "int64[pyarrow]", "UInt8"):
        frame = pd.DataFrame({"v": pd.Series([42, None], dtype=dtype)})
        out = pseudonymize(frame, "v", key=KEY)
        assert out["v"].tolist() == [expected, None], dtype


def test_text_is_taken_as_it_is() -> None:
    # "42.0" is text, unlike the float 42.0; case and spaces are kept (normalise first).
    assert _token("42.0") == _hmac_hex(KEY, "42.0")[:32] != _token(42.0)
    assert _token("Ann@x.com") != _token("ann@x.com")
    assert _token(" ann") != _token("ann")
    assert _token("") == _hmac_hex(KEY, "")[:32]
    assert _token("李小龙") == _hmac_hex(KEY, "李小龙")[:32]


def test_non_integral_floats_use_their_shortest_text() -> None:
    assert _token(0.5) == _token("0.5") == _token(decimal.Decimal("0.50"))
    assert _token(1e-7) == _hmac_hex(KEY, "1e-07")[:32]
    assert _token(float("inf")) == _hmac_hex(KEY, "inf")[:32]
    assert _token(1e20) == _hmac_hex(KEY, "100000000000000000000")[:32]
    assert _token(-0.0) == _token(0)


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA, pd.NaT, decimal.Decimal("NaN")])
def test_a_missing_value_stays_missing(missing: object) -> None:
    assert _token(missing) is None


def test_str_key_is_its_utf8_bytes() -> None:
    text_key = "ключ-для-псевдонимов-crm"
    assert _token("x", key=text_key) == _token("x", key=text_key.encode("utf-8"))
    assert _token("x", key=bytearray(KEY)) == _token("x", key=KEY)


def test_length_cuts_the_full_token() -> None:
    full = _token("alice@example.com", length=64)
    assert isinstance(full, str)
    assert re.fullmatch(r"[0-9a-f]{64}", full)
    for length in (16, 17, 32, 63):
        assert _token("alice@example.com", length=length) == full[:length]


# --- pseudonymize: the frame -------------------------------------------------------------------


def test_only_named_columns_change_and_index_order_dtypes_stay() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [7, 42, 7],
            "email": ["b@x.com", None, "b@x.com"],
            "amount": [1.5, 2.0, 3.0],
        },
        index=pd.Index(["r3", "r1", "r2"], name="line"),
    )
    out = call_unmutated(pseudonymize, frame, ["email", "customer_id"], key=KEY, length=16)
    assert list(out.columns) == ["customer_id", "email", "amount"]
    pd.testing.assert_index_equal(out.index, frame.index)
    pd.testing.assert_series_equal(out["amount"], frame["amount"])
    assert out["customer_id"].dtype == object
    assert out["customer_id"].tolist() == [
        _hmac_hex(KEY, "7")[:16],
        _hmac_hex(KEY, "42")[:16],
        _hmac_hex(KEY, "7")[:16],
    ]
    assert out["email"].tolist() == [_hmac_hex(KEY, "b@x.com")[:16], None, out["email"].iloc[0]]


def test_tables_pseudonymised_apart_still_join() -> None:
    orders = pd.DataFrame({"customer_id": [3, 1, 3, 2], "amount": [10, 20, 30, 40]})
    people = pd.DataFrame({"customer_id": ["1", "2", "3"], "region": ["N", "S", "N"]})
    joined = orders.merge(people.astype({"customer_id": "int64"}), on="customer_id")
    p_orders = pseudonymize(orders, "customer_id", key=KEY)
    p_people = pseudonymize(people, "customer_id", key=KEY)
    p_joined = p_orders.merge(p_people, on="customer_id")
    assert p_joined["region"].tolist() == joined["region"].tolist()
    assert p_joined["amount"].tolist() == joined["amount"].tolist()


def test_categorical_and_string_columns() -> None:
    frame = pd.DataFrame(
        {
            "cat": pd.Series(["b", None, "a", "b"], dtype="category"),
            "text": pd.Series(["b", None, "a", "b"], dtype="string"),
        }
    )
    out = pseudonymize(frame, ["cat", "text"], key=KEY)
    expected = [_hmac_hex(KEY, "b")[:32], None, _hmac_hex(KEY, "a")[:32], _hmac_hex(KEY, "b")[:32]]
    assert out["cat"].tolist() == expected
    assert out["text"].tolist() == expected


def test_empty_frame_and_all_missing_column() -> None:
    empty = pd.DataFrame({"v": pd.Series([], dtype=object), "w": pd.Series([], dtype=float)})
    out = pseudonymize(empty, ["v", "w"], key=KEY)
    assert len(out) == 0
    assert list(out.columns) == ["v", "w"]
    nothing = pd.DataFrame({"v": [np.nan, np.nan]})
    assert pseudonymize(nothing, "v", key=KEY)["v"].tolist() == [None, None]


# --- pseudonymize: the key and bad input -------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "match"),
    [
        (None, "key is missing"),
        ("", "key is empty"),
        (b"", "key is empty"),
        (b"x" * (MIN_KEY_BYTES - 1), "key is only 15 bytes long"),
        (12345678901234567890, "key must be bytes or str, got int"),
        (["a" * 32], "key must be bytes or str, got list"),
        ("a" * 32 + "\n", "leading or trailing whitespace"),
        (" " + "a" * 32, "leading or trailing whitespace"),
        ("\ud800" * 20, "cannot be encoded as UTF-8"),
    ],
)
def test_bad_keys_are_refused(key: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        pseudonymize(pd.DataFrame({"v": [1]}), "v", key=key)  # type: ignore[arg-type]
    assert info.value.column == "key"
    assert info.value.value is None


def test_the_key_never_shows() -> None:
    key = "correct-horse-battery-staple-0042"
    frame = pd.DataFrame({"v": ["a", None], "w": [True, False]})
    out = pseudonymize(frame, "v", key=key)
    for text in (repr(out), str(out), out.to_csv(), out.to_json(), str(pickle.dumps(out))):
        assert key not in text
        assert key.encode().hex() not in text
    errors: list[BaseException] = []
    for call in (
        lambda: pseudonymize(frame, "missing", key=key),
        lambda: pseudonymize(frame, "w", key=key),
        lambda: pseudonymize(frame, "v", key=key, length=8),
        lambda: pseudonymize(frame, "v", key=key[:10]),
        lambda: pseudonymize(frame, "v", key=key + " "),
    ):
        with pytest.raises(CRMError) as info:
            call()
        errors.append(info.value)
    for err in errors:
        seen = " ".join(map(repr, (str(err), err.args, vars(err))))
        assert key not in seen
        assert key[:10] not in seen


@pytest.mark.parametrize("length", [15, 65, 0, True, 32.0])
def test_length_out_of_range(length: object) -> None:
    with pytest.raises(ConfigError, match="length"):
        pseudonymize(pd.DataFrame({"v": [1]}), "v", key=KEY, length=length)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("columns", "error"), [([], ConfigError), (5, ConfigError), ("x", SchemaError)]
)
def test_bad_columns(columns: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        pseudonymize(pd.DataFrame({"v": [1]}), columns, key=KEY)  # type: ignore[arg-type]


def test_not_a_frame() -> None:
    with pytest.raises(TypeError, match="frame must be a pandas DataFrame"):
        pseudonymize([1, 2], "v", key=KEY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([True, False]),
        pd.Series([True, None], dtype="boolean"),
        pd.Series(pd.to_datetime(["2024-01-05", "2024-01-06"])),
        pd.Series(pd.to_datetime(["2024-01-05", "2024-01-06"]).tz_localize("UTC")),
        pd.Series(pd.to_timedelta([1, 2], unit="D")),
        pd.Series(pd.period_range("2024-01", periods=2, freq="M")),
    ],
)
def test_non_identifier_columns_are_refused(column: pd.Series) -> None:
    frame = pd.DataFrame({"v": column})
    with pytest.raises(ColumnTypeError, match=r"column 'v' of frame holds .* values; expected"):
        pseudonymize(frame, "v", key=KEY)


@pytest.mark.parametrize(
    ("values", "kind", "row"),
    [
        ([1, True, 2], "bool", "b"),  # factorize would merge True with 1: checked apart
        (["x", np.False_, "y"], "bool", "b"),
        (["x", "y", pd.Timestamp("1990-04-01")], "Timestamp", "c"),
        (["x", b"raw", "y"], "bytes", "b"),
        ([("a", 1), "x", "y"], "tuple", "a"),
    ],
)
def test_non_identifier_values_name_the_row_not_the_value(
    values: list[object], kind: str, row: str
) -> None:
    frame = pd.DataFrame({"v": values}, index=["a", "b", "c"], dtype=object)
    with pytest.raises(ColumnTypeError) as info:
        pseudonymize(frame, "v", key=KEY)
    message = str(info.value)
    assert f"has a {kind} value at row '{row}'" in message
    assert "1990" not in message
    assert info.value.row == row
    assert info.value.column == "v"
    assert info.value.value is None


# --- pseudonymize: properties ------------------------------------------------------------------

identifiers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.text(max_size=12),
    st.emails(),
    st.floats(allow_nan=False, allow_infinity=False),
)
keys = st.one_of(st.binary(min_size=16, max_size=80), st.text(min_size=16, max_size=40)).filter(
    lambda k: (
        not isinstance(k, str)
        or (k == k.strip() and k.encode("utf-8", "ignore") == k.encode("utf-8", "surrogatepass"))
    )
)


def _canonical_key(value: object) -> str:
    """The documented canonical text, written independently of the module."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        return repr(value)
    return str(int(value))  # type: ignore[call-overload]


@given(values=st.lists(identifiers, min_size=1, max_size=30), key=keys, seed=st.integers(0, 99))
def test_property_deterministic_across_frames_and_order(
    values: list[object], key: bytes | str, seed: int
) -> None:
    frame = pd.DataFrame({"v": pd.Series(values, dtype=object)})
    first = call_unmutated(pseudonymize, frame, "v", key=key)
    again = pseudonymize(frame, "v", key=key)
    pd.testing.assert_frame_equal(first, again)
    # Another table, rows reordered and half of them gone, gives every value the same token.
    other = shuffled(frame, seed).iloc[: max(1, len(frame) // 2)]
    tokens = pseudonymize(other, "v", key=key)["v"]
    pd.testing.assert_series_equal(tokens, first["v"].loc[other.index])
    pd.testing.assert_index_equal(first.index, frame.index)


@given(values=st.lists(identifiers, min_size=1, max_size=30, unique_by=_canonical_key))
def test_property_distinct_values_get_distinct_tokens(values: list[object]) -> None:
    out = pseudonymize(pd.DataFrame({"v": pd.Series(values, dtype=object)}), "v", key=KEY)
    tokens = out["v"].tolist()
    assert len(set(tokens)) == len(values)
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in tokens)
    assert tokens == [_hmac_hex(KEY, _canonical_key(v))[:32] for v in values]


@given(values=st.lists(identifiers, min_size=1, max_size=20), key1=keys, key2=keys)
def test_property_another_key_gives_other_tokens(
    values: list[object], key1: bytes | str, key2: bytes | str
) -> None:
    raw1 = key1.encode() if isinstance(key1, str) else key1
    raw2 = key2.encode() if isinstance(key2, str) else key2
    assume(raw1 != raw2)
    frame = pd.DataFrame({"v": pd.Series(values, dtype=object)})
    a = pseudonymize(frame, "v", key=key1)["v"]
    b = pseudonymize(frame, "v", key=key2)["v"]
    assert not (a == b).any()


@given(
    values=st.lists(
        st.one_of(st.none(), st.just(np.nan), st.integers(0, 50)), min_size=1, max_size=30
    ),
)
def test_property_missing_stays_missing_and_only_missing(values: list[object]) -> None:
    frame = pd.DataFrame({"v": pd.Series(values, dtype=object), "x": range(len(values))})
    out = call_unmutated(pseudonymize, frame, ["v"], key=KEY)
    np.testing.assert_array_equal(out["v"].isna().to_numpy(), frame["v"].isna().to_numpy())
    pd.testing.assert_series_equal(out["x"], frame["x"])


# --- mask: hand-worked -------------------------------------------------------------------------


def test_mask_emails() -> None:
    frame = pd.DataFrame(
        {"email": ["jane.doe@example.com", " j@x.org ", None, "", "Ünal@müller.de"]},
        index=[10, 11, 12, 13, 14],
    )
    out = call_unmutated(mask, frame, "email", kind="email")
    assert out["email"].tolist() == [
        "j***@example.com",
        "j***@x.org",
        None,
        "",
        "Ü***@müller.de",
    ]
    pd.testing.assert_index_equal(out.index, frame.index)


def test_mask_phones() -> None:
    frame = pd.DataFrame(
        {
            "phone": [
                "+86 138 1234 5678",
                "(030) 901820",
                "1234",  # 4 digits: only half of them kept
                "5",
                None,
                "  ",
                "+49-30-\uff11\uff12\uff13\uff14\uff15\uff16\uff17",  # full-width digits are digits
            ]
        }
    )
    out = mask(frame, "phone", kind="phone")
    assert out["phone"].tolist() == [
        "+** *** **** 5678",
        "(***) **1820",
        "**34",
        "*",
        None,
        "  ",
        "+**-**-***\uff14\uff15\uff16\uff17",
    ]
    two = mask(frame, "phone", kind="phone", keep_digits=2)["phone"].tolist()
    assert two[:4] == ["+** *** **** **78", "(***) ****20", "**34", "*"]
    none = mask(frame, "phone", kind="phone", keep_digits=0)["phone"].tolist()
    assert none[0] == "+** *** **** ****"


def test_mask_phone_numbers_stored_as_numbers() -> None:
    frame = pd.DataFrame({"phone": [13812345678.0, np.nan, 3011223.0]})
    out = mask(frame, "phone", kind="phone")
    assert out["phone"].tolist() == ["*******5678", None, "****223"]  # 7 digits: 3 kept
    ints = pd.DataFrame({"phone": pd.Series([13812345678, None], dtype="Int64")})
    assert mask(ints, "phone", kind="phone")["phone"].tolist() == ["*******5678", None]


def test_mask_names() -> None:
    frame = pd.DataFrame(
        {"name": ["Jane van Doe", " jane  DOE ", "李小龙", "Jean-Luc Picard", None]}
    )
    out = mask(frame, "name", kind="name")
    assert out["name"].tolist() == ["J. v. D.", "j. D.", "李.", "J. P.", None]


def test_mask_a_kind_per_column_and_other_columns_untouched() -> None:
    frame = pd.DataFrame(
        {"who": ["Ann Lee"], "mail": ["ann@lee.cn"], "tel": ["0755 8888 1234"], "amount": [5]}
    )
    out = call_unmutated(mask, frame, {"mail": "email", "tel": "phone", "who": "name"})
    assert out.iloc[0].tolist() == ["A. L.", "a***@lee.cn", "**** **** 1234", 5]
    assert list(out.columns) == list(frame.columns)


def test_mask_kinds_are_listed() -> None:
    assert MASK_KINDS == ("email", "name", "phone")


@pytest.mark.parametrize(
    ("columns", "kind", "match"),
    [
        (
            "email",
            "mail",
            "mask kind 'mail' for column 'email' is not one of 'email', 'name', 'phone'",
        ),
        ({"email": "emails"}, None, "mask kind 'emails'"),
        ("email", None, "kind is missing"),
        ({"email": "email"}, "email", "not both"),
        ({}, None, "columns is empty"),
        ([], "email", "columns is empty"),
    ],
)
def test_mask_bad_kinds(columns: object, kind: object, match: str) -> None:
    frame = pd.DataFrame({"email": ["a@b.c"]})
    with pytest.raises(ConfigError, match=match):
        mask(frame, columns, kind)  # type: ignore[arg-type]


@pytest.mark.parametrize("keep", [-1, 5, 2.0, True])
def test_mask_keep_digits_range(keep: object) -> None:
    with pytest.raises(ConfigError, match="keep_digits"):
        mask(pd.DataFrame({"p": ["123"]}), "p", kind="phone", keep_digits=keep)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "value", "what"),
    [
        ("email", "jane.doe-at-example.com", "not an email address"),
        ("email", "a@b@c", "not an email address"),
        ("email", "jane doe@example.com", "not an email address"),
        ("email", "@example.com", "not an email address"),
        ("phone", "n/a", "not a phone number"),
    ],
)
def test_mask_malformed_values_name_the_row_not_the_value(kind: str, value: str, what: str) -> None:
    frame = pd.DataFrame({"c": ["x@y.z" if kind == "email" else "123", value]}, index=["r1", "r2"])
    with pytest.raises(DataError) as info:
        mask(frame, "c", kind=kind)
    assert what in str(info.value)
    assert "row 'r2'" in str(info.value)
    assert value not in str(info.value)
    assert (info.value.column, info.value.row, info.value.value) == ("c", "r2", None)


@pytest.mark.parametrize("kind", ["email", "name"])
def test_mask_numbers_in_text_kinds_are_refused(kind: str) -> None:
    frame = pd.DataFrame({"c": ["a@b.c", 42]}, index=[5, 6], dtype=object)
    with pytest.raises(ColumnTypeError, match=r"has a int value at row 6; expected text"):
        mask(frame, "c", kind=kind)


def test_mask_missing_column() -> None:
    with pytest.raises(SchemaError, match="missing column"):
        mask(pd.DataFrame({"a": ["x"]}), "email", kind="email")


# --- mask: properties --------------------------------------------------------------------------


@given(emails=st.lists(st.one_of(st.none(), st.emails()), min_size=1, max_size=20))
def test_property_email_mask_keeps_first_character_and_domain_only(
    emails: list[str | None],
) -> None:
    frame = pd.DataFrame({"e": pd.Series(emails, dtype=object)})
    out = call_unmutated(mask, frame, "e", kind="email")["e"].tolist()
    for before, after in zip(emails, out, strict=True):
        if before is None:
            assert after is None
        else:
            local, domain = before.split("@")
            assert after == f"{local[0]}***@{domain}"


phones = (
    st.lists(st.sampled_from("0123456789 +-()"), min_size=1, max_size=20)
    .map("".join)
    .filter(lambda s: any(c.isdigit() for c in s))
)


@given(
    values=st.lists(st.one_of(st.none(), phones), min_size=1, max_size=20), keep=st.integers(0, 4)
)
def test_property_phone_mask_keeps_layout_and_at_most_the_last_digits(
    values: list[str | None], keep: int
) -> None:
    frame = pd.DataFrame({"p": pd.Series(values, dtype=object)})
    out = call_unmutated(mask, frame, "p", kind="phone", keep_digits=keep)["p"].tolist()
    for before, after in zip(values, out, strict=True):
        if before is None:
            assert after is None
            continue
        assert len(after) == len(before)
        digits = [c for c in before if c.isdigit()]
        kept = [c for c in after if c.isdigit()]
        assert len(kept) == min(keep, len(digits) // 2)
        assert kept == digits[len(digits) - len(kept) :]
        for b, a in zip(before, after, strict=True):
            assert a == b or (b.isdigit() and a == "*")
        # Hidden digits are exactly the leading ones.
        assert after.count("*") == len(digits) - len(kept)


words = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=8)


@given(names=st.lists(st.lists(words, min_size=1, max_size=4), min_size=1, max_size=15))
def test_property_name_mask_is_the_initials(names: list[list[str]]) -> None:
    frame = pd.DataFrame(
        {"n": ["  ".join(parts) for parts in names]}, index=range(5, 5 + len(names))
    )
    out = call_unmutated(mask, frame, "n", kind="name")
    pd.testing.assert_index_equal(out.index, frame.index)
    assert out["n"].tolist() == [" ".join(f"{w[0]}." for w in parts) for parts in names]


def test_an_integer_too_long_for_text_is_refused_not_a_foreign_error() -> None:
    frame = pd.DataFrame({"v": [10**5000, 1]}, index=["big", "one"], dtype=object)
    with pytest.raises(ColumnTypeError, match="has a int value at row 'big'"):
        pseudonymize(frame, "v", key=KEY)


def test_duplicate_and_multi_index_labels_are_kept() -> None:
    frame = pd.DataFrame({"v": ["x", "y", "x"], "w": ["a@b.c"] * 3}, index=[1, 1, 2])
    out = call_unmutated(pseudonymize, frame, "v", key=KEY, length=16)
    pd.testing.assert_index_equal(out.index, frame.index)
    assert out["v"].tolist() == [_hmac_hex(KEY, t)[:16] for t in ("x", "y", "x")]
    assert mask(frame, "w", kind="email")["w"].tolist() == ["a***@b.c"] * 3
    multi = frame.set_axis(pd.MultiIndex.from_tuples([(1, "a"), (1, "b"), (2, "a")]))
    out = pseudonymize(multi, "v", key=KEY, length=16)
    pd.testing.assert_index_equal(out.index, multi.index)
    assert out["v"].tolist() == [_hmac_hex(KEY, t)[:16] for t in ("x", "y", "x")]
