"""The one parsed-deals value every pipeline function works on.

An opportunities table is read once by :func:`parse_deals`: ids (present, unique), stages (each
one a known open stage, won or lost), amounts (finite, >= 0, as exact int64 minor units in one
currency when they must be added up), optional close and creation dates (missing allowed), and,
given a :class:`~crmcore.pipeline.StageModel`, each deal's win probability and expected amount.
The result, :class:`Deals`, keeps the rows in input order; functions take what they need from it
instead of parsing the same columns again their own way.

The checks run in one fixed order (columns, ids, stages, amounts, currencies, dates), so every
function reports the same first problem for the same table, and every message names the row by
its index label (and the deal by its id).

One exception to "parsed once, here": ``close_schedule`` needs per-period totals only, so it
first tries a streaming pass over the columns (``pipeline/_schedule.py``) that builds none of
these per-deal arrays; whatever that pass cannot vouch for comes back here, so the checks and
their messages are these.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_scalar,
    describe_row,
    first_true,
    import_optional,
    numeric_column,
    require_columns,
    require_not_null,
    require_unique,
    show,
)
from crmcore.errors import ConfigError, CurrencyError, DataError
from crmcore.money import sum_minor_units, to_minor_units
from crmcore.pipeline._dates import optional_dates
from crmcore.pipeline.stages import StageModel

__all__ = [
    "OPEN",
    "Deals",
    "ModelArg",
    "Money",
    "Processes",
    "Weights",
    "check_model",
    "check_models",
    "code_stages",
    "id_order",
    "ids_ascending",
    "minor_units",
    "parse_deals",
    "parse_money",
    "per_stage",
    "sum_cents",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

OPEN, WON, LOST = 0, 1, 2
# Minor units above this are not exact in float64, the type amounts arrive in.
_EXACT_UNITS = float(2**53)
#: Rows per pass of the elementwise money steps: their temporaries stay cache-sized (a fresh
#: process pays page faults for every full-length temporary).
CHUNK = 1 << 16


def _checked_sums(values: npt.ArrayLike, codes: npt.ArrayLike, n: int, name: str) -> IntArray:
    """:func:`crmcore.money.sum_minor_units`, a chunk of rows at a time when groups are few.

    Integer sums are exact whatever the order, so the chunk sums add up to the same totals;
    if any partial sum is refused, the whole column is summed again to raise the error.
    """
    vals = np.asarray(values)
    cods = np.asarray(codes)
    n_chunks = -(-len(vals) // CHUNK)
    if n_chunks <= 1 or n * n_chunks > len(vals):
        return sum_minor_units(vals, cods, n, name=name)
    try:
        partial = np.concatenate(
            [
                sum_minor_units(vals[lo : lo + CHUNK], cods[lo : lo + CHUNK], n, name=name)
                for lo in range(0, len(vals), CHUNK)
            ]
        )
        return sum_minor_units(partial, np.tile(np.arange(n), n_chunks), n, name=name)
    except DataError:
        return sum_minor_units(vals, cods, n, name=name)


@attrs.frozen(kw_only=True, eq=False)
class Money:
    """Amounts as exact minor units, and what currency they are in.

    ``cents`` are in the reporting currency when ``summable`` (one currency, or converted with
    rates); otherwise each deal stays in its own currency (``currency``). ``reporting`` is the
    currency of summable cents when known (the ``reporting_currency`` argument, or the single
    currency of the column), else ``None``.
    """

    cents: IntArray
    currency: npt.NDArray[Any] | None
    fx: FloatArray | None
    reporting: Any
    summable: bool


@attrs.frozen(kw_only=True, eq=False)
class Weights:
    """What a stage model says about each deal.

    ``codes`` are the stage codes in the deal's own model (0 .. k-1 open stages in funnel
    order, k won, k+1 lost), ``process`` the position of that model in ``Deals.models`` (all 0
    with one model), ``probability`` the win probability and ``expected`` the expected amount
    in minor units (rounded half up per deal, never above the amount).
    """

    codes: IntArray
    process: IntArray
    probability: FloatArray
    expected: IntArray


@attrs.frozen(kw_only=True, eq=False)
class Processes:
    """Several sales processes: one stage model per value of the process column."""

    names: tuple[Any, ...]
    models: tuple[StageModel, ...]


#: A stage model, or a mapping process value -> stage model (or its ``to_dict`` form).
ModelArg = StageModel | Mapping[Any, StageModel | Mapping[str, Any]]


@attrs.frozen(kw_only=True, eq=False)
class Deals:
    """A validated opportunities table, one entry per row in input order.

    ``state`` is :data:`OPEN`, ``WON`` or ``LOST`` per deal. With a stage model, ``weights``
    holds what the model says about each deal (see :meth:`weighted`); without one, ``None``.
    ``close_date`` (expected), ``closed_at`` (actual) and ``created_at`` are parsed dates (NaT
    where missing) when asked for.
    """

    frame: pd.DataFrame
    key: str
    ids: pd.Index
    state: npt.NDArray[np.int8]
    weights: Weights | None
    models: tuple[StageModel, ...]
    money: Money
    close_date: pd.Series | None
    closed_at: pd.Series | None
    created_at: pd.Series | None

    @property
    def is_open(self) -> npt.NDArray[np.bool_]:
        """True for deals neither won nor lost."""
        return np.asarray(self.state == OPEN)

    @property
    def is_won(self) -> npt.NDArray[np.bool_]:
        """True for won deals."""
        return np.asarray(self.state == WON)

    @property
    def is_lost(self) -> npt.NDArray[np.bool_]:
        """True for lost deals."""
        return np.asarray(self.state == LOST)

    def weighted(self) -> Weights:
        """Return the stage codes, win probabilities and expected amounts of the deals."""
        if self.weights is None:  # pragma: no cover - a programming error, not a user's
            raise ConfigError("these deals were parsed without a stage model")
        return self.weights

    def where(self, position: int) -> str:
        """Describe the deal at ``position`` for a message: ``row <label> (<key>=<id>)``."""
        return describe_row(self.frame, position, self.key)

    def label(self, position: int) -> Hashable:
        """Index label of the row at ``position``."""
        label: Hashable = self.frame.index[position]
        return label

    def order(self) -> IntArray:
        """Positions of the deals in id order (see :func:`id_order`)."""
        return id_order(self.frame, self.key)

    def rows_by_id(self) -> IntArray | slice:
        """Return what picks the deals in id order: ``slice(None)`` when they already are in it.

        Otherwise their positions (:meth:`order`). A table exported in id order (the usual
        case) is then taken as it is: indexing with the slice gives views, not full-length
        gathered copies.
        """
        return slice(None) if ids_ascending(self.frame[self.key]) else self.order()


def check_model(model: object) -> StageModel:
    """Return ``model`` if it is a StageModel, else raise :class:`~crmcore.errors.ConfigError`."""
    if not isinstance(model, StageModel):
        raise ConfigError(f"model must be a StageModel, got {type(model).__name__}", column="model")
    return model


def check_models(model: object) -> StageModel | Processes:
    """Return a StageModel, or the Processes of a mapping process -> StageModel (or dict)."""
    if isinstance(model, StageModel):
        return model
    if not isinstance(model, Mapping):
        raise ConfigError(
            f"model must be a StageModel or a mapping process -> StageModel, got "
            f"{type(model).__name__}",
            column="model",
        )
    if not model:
        raise ConfigError(
            "model is an empty mapping; give one stage model per sales process", column="model"
        )
    names: list[Any] = []
    models: list[StageModel] = []
    for name, given in model.items():
        value = StageModel.from_dict(given) if isinstance(given, Mapping) else given
        if not isinstance(value, StageModel):
            raise ConfigError(
                f"model[{name!r}] must be a StageModel (or its to_dict mapping), got "
                f"{type(value).__name__}",
                column="model",
                value=name,
            )
        names.append(name)
        models.append(value)
    return Processes(names=tuple(names), models=tuple(models))


def code_stages(
    frame: pd.DataFrame,
    column: str,
    names: Sequence[Any],
    *,
    arg: str,
    key: str | None,
    known_as: str = "the model knows",
    what: str = "stage",
) -> IntArray:
    """Position of each row's ``column`` value in ``names``; unknown or missing is an error."""
    require_not_null(frame, column, arg=arg, key=key)
    codes, complete = _arrow_positions(frame[column], names)
    if codes is not None and complete:  # Arrow found every value: nothing to look for
        return codes
    if codes is None:
        # Factorise first, then look up the few distinct labels: hashing a million strings
        # against the table of names is several times slower than one factorize.
        row_codes, uniques = pd.factorize(frame[column])
        table = np.asarray(
            pd.Index(list(names), dtype=object).get_indexer_for(pd.Index(uniques, dtype=object)),
            dtype=np.int64,
        )
        codes = np.where(row_codes < 0, -1, table[row_codes])
    pos = first_true(codes < 0)
    if pos is not None:
        value = frame[column].iloc[pos]
        listed = ", ".join(repr(s) for s in names)
        raise DataError(
            f"column {column!r} of {arg} has unknown {what} {show(value)} at "
            f"{describe_row(frame, pos, key)}; {known_as} {listed}",
            column=column,
            row=frame.index[pos],
            value=value,
        )
    return codes


