"""Run catalogue cases: in worker processes, under a timeout and a memory limit.

:func:`run_case` runs one case in the current process and classifies its outcome;
:class:`Pool` runs many in worker processes (``python -m catalogue.runner --worker``), each
case under a timeout: a worker that does not answer in time is killed and the case is a
``hang``; a worker that dies (out of memory, a crash) is restarted and the case is a
``foreign`` failure.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import select
import subprocess
import sys
import time
import traceback
import types
import warnings
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd

from catalogue.inputs import NEGATIVE_FAMILIES, Hint, cases_for, make_case, unsorted_order
from catalogue.model import Args, Case, Expect, Outcome, Result, Spec
from crmcore.errors import CRMError

TESTS = Path(__file__).resolve().parents[1]
#: seconds one case may take before it is a hang (generous: the machine is shared)
TIMEOUT = float(os.environ.get("CATALOGUE_TIMEOUT", "30"))
#: address space of a worker (bytes): a call that tries to allocate more fails fast
MEMORY = int(os.environ.get("CATALOGUE_MEMORY", str(6 * 2**30)))


# --------------------------------------------------------------------------------------------
# specs and their valid calls


@cache
def specs() -> dict[str, Spec]:
    """Every spec by name (imported lazily: the specs import the whole library)."""
    from catalogue.specs import SPECS

    return {s.name: s for s in SPECS}


def _relabel(obj: Any) -> Any:
    """A RangeIndex replaced by labels unlike positions (``r11``, ``r12``, ...)."""
    if isinstance(obj, pd.DataFrame | pd.Series) and isinstance(obj.index, pd.RangeIndex):
        out = obj.copy()
        out.index = pd.Index([f"r{i + 11}" for i in range(len(obj))])
        return out
    return obj


def valid_call(spec: Spec) -> Args:
    """The spec's valid call, its frame and Series arguments relabelled."""
    args, kwargs = spec.build()
    for key in spec.scalars:
        if isinstance(key, str) and key not in kwargs:
            import inspect

            kwargs = {**kwargs, key: inspect.signature(spec.func).parameters[key].default}
    for key in spec.frames:
        if isinstance(key, int):
            args = (*args[:key], _relabel(args[key]), *args[key + 1 :])
        else:
            kwargs = {**kwargs, key: _relabel(kwargs[key])}
    return args, kwargs


