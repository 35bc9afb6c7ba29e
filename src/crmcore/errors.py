"""Exceptions raised by crmcore.

Every exception crmcore raises on purpose derives from :class:`CRMError` and also from the
built-in exception a caller would expect (``ValueError`` for bad values, ``TypeError`` for bad
types, ``ImportError`` for a missing optional dependency), so ``except ValueError`` keeps working.

Exceptions about data carry structured fields so programs can react without parsing the message:

``column``
    the column (or argument) at fault, or ``None``;
``row``
    the label of the first offending row, or ``None``;
``value``
    the first offending value, or ``None``.

Examples
--------
>>> from crmcore.errors import DataError, CRMError
>>> err = DataError("column 'amount' has NaN at row 3", column="amount", row=3, value=float("nan"))
>>> isinstance(err, ValueError), isinstance(err, CRMError), err.column, err.row
(True, True, 'amount', 3)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CRMError",
    "ColumnTypeError",
    "ConfigError",
    "ConvergenceError",
    "CurrencyError",
    "DataError",
    "IllegalTransitionError",
    "InputTypeError",
    "MissingDependencyError",
    "SchemaError",
]


class CRMError(Exception):
    """Base class of every exception crmcore raises on purpose.

    Parameters
    ----------
    message
        The human-readable message: names the column or argument, the first offending row
        and value, and what was expected.
    column, row, value
        Structured copies of the same facts (``None`` when they do not apply).

    Examples
    --------
    >>> from crmcore.errors import CRMError
    >>> str(CRMError("something is wrong", column="amount"))
    'something is wrong'
    """

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        row: Any = None,
        value: Any = None,
    ) -> None:
        super().__init__(message)
        self.column = column
        self.row = row
        self.value = value


class SchemaError(CRMError, ValueError):
    """A table does not have the expected shape: a column is missing or the table is empty.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import rfm_summary
    >>> rfm_summary(pd.DataFrame({"customer_id": [1]}))
    Traceback (most recent call last):
    ...
    crmcore.errors.SchemaError: transactions is missing column(s) 'date', 'amount'; ...
    """


class InputTypeError(CRMError, TypeError):
    """An argument has the wrong type, e.g. a list where a DataFrame is expected.

    Examples
    --------
    >>> from crmcore.errors import InputTypeError
    >>> issubclass(InputTypeError, TypeError)
    True
    """


class ColumnTypeError(SchemaError, InputTypeError):
    """A column has the wrong type, e.g. text where amounts are expected.

    Examples
    --------
    >>> from crmcore.errors import ColumnTypeError
    >>> issubclass(ColumnTypeError, TypeError) and issubclass(ColumnTypeError, ValueError)
    True
    """


class DataError(CRMError, ValueError):
    """Values in a table break a rule: NaN, negative amounts, duplicates, dates out of range.

    Examples
    --------
    >>> from crmcore.errors import DataError
    >>> issubclass(DataError, ValueError)
    True
    """


class ConfigError(CRMError, ValueError):
    """A configuration object or argument is invalid or infeasible.

    Examples
    --------
    >>> from crmcore.errors import ConfigError
    >>> issubclass(ConfigError, ValueError)
    True
    """


class ConvergenceError(DataError):
    """A model fit found no optimum: the optimiser stopped without converging.

    The data are to blame more often than the optimiser (too few repeat customers, times in a
    unit far from the purchase rhythm), so it is a :class:`DataError`; the message carries the
    optimiser's own message, the last parameters and advice (a penalizer, another time unit).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import fit_bg_nbd
    >>> from crmcore.errors import ConvergenceError, DataError
    >>> issubclass(ConvergenceError, DataError), issubclass(ConvergenceError, ValueError)
    (True, True)
    >>> fit_bg_nbd(pd.DataFrame({"frequency": [50.0, 0.0], "recency": [0.001, 0.0],
    ...                          "T": [1000.0, 1000.0]}))
    Traceback (most recent call last):
    ...
    crmcore.errors.ConvergenceError: the BG/NBD fit did not converge ...
    """


class CurrencyError(DataError):
    """Amounts in several currencies were combined without exchange rates.

    Examples
    --------
    >>> from crmcore.errors import CurrencyError, DataError
    >>> issubclass(CurrencyError, DataError)
    True
    """


class IllegalTransitionError(DataError):
    """An opportunity moved between lifecycle states in a way the lifecycle forbids.

    Examples
    --------
    >>> from crmcore.errors import IllegalTransitionError
    >>> issubclass(IllegalTransitionError, ValueError)
    True
    """


class MissingDependencyError(CRMError, ImportError):
    """An optional dependency (an extra such as ``crmcore[plot]``) is not installed.

    Examples
    --------
    >>> from crmcore.errors import MissingDependencyError
    >>> issubclass(MissingDependencyError, ImportError)
    True
    """