def _arrow_positions(values: pd.Series, names: Sequence[Any]) -> tuple[IntArray | None, bool]:
    """Position of each value in ``names`` (-1: not there) for Arrow-backed text, else ``None``.

    Arrow looks each string up in a hash table of the few names, about three times faster
    than factorising the column (pandas' default ``str`` columns are Arrow-backed). Other
    columns, and names that are not all text, take the factorising path (``None``). The flag
    tells that every value was found (no -1 to look for).
    """
    dtype = values.dtype
    arrow_text = (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
        isinstance(dtype, pd.ArrowDtype) and dtype.kind == "U"
    )
    if not arrow_text or not all(isinstance(name, str) for name in names):
        return None, False
    pa = import_optional("pyarrow", "arrow")
    pc = import_optional("pyarrow.compute", "arrow")
    column = values.array.__arrow_array__()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return None, False  # pragma: no cover - an Arrow column of another kind
    found = pc.index_in(column, value_set=pa.array(list(names), column.type))
    complete = found.null_count == 0
    if not complete:  # values not among the names: an error the caller reports
        found = pc.fill_null(found, -1)
    return np.asarray(found, dtype=np.int64), complete


def id_order(frame: pd.DataFrame, key: str) -> IntArray:
    """Positions of the rows sorted by id (stable), so results never depend on row order.

    Ids of mixed types (``7`` and ``"a"``) sort by type name, then value. Two ids that differ
    only in type but print the same (``1`` and ``"1"``) are a :class:`~crmcore.errors.DataError`:
    they are almost surely one deal typed two ways.
    """
    ids = frame[key]
    try:
        return np.asarray(ids.argsort(kind="stable"), dtype=np.int64)
    except TypeError:
        pass
    codes, values = _ids_typed_once(frame, key)
    rank_of_unique = np.empty(len(values), dtype=np.int64)
    ranked = sorted(range(len(values)), key=lambda i: (type(values[i]).__name__, values[i]))
    rank_of_unique[ranked] = np.arange(len(values), dtype=np.int64)
    return np.asarray(np.argsort(rank_of_unique[codes], kind="stable"), dtype=np.int64)