@cache
def baseline(name: str) -> Any:
    """The result of the spec's valid call (which must satisfy its own invariants)."""
    spec = specs()[name]
    args, kwargs = valid_call(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = spec.func(*args, **kwargs)
    if spec.check is not None:
        spec.check(args, kwargs, result)
    return result


def all_cases(names: Iterable[str] | None = None) -> list[Case]:
    """Every case of the named specs (default: all), in a stable order."""
    out: list[Case] = []
    for name, spec in specs().items():
        if names is not None and name not in names:
            continue
        args, kwargs = valid_call(spec)
        out.extend(cases_for(spec, args, kwargs))
    return out


# --------------------------------------------------------------------------------------------
# snapshots (mutation)


def _snapshot(value: Any) -> Any:
    if isinstance(value, pd.DataFrame | pd.Series | pd.Index):
        return value.copy(deep=True)
    if isinstance(value, np.ndarray):
        return value.copy()
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


def _same_input(before: Any, after: Any) -> bool:
    try:
        if isinstance(before, pd.DataFrame):
            pd.testing.assert_frame_equal(after, before, check_exact=True)
            return list(after.columns) == list(before.columns)
        if isinstance(before, pd.Series):
            pd.testing.assert_series_equal(after, before, check_exact=True)
        elif isinstance(before, pd.Index):
            pd.testing.assert_index_equal(after, before, exact=True)
        elif isinstance(before, np.ndarray):
            np.testing.assert_array_equal(after, before)
        elif isinstance(before, list | dict | tuple):
            return bool(_plain_equal(before, after))
    except AssertionError:
        return False
    return True


def _plain_equal(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple):
        return (
            isinstance(b, list | tuple)
            and len(a) == len(b)
            and all(_plain_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_plain_equal(a[k], b[k]) for k in a)
        )
    if isinstance(a, pd.DataFrame | pd.Series | pd.Index | np.ndarray):
        return _same_input(a, b)
    try:
        return bool(a == b) or (pd.isna(a) and pd.isna(b))
    except (TypeError, ValueError):
        return a is b


# --------------------------------------------------------------------------------------------
# comparing results


def _plain_frame(frame: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Categoricals as their values, so dtype-only differences do not count."""
    out = frame.copy()
    if isinstance(out.index, pd.CategoricalIndex):
        out.index = pd.Index(np.asarray(out.index, dtype=object), name=out.index.name)
    if isinstance(out.index, pd.MultiIndex):
        out.index = pd.MultiIndex.from_arrays(
            [
                np.asarray(out.index.get_level_values(i), dtype=object)
                for i in range(out.index.nlevels)
            ],
            names=out.index.names,
        )
    if isinstance(out, pd.Series):
        if isinstance(out.dtype, pd.CategoricalDtype):
            out = out.astype(object)
        return out
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
    if isinstance(out.columns, pd.CategoricalIndex):
        out.columns = pd.Index(list(out.columns))
    return out


def _canonical(obj: Any, positional: bool) -> Any:
    if isinstance(obj, pd.DataFrame | pd.Series):
        out = _plain_frame(obj)
        if positional:
            return out.reset_index(drop=True)
        try:
            return out.sort_index(kind="stable")
        except TypeError:
            return out
    return obj


def assert_same(
    expected: Any,
    got: Any,
    *,
    positional: bool = False,
    numbers_only: bool = False,
    rtol: float = 1e-9,
    sort_columns: bool = False,
) -> None:
    """Assert two results are equal (floats to ``rtol``, dtype-only differences ignored)."""
    a, b = _canonical(expected, positional), _canonical(got, positional)
    if sort_columns and isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        a, b = a[sorted(a.columns, key=str)], b[sorted(b.columns, key=str)]
    more = {"positional": positional, "numbers_only": numbers_only, "rtol": rtol}
    if isinstance(a, tuple):
        assert isinstance(b, tuple), f"a {type(b).__name__} instead of a tuple"
        assert len(a) == len(b), "a different number of parts"
        for x, y in zip(a, b, strict=True):
            assert_same(x, y, **more)
    elif isinstance(a, pd.DataFrame):
        assert isinstance(b, pd.DataFrame), f"a {type(b).__name__} instead of a DataFrame"
        if numbers_only:
            a, b = _numbers(a), _numbers(b)
            a, b = a.reset_index(drop=True), b.reset_index(drop=True)
        pd.testing.assert_frame_equal(
            b,
            a,
            check_dtype=False,
            check_index_type=False,
            check_column_type=False,
            check_names=False,
            rtol=rtol,
            check_freq=False,
        )
    elif isinstance(a, pd.Series):
        assert isinstance(b, pd.Series), f"a {type(b).__name__} instead of a Series"
        if numbers_only:
            a, b = a.reset_index(drop=True), b.reset_index(drop=True)
            if not _is_number_dtype(a.dtype):
                return
        pd.testing.assert_series_equal(
            b,
            a,
            check_dtype=False,
            check_index_type=False,
            check_names=False,
            rtol=rtol,
            check_freq=False,
            check_categorical=False,
        )
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), f"a {type(b).__name__} instead of an array"
        if a.dtype.kind in "fc":
            np.testing.assert_allclose(b, a, rtol=rtol)
        else:
            np.testing.assert_array_equal(b, a)
    elif attrs.has(type(a)):
        assert type(a) is type(b), f"a {type(b).__name__} instead of a {type(a).__name__}"
        for f in attrs.fields(type(a)):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if numbers_only and not _is_number(x):
                continue
            try:
                assert_same(x, y, **more)
            except AssertionError as exc:
                raise AssertionError(f"field {f.name}: {exc}") from None
    elif isinstance(a, pd.Index):
        assert isinstance(b, pd.Index), f"a {type(b).__name__} instead of an Index"
        if not numbers_only:
            pd.testing.assert_index_equal(b, a, exact=False, check_names=False)
    elif isinstance(a, float | np.floating):
        assert (math.isnan(a) and math.isnan(float(b))) or math.isclose(
            float(b), a, rel_tol=rtol
        ), f"{b!r} != {a!r}"
    elif numbers_only and not _is_number(a):
        return
    elif _is_figure(a):
        assert _is_figure(b)
    elif isinstance(a, dict | type(types.MappingProxyType({}))):
        assert set(a) == set(b), f"keys {sorted(b)} != {sorted(a)}"
        for k in a:
            assert_same(a[k], b[k], **more)
    else:
        assert b == a, f"{b!r} != {a!r}"


def _is_number_dtype(dtype: Any) -> bool:
    return (
        pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
    ) and not isinstance(dtype, pd.CategoricalDtype)


def _is_number(value: Any) -> bool:
    return isinstance(
        value, int | float | np.number | pd.DataFrame | pd.Series | np.ndarray | tuple
    ) or attrs.has(type(value))


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[[c for c in frame.columns if _is_number_dtype(frame[c].dtype)]]


def _is_figure(value: Any) -> bool:
    # plot returns a Figure subclass (ChartFigure: displayed as PNG by IPython)
    return any(cls.__name__ == "Figure" for cls in type(value).__mro__)


# --------------------------------------------------------------------------------------------
# generic invariants of every result


def _frames_in(result: Any) -> Iterator[tuple[str, pd.DataFrame | pd.Series]]:
    if isinstance(result, pd.DataFrame | pd.Series):
        yield "result", result
    elif isinstance(result, tuple):
        for i, part in enumerate(result):
            for name, frame in _frames_in(part):
                yield f"part {i} {name}", frame
    elif attrs.has(type(result)):
        for f in attrs.fields(type(result)):
            for _, frame in _frames_in(getattr(result, f.name)):
                yield f"{f.name}", frame


def _columns(frame: pd.DataFrame | pd.Series) -> Iterator[tuple[Any, pd.Series]]:
    if isinstance(frame, pd.Series):
        yield frame.name, frame
    else:
        for i, col in enumerate(frame.columns):
            yield col, frame.iloc[:, i]


def generic_invariants(
    expected: Any,
    result: Any,
    inf_ok: frozenset[Any] = frozenset(),
    *,
    negatives_ok: bool = False,
) -> None:
    """Every result: the same type as the valid call's; no infinity and no wrapped (negative)
    integer where the valid call has none (``negatives_ok``: the input holds negative values
    a result may carry, so a negative integer is not a sign of wrapping)."""
    if _is_figure(expected):
        assert _is_figure(result), f"a {type(result).__name__} instead of a Figure"
        return
    if expected is not None:
        assert isinstance(result, type(expected)) or type(result) is type(expected), (
            f"a {type(result).__name__} instead of a {type(expected).__name__}"
        )
    base = dict(_frames_in(expected))
    for name, frame in _frames_in(result):
        ref = base.get(name)
        ref_cols = dict(_columns(ref)) if ref is not None else {}
        for col, series in _columns(frame):
            if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(
                series.dtype
            ):
                continue
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            ref_series = ref_cols.get(col)
            ref_values = (
                ref_series.to_numpy(dtype=np.float64, na_value=np.nan)
                if ref_series is not None
                and pd.api.types.is_numeric_dtype(ref_series.dtype)
                and not pd.api.types.is_bool_dtype(ref_series.dtype)
                else None
            )
            if ref_values is not None and not np.isinf(ref_values).any() and col not in inf_ok:
                assert not np.isinf(values).any(), f"{name} column {col!r} holds an infinity"
            if (
                not negatives_ok
                and ref_values is not None
                and pd.api.types.is_integer_dtype(series.dtype)
                and len(ref_values)
                and np.nanmin(ref_values) >= 0
            ):
                assert not (values < 0).any(), (
                    f"{name} column {col!r} holds a negative integer (wrapped?)"
                )
    if (
        isinstance(result, np.ndarray)
        and isinstance(expected, np.ndarray)
        and result.dtype.kind in "iuf"
    ):
        if expected.dtype.kind in "iuf" and len(expected) and np.nanmin(expected) >= 0:
            assert not (result < 0).any(), "the array holds a negative value (wrapped?)"
        assert not np.isinf(result.astype(np.float64)).any(), "the array holds an infinity"


# --------------------------------------------------------------------------------------------
# one case


def _label_pattern(label: Any) -> str:
    text = re.escape(str(label))
    return rf"(?<![\w.]){text}(?![\w.])"


def _name_forms(name: str) -> set[str]:
    """A column or argument name as a message may write it: ``win_probabilities``,
    ``win probabilities``, ``win probability``."""
    low = name.lower()
    base = (low, low.replace("_", " "))
    forms = set(base)
    for form in base:
        if form.endswith("ies"):
            forms.add(form[:-3] + "y")
        elif form.endswith("s") and len(form) > 3:
            forms.add(form[:-1])
    return forms


def _is_exact(message: str, hint: Hint) -> bool:
    low = message.lower()
    if not any(f in low for n in hint.names if n is not None for f in _name_forms(str(n))):
        return False
    if hint.has_label and not re.search(_label_pattern(hint.label), message):
        return False
    return not hint.values or any(v.lower() in low for v in hint.values)


def _expected_in_same(case: Case, spec: Spec) -> bool:
    return (spec.keeps_index or spec.labels_rows) and case.family in ("dup_index", "multiindex")


def _judge(
    spec: Spec, case: Case, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any
) -> tuple[Outcome, str]:
    expected = baseline(spec.name)
    if case.expect is Expect.REJECT:
        return Outcome.WRONG, f"accepted, returned {_short(result)}"
    key = next(iter(spec.frames), None)
    first = None if key is None else (args[key] if isinstance(key, int) else kwargs[key])
    if (
        case.family == "unsorted"
        and isinstance(expected, np.ndarray)
        and first is not None
        and expected.shape[:1] == (len(first),)
    ):
        expected = expected[unsorted_order(len(first))]  # an array result follows the rows
    try:
        generic_invariants(
            expected, result, spec.inf_ok, negatives_ok=case.family in NEGATIVE_FAMILIES
        )
        if spec.check is not None:
            spec.check(args, kwargs, result)
        if spec.keeps_index and isinstance(result, pd.DataFrame | pd.Series) and first is not None:
            assert result.index.equals(first.index), "the result does not keep the input's index"
        if case.expect in (Expect.SAME, Expect.SAME_OR_ERROR):
            assert_same(
                expected,
                result,
                positional=_expected_in_same(case, spec),
                rtol=spec.rtol,
                sort_columns=spec.sort_columns,
            )
        elif case.expect is Expect.SAME_NUMBERS:
            assert_same(expected, result, numbers_only=True, rtol=spec.rtol)
    except AssertionError as exc:
        return Outcome.WRONG, _first_lines(str(exc))
    except Exception as exc:
        return (
            Outcome.WRONG,
            f"invariant check failed: {type(exc).__name__}: {_first_lines(str(exc))}",
        )
    return Outcome.OK, ""


def _short(result: Any) -> str:
    if isinstance(result, pd.DataFrame):
        return f"a frame of {len(result)} rows"
    if isinstance(result, pd.Series | np.ndarray):
        return f"{type(result).__name__} {np.asarray(result)[:4]!r}"
    return type(result).__name__


def _first_lines(text: str, n: int = 6) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[:n])[:600]


def run_case(case: Case) -> Result:
    """Run one case in this process and classify its outcome."""
    spec = specs()[case.spec]
    started = time.perf_counter()
    args0, kwargs0 = valid_call(spec)
    (args, kwargs), hint = make_case(spec, case, args0, kwargs0)
    before_args = [_snapshot(a) for a in args]
    before_kwargs = {k: _snapshot(v) for k, v in kwargs.items()}
    outcome, detail = Outcome.OK, ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = spec.func(*args, **kwargs)
    except CRMError as exc:
        message = str(exc)
        if case.expect in (Expect.SAME, Expect.VALID):
            outcome, detail = Outcome.REFUSED, f"{type(exc).__name__}: {message}"
        elif _is_exact(message, hint):
            outcome, detail = Outcome.EXACT, f"{type(exc).__name__}: {message}"
        else:
            outcome, detail = Outcome.VAGUE, f"{type(exc).__name__}: {message}"
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        where = next(
            (
                f"{Path(f.filename).name}:{f.lineno}"
                for f in reversed(tb)
                if "crmcore" in f.filename
            ),
            "",
        )
        outcome, detail = (
            Outcome.FOREIGN,
            f"{type(exc).__name__}: {_first_lines(str(exc), 2)} [{where}]",
        )
    else:
        outcome, detail = _judge(spec, case, args, kwargs, result)
    finally:
        if any(n.startswith("crmcore.plot") for n in (spec.func.__module__,)):
            import matplotlib.pyplot as plt

            plt.close("all")
    mutated = [
        str(i)
        for i, (b, a) in enumerate(zip(before_args, args, strict=True))
        if not _same_input(b, a)
    ] + [k for k, v in kwargs.items() if not _same_input(before_kwargs[k], v)]
    if mutated:
        outcome, detail = Outcome.MUTATION, f"argument(s) {', '.join(mutated)} changed; {detail}"
    return Result(case.id, outcome, detail, time.perf_counter() - started)


# --------------------------------------------------------------------------------------------
# workers


def _limit_memory() -> None:  # pragma: no cover - runs in the child before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    os.environ["OMP_NUM_THREADS"] = "1"


class _Worker:
    def __init__(self) -> None:
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "catalogue.runner", "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=TESTS,
            env={**env, "PYTHONPATH": os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])},
            preexec_fn=_limit_memory,  # noqa: PLW1509 - the workers start before any thread
            text=True,
        )
        self.case: Case | None = None
        self.since = 0.0

    def send(self, case: Case) -> None:
        assert self.proc.stdin is not None
        self.case, self.since = case, time.monotonic()
        self.proc.stdin.write(json.dumps(case.id) + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):  # else a ResourceWarning at GC
            if stream is not None:
                stream.close()


class Pool:
    """Worker processes that run cases, each under :data:`TIMEOUT`."""

    def __init__(self, size: int = 2) -> None:
        self.size = size

    def run(self, cases: list[Case]) -> dict[str, Result]:
        by_id = {c.id: c for c in cases}
        todo = list(reversed(cases))
        workers = [_Worker() for _ in range(min(self.size, len(cases)))]
        results: dict[str, Result] = {}
        try:
            for w in workers:
                if todo:
                    w.send(todo.pop())
            while any(w.case is not None for w in workers):
                busy = {w.proc.stdout.fileno(): w for w in workers if w.case is not None}  # type: ignore[union-attr]
                ready, _, _ = select.select(list(busy), [], [], 1.0)
                now = time.monotonic()
                for i, w in enumerate(workers):
                    if w.case is None:
                        continue
                    fd = w.proc.stdout.fileno()  # type: ignore[union-attr]
                    line = w.proc.stdout.readline() if fd in ready else None  # type: ignore[union-attr]
                    if fd in ready and line:
                        data = json.loads(line)
                        results[data["case"]] = Result(
                            data["case"], Outcome(data["outcome"]), data["detail"], data["seconds"]
                        )
                    elif fd in ready or now - w.since > TIMEOUT:
                        died = fd in ready
                        results[w.case.id] = Result(
                            w.case.id,
                            Outcome.FOREIGN if died else Outcome.HANG,
                            f"the worker died (exit {w.proc.poll()})"
                            if died
                            else f"no answer within {TIMEOUT:.0f} s",
                            now - w.since,
                        )
                        w.kill()
                        workers[i] = _Worker()
                    else:
                        continue
                    workers[i].case = None
                    if todo:
                        workers[i].send(todo.pop())
        finally:
            for w in workers:
                w.kill()
        assert set(results) == set(by_id)
        return results


def _worker_main() -> None:  # pragma: no cover - the worker process
    import matplotlib as mpl

    mpl.use("Agg")
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr
    cases = {c.id: c for c in all_cases()}
    for line in sys.stdin:
        case = cases[json.loads(line)]
        try:
            result = run_case(case)
        except Exception as exc:
            result = Result(
                case.id, Outcome.FOREIGN, f"catalogue error: {type(exc).__name__}: {exc}"
            )
        out.write(
            json.dumps(
                {
                    "case": result.case,
                    "outcome": result.outcome.value,
                    "detail": result.detail,
                    "seconds": result.seconds,
                }
            )
            + "\n"
        )
        out.flush()


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:] == ["--worker"]:
        _worker_main()