def ids_ascending(ids: pd.Series) -> bool:
    """Tell whether numeric ids are already in ascending order (one pass, no temporaries).

    For unique ids (as :func:`parse_deals` requires) that is :func:`id_order`'s order.
    Other id types answer ``False`` and are sorted.
    """
    dtype = ids.dtype
    if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return False
    return bool(ids.is_monotonic_increasing)


def _ids_typed_once(frame: pd.DataFrame, key: str) -> tuple[IntArray, list[Any]]:
    """Codes and distinct ids; two that print the same but differ in type are an error."""
    codes, uniques = pd.factorize(frame[key])
    values = list(uniques)
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        text = str(value)
        if text in seen:
            a = int(np.argmax(codes == seen[text]))
            b = int(np.argmax(codes == i))
            raise DataError(
                f"column {key!r} mixes id types: {show(values[seen[text]])} at "
                f"{describe_row(frame, a)} and {show(value)} at {describe_row(frame, b)} look "
                "the same but differ in type; use one type for ids",
                column=key,
                row=frame.index[b],
                value=value,
            )
        seen[text] = i
    return np.asarray(codes, dtype=np.int64), values


def check_id_types(frame: pd.DataFrame, key: str) -> None:
    """Refuse ids that print the same but differ in type (``1`` and ``"1"``): one deal.

    Ids of one type pass at once; mixed types that print differently (``7`` and ``"a"``) are
    fine (they sort by type, then value).
    """
    ids = frame[key]
    if ids.dtype != object or pd.api.types.infer_dtype(ids, skipna=True) in ("string", "integer"):
        return
    _ids_typed_once(frame, key)


def sum_cents(
    values: npt.ArrayLike,
    codes: npt.ArrayLike,
    n: int,
    *,
    name: str,
    labels: Sequence[Any] | pd.Index | None = None,
) -> IntArray:
    """Exact per-group sums of minor units; one passing 2**63 is an error naming its group.

    :func:`crmcore.money.sum_minor_units` names the group by its code; with ``labels`` the
    message names it by the label the user sees (a stage, a period, a person).
    """
    try:
        return _checked_sums(values, codes, n, name)
    except DataError as err:
        if labels is None or err.row is None:
            raise
        label = labels[int(err.row)]
        raise DataError(
            f"{name} of {show(label)} sum to {err.value} minor units, which passes the 64-bit "
            f"limit {2**63 - 1}; split the data or use a larger minor unit",
            column=name,
            row=label,
            value=err.value,
        ) from None


def _check_rates(rates: Mapping[Any, float], reporting_currency: Any) -> dict[Any, float]:
    if not isinstance(rates, Mapping):
        raise ConfigError(
            f"rates must be a mapping currency -> rate into the reporting currency, got "
            f"{type(rates).__name__}",
            column="rates",
        )
    out: dict[Any, float] = {}
    for cur, rate in rates.items():
        check_scalar(rate, f"rates[{cur!r}]", kind=float, min_value=0.0, include="neither")
        if not np.isfinite(float(rate)):
            raise ConfigError(f"rates[{cur!r}] == {rate!r}, must be finite", column="rates")
        out[cur] = float(rate)
    if reporting_currency is not None:
        if reporting_currency in out and out[reporting_currency] != 1.0:
            raise ConfigError(
                f"rates[{reporting_currency!r}] == {out[reporting_currency]!r}, but "
                f"{reporting_currency!r} is the reporting currency; its rate must be 1",
                column="rates",
                value=out[reporting_currency],
            )
        out[reporting_currency] = 1.0
    return out


def _first_too_large(values: FloatArray, scale: float) -> int | None:
    """Position of the first value whose minor units pass 2**53, checked a chunk at a time."""
    with np.errstate(over="ignore"):  # an amount near 1e307 scales to inf: too large, named
        for lo in range(0, len(values), CHUNK):
            pos = first_true(np.abs(values[lo : lo + CHUNK]) * scale >= _EXACT_UNITS)
            if pos is not None:
                return lo + pos
    return None


def minor_units(
    frame: pd.DataFrame,
    values: FloatArray,
    *,
    amount: str,
    arg: str,
    key: str | None,
    decimals: int,
    converted: bool = False,
) -> IntArray:
    """Amounts as minor units; one too large to be exact is an error naming its row label."""
    pos = _first_too_large(values, 10.0**decimals)
    if pos is not None:
        what = " (converted into the reporting currency)" if converted else ""
        limit = _EXACT_UNITS / 10.0**decimals
        raise DataError(
            f"column {amount!r} of {arg} has amount {show(values[pos])}{what} at "
            f"{describe_row(frame, pos, key)}, too large to hold exactly in minor units at "
            f"{decimals} decimals; amounts must stay below {limit:.6g} (2**53 minor units)",
            column=amount,
            row=frame.index[pos],
            value=values[pos],
        )
    cents: IntArray = to_minor_units(values, decimals, name=f"column {amount!r}")  # type: ignore[assignment]
    return cents


def parse_money(
    frame: pd.DataFrame,
    amount: str,
    *,
    arg: str,
    key: str | None,
    currency: str | None,
    rates: Mapping[Any, float] | None,
    reporting_currency: Any,
    decimals: int,
    must_sum: bool,
) -> Money:
    """Validate amounts (finite, >= 0) and return them as minor units of one currency.

    With ``must_sum`` several currencies without ``rates`` are a :class:`CurrencyError`;
    without it they are allowed (each deal then stays in its own currency).
    """
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    values = numeric_column(
        frame, amount, arg=arg, key=key, allow_negative=False, what="finite amounts >= 0"
    )
    units: dict[str, Any] = {"amount": amount, "arg": arg, "key": key, "decimals": decimals}
    if currency is None:
        if rates is not None:
            raise ConfigError(
                "rates were given but no currency column; pass currency=<column name> so each "
                "amount can be converted",
                column="rates",
            )
        return Money(
            cents=minor_units(frame, values, **units),
            currency=None,
            fx=None,
            reporting=reporting_currency,
            summable=True,
        )
    require_not_null(frame, currency, arg=arg, key=key)
    codes, uniques = pd.factorize(frame[currency], sort=False)
    cur_values = frame[currency].to_numpy(dtype=object)
    if rates is None:
        if len(uniques) > 1:
            if must_sum:
                a = int(np.argmax(codes == 0))
                b = int(np.argmax(codes == 1))
                raise CurrencyError(
                    f"{arg} mix currencies {show(uniques[0])} at {describe_row(frame, a, key)} "
                    f"and {show(uniques[1])} at {describe_row(frame, b, key)}, and no rates "
                    "were given; pass rates={currency: rate into the reporting currency} to "
                    "sum them",
                    column=currency,
                    row=frame.index[b],
                    value=uniques[1],
                )
            cents = minor_units(frame, values, **units)
            return Money(cents=cents, currency=cur_values, fx=None, reporting=None, summable=False)
        only = uniques[0] if len(uniques) else reporting_currency
        if reporting_currency is not None and len(uniques) and only != reporting_currency:
            raise CurrencyError(
                f"{arg} are in currency {show(only)} but reporting_currency is "
                f"{reporting_currency!r}; pass rates to convert",
                column=currency,
                value=only,
            )
        cents = minor_units(frame, values, **units)
        fx = np.ones(len(values))
        return Money(cents=cents, currency=cur_values, fx=fx, reporting=only, summable=True)
    table = _check_rates(rates, reporting_currency)
    per_code = np.empty(len(uniques), dtype=np.float64)
    for i, cur in enumerate(uniques):
        if cur not in table:
            pos = int(np.argmax(codes == i))
            known = ", ".join(repr(c) for c in table) or "none"
            raise CurrencyError(
                f"currency {show(cur)} at {describe_row(frame, pos, key)} has no exchange rate; "
                f"rates has {known}",
                column=currency,
                row=frame.index[pos],
                value=cur,
            )
        per_code[i] = table[cur]
    fx = per_code[codes]
    cents = minor_units(frame, values * fx, converted=True, **units)
    return Money(
        cents=cents, currency=cur_values, fx=fx, reporting=reporting_currency, summable=True
    )


def _process_stages(
    frame: pd.DataFrame,
    stage: str,
    processes: Processes,
    process: str,
    *,
    arg: str,
    key: str,
) -> tuple[IntArray, IntArray]:
    """Process position and stage code (in that process's model) of every deal.

    An unknown process, or a stage its process's model does not know, is an error naming the
    first such row by label.
    """
    proc = code_stages(
        frame, process, processes.names, arg=arg, key=key, known_as="models are given for",
        what="process",
    )  # fmt: skip
    require_not_null(frame, stage, arg=arg, key=key)
    row_codes, uniques = pd.factorize(frame[stage])
    labels = pd.Index(uniques, dtype=object)
    codes = np.full(len(frame), -1, dtype=np.int64)
    for p, model in enumerate(processes.models):
        names = [*model.stages, model.won, model.lost]
        table = np.asarray(pd.Index(names, dtype=object).get_indexer_for(labels), dtype=np.int64)
        mask = proc == p
        codes[mask] = table[row_codes[mask]] if len(table) else -1
    pos = first_true(codes < 0)
    if pos is not None:
        value = frame[stage].iloc[pos]
        model = processes.models[int(proc[pos])]
        listed = ", ".join(repr(x) for x in (*model.stages, model.won, model.lost))
        raise DataError(
            f"column {stage!r} of {arg} has unknown stage {show(value)} at "
            f"{describe_row(frame, pos, key)} of process "
            f"{show(processes.names[int(proc[pos])])}; its model knows {listed}",
            column=stage,
            row=frame.index[pos],
            value=value,
        )
    return proc, codes


def _states(
    frame: pd.DataFrame,
    stage: str | None,
    model: StageModel | Processes | None,
    *,
    won: str,
    lost: str,
    arg: str,
    key: str,
    process: str | None,
) -> tuple[npt.NDArray[np.int8], IntArray | None, IntArray | None]:
    """Open/won/lost per deal and, with a model, its stage codes and process positions."""
    if stage is None:
        return np.zeros(len(frame), dtype=np.int8), None, None
    if isinstance(model, Processes):
        if process is None:
            raise ConfigError(
                "model maps sales processes to stage models, so process must name the column "
                "holding each deal's process",
                column="process",
            )
        proc, codes = _process_stages(frame, stage, model, process, arg=arg, key=key)
        open_of = np.asarray([len(m.stages) for m in model.models], dtype=np.int64)[proc]
        state = np.where(codes < open_of, OPEN, codes - open_of + 1).astype(np.int8)
        return state, codes, proc
    if model is not None:
        codes = code_stages(frame, stage, [*model.stages, model.won, model.lost], arg=arg, key=key)
        # One byte per deal gathered from a table of the few codes (open stages, won, lost).
        by_code = np.asarray([OPEN] * len(model.stages) + [WON, LOST], dtype=np.int8)
        return by_code[codes], codes, np.zeros(len(frame), dtype=np.int64)
    require_not_null(frame, stage, arg=arg, key=key)
    values = frame[stage]
    is_won = np.asarray(values == won, dtype=bool)
    is_lost = np.asarray(values == lost, dtype=bool)
    _near_closed(frame, stage, is_won | is_lost, won=won, lost=lost, arg=arg, key=key)
    state = np.where(is_won, WON, np.where(is_lost, LOST, OPEN)).astype(np.int8)
    return state, None, None


def _near_closed(
    frame: pd.DataFrame,
    stage: str,
    closed: npt.NDArray[np.bool_],
    *,
    won: Any,
    lost: Any,
    arg: str,
    key: str,
) -> None:
    """Refuse a stage written like ``won``/``lost`` but not equal to it ('Won', ' lost').

    Without a model every other stage counts as open, so such a deal would silently stay in
    the pipeline.
    """
    names = [v for v in (won, lost) if isinstance(v, str)]
    values = frame[stage]
    if not names or not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
        return
    wanted = {n.strip().casefold() for n in names}
    # the distinct stages (a handful), not every row
    odd = [
        v
        for v in pd.unique(values.dropna().astype(object))
        if isinstance(v, str) and v not in names and v.strip().casefold() in wanted
    ]
    if not odd:
        return
    pos = first_true(np.asarray(values.isin(odd), dtype=bool) & ~closed)
    if pos is not None:
        value = values.iloc[pos]
        raise DataError(
            f"column {stage!r} of {arg} has stage {show(value)} at "
            f"{describe_row(frame, pos, key)}, written like won={won!r} / lost={lost!r} but "
            "not equal to either, so it would count as an open deal; correct the value or "
            "pass won=/lost=",
            column=stage,
            row=frame.index[pos],
            value=value,
        )


def per_stage(models: Sequence[StageModel], values: Sequence[Sequence[float]]) -> FloatArray:
    """Return a (process, stage code) table of each model's per-stage values, zero-padded.

    ``values[p]`` holds one number per stage code of ``models[p]`` (open stages, won, lost).
    """
    width = max(len(m.stages) for m in models) + 2
    table = np.zeros((len(models), width), dtype=np.float64)
    for p, row in enumerate(values):
        table[p, : len(row)] = row
    return table


def parse_deals(
    frame: pd.DataFrame,
    *,
    arg: str = "opportunities",
    opportunity: str,
    stage: str | None,
    amount: str,
    model: ModelArg | None = None,
    won: str = "won",
    lost: str = "lost",
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
    must_sum: bool = True,
    close_date: str | None = None,
    closed_at: str | None = None,
    created_at: str | None = None,
    extra: Sequence[str | None] = (),
    allow_empty: bool = False,
    process: str | None = None,
) -> Deals:
    """Check an opportunities table once and return it as a :class:`Deals` value.

    Required columns: ``opportunity``, ``stage`` (unless ``None``), ``amount``, the dates
    asked for, the non-``None`` ``extra`` ones and ``currency`` if given. With ``model`` every
    stage must be one of the model's (open, won or lost); without, ``won`` and ``lost`` name
    the terminal stages and any other stage is open. ``must_sum``: several currencies need
    ``rates`` (see :func:`parse_money`). With a mapping of models (several sales processes),
    the ``process`` column says which model each deal follows.
    """
    checked = check_models(model) if model is not None else None
    if not isinstance(checked, Processes):
        process = None
    cols = [opportunity, *([stage] if stage is not None else []), amount]
    cols += [process] if process is not None else []
    cols += [c for c in (created_at, close_date, closed_at, *extra) if c is not None]
    cols += [currency] if currency is not None else []
    frame = require_columns(frame, cols, arg=arg, allow_empty=allow_empty)
    require_not_null(frame, opportunity, arg=arg)
    check_id_types(frame, opportunity)
    require_unique(frame, opportunity, arg=arg)
    state, codes, proc = _states(
        frame, stage, checked, won=won, lost=lost, arg=arg, key=opportunity, process=process
    )
    money = parse_money(
        frame,
        amount,
        arg=arg,
        key=opportunity,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        must_sum=must_sum,
    )
    weights = None
    models: tuple[StageModel, ...] = ()
    if checked is not None:
        models = checked.models if isinstance(checked, Processes) else (checked,)
    if models and codes is not None and proc is not None:
        table = per_stage(models, [[*m.win_probabilities, 1.0, 0.0] for m in models])
        # One model: a gather from its row (every deal's process is 0).
        probability = table[0][codes] if len(models) == 1 else table[proc, codes]
        # Whole minor units, rounded half up per deal: never above the amount.
        # A chunk at a time (cache-sized temporaries); a failing chunk is converted again whole,
        # so the error names the deal's position in the frame.
        expected = np.empty(len(codes), dtype=np.int64)
        try:
            for lo in range(0, len(codes), CHUNK):
                part = money.cents[lo : lo + CHUNK] * probability[lo : lo + CHUNK]
                expected[lo : lo + len(part)] = to_minor_units(part, 0, name="expected")
        except DataError:
            to_minor_units(money.cents.astype(np.float64) * probability, 0, name="expected")
            raise
        weights = Weights(codes=codes, process=proc, probability=probability, expected=expected)

    def dates(column: str | None) -> pd.Series | None:
        return None if column is None else optional_dates(frame, column, arg=arg, key=opportunity)

    return Deals(
        frame=frame,
        key=opportunity,
        ids=pd.Index(frame[opportunity]),
        state=state,
        weights=weights,
        models=models,
        money=money,
        close_date=dates(close_date),
        closed_at=dates(closed_at),
        created_at=dates(created_at),
    )
