"""Fitted customer-base models as frozen values: parameters as fields, plus fit diagnostics.

A model is a plain value: build one from published parameters, or get one from a ``fit_*``
function (which fills :class:`FitDiagnostics`); predictions are functions of (model, summary)
in :mod:`crmcore.clv.predict`, so a model fitted once scores any frame or partition.
``to_dict()`` / ``from_dict()`` round-trip through plain data (JSON-ready).
"""

from __future__ import annotations

import math
import types
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import attrs

from crmcore._config import check_config_keys
from crmcore._frames import check_choice, show
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError

__all__ = [
    "BGBB",
    "BGNBD",
    "MBGNBD",
    "TIME_UNITS",
    "FitDiagnostics",
    "GammaGamma",
    "ParetoNBD",
    "ShiftedBetaGeometric",
]

#: Time units a summary's ``recency`` and ``T`` can be counted in, with the number of them in
#: a month as lifetimes counts it (for :func:`~crmcore.clv.customer_lifetime_value`).
TIME_UNITS: Mapping[str, float] = types.MappingProxyType(
    {"H": 30.0 * 24.0, "D": 30.0, "W": 4.345, "M": 1.0}
)


def _frozen_floats(value: Mapping[str, Any]) -> Mapping[str, float]:
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"standard_errors must be a mapping of parameter names to numbers, got {value!r}",
            column="standard_errors",
        )
    return types.MappingProxyType({str(k): float(v) for k, v in value.items()})


@attrs.frozen(kw_only=True)
class FitDiagnostics:
    """How a maximum-likelihood fit went.

    Parameters
    ----------
    log_likelihood
        Log-likelihood of the data at the fitted parameters (summed over customers, without
        the penalty), in the summary's own time unit.
    n_customers
        Number of customers the fit used (the sum of the weights).
    converged
        Whether the optimiser reached the optimum (a fit that does not raises instead, so this
        is ``True`` for every model a ``fit_*`` function returns).
    iterations
        Optimiser iterations.
    message
        The optimiser's own message.
    standard_errors
        Standard error of each parameter, from the Hessian of the log-likelihood (NaN when the
        Hessian is not positive definite, e.g. at a boundary).
    penalizer
        The L2 penalizer used (0 for a plain maximum-likelihood fit).

    Examples
    --------
    >>> d = FitDiagnostics(log_likelihood=-10.5, n_customers=3, converged=True, iterations=7,
    ...                    message="ok", standard_errors={"r": 0.1})
    >>> d.standard_errors["r"], FitDiagnostics.from_dict(d.to_dict()) == d
    (0.1, True)
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    log_likelihood: float = attrs.field(converter=float)
    n_customers: int = attrs.field(converter=int)
    converged: bool
    iterations: int = attrs.field(converter=int)
    message: str
    standard_errors: Mapping[str, float] = attrs.field(
        converter=_frozen_floats, hash=False, factory=dict
    )
    penalizer: float = attrs.field(default=0.0, converter=float)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that :meth:`from_dict` reads back.

        Examples
        --------
        >>> FitDiagnostics(log_likelihood=-1, n_customers=1, converged=True, iterations=1,
        ...                message="", standard_errors={}).to_dict()["log_likelihood"]
        -1.0
        """
        data = attrs.asdict(self)
        data["standard_errors"] = dict(self.standard_errors)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitDiagnostics:
        """Rebuild diagnostics from :meth:`to_dict` output; unknown keys are an error.

        Examples
        --------
        >>> FitDiagnostics.from_dict({"n_customers": 1})
        Traceback (most recent call last):
        ...
        crmcore.errors.ConfigError: FitDiagnostics field(s) [...] missing; required: [...]
        """
        return cls(**check_config_keys(cls, data))


def _diagnostics(value: object) -> FitDiagnostics | None:
    if value is None or isinstance(value, FitDiagnostics):
        return value
    if isinstance(value, Mapping):
        return FitDiagnostics.from_dict(value)
    raise ConfigError(
        f"diagnostics must be FitDiagnostics, a mapping or None, got {type(value).__name__}",
        column="diagnostics",
    )


class _Model:
    """Shared behaviour: positive finite parameters, ``params``, ``to_dict``/``from_dict``."""

    PARAMETERS: ClassVar[tuple[str, ...]] = ()

    def __attrs_post_init__(self) -> None:
        for name in self.PARAMETERS:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(
                    f"{type(self).__name__} parameter {name} == {show(value)}; every parameter "
                    "must be a finite number > 0",
                    column=name,
                    value=value,
                )
        unit = getattr(self, "time_unit", None)
        if unit is not None:
            check_choice(unit, "time_unit", tuple(TIME_UNITS))

    @property
    def params(self) -> dict[str, float]:
        """The parameters by name, in the model's order."""
        return {name: getattr(self, name) for name in self.PARAMETERS}

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that :meth:`from_dict` reads back (diagnostics nested)."""
        data = attrs.asdict(self, recurse=False)  # type: ignore[arg-type]  # subclasses are attrs classes
        diagnostics = data.get("diagnostics")
        if diagnostics is not None:
            data["diagnostics"] = diagnostics.to_dict()
        return dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a model from :meth:`to_dict` output; unknown keys are an error."""
        return cls(**check_config_keys(cls, data, required=cls.PARAMETERS))


def _positive(value: Any) -> float:
    if isinstance(value, bool) or (
        not isinstance(value, int | float) and not hasattr(value, "__float__")
    ):
        raise ConfigError(f"model parameters must be numbers, got {value!r}", value=value)
    return float(value)


@attrs.frozen(kw_only=True)
class _BetaGeometricNBD(_Model):
    """The fields of BG/NBD and MBG/NBD: the same four parameters, two likelihoods."""

    PARAMETERS: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    r: float = attrs.field(converter=_positive)
    alpha: float = attrs.field(converter=_positive)
    a: float = attrs.field(converter=_positive)
    b: float = attrs.field(converter=_positive)
    time_unit: str | None = None
    diagnostics: FitDiagnostics | None = attrs.field(default=None, converter=_diagnostics)


@attrs.frozen(kw_only=True)
class BGNBD(_BetaGeometricNBD):
    r"""The BG/NBD model of Fader, Hardie & Lee (2005), "Counting your customers the easy way".

    While active, a customer buys at Poisson rate :math:`\lambda \sim \text{Gamma}(r, \alpha)`;
    after each purchase they drop out with probability :math:`p \sim \text{Beta}(a, b)`.

    Parameters
    ----------
    r, alpha
        Shape and rate (in the summary's time unit) of the purchase-rate distribution.
    a, b
        Shape parameters of the drop-out probability distribution.
    time_unit
        The unit of the summary's ``recency`` and ``T`` (``"H"``, ``"D"``, ``"W"`` or ``"M"``),
        or ``None`` when unknown; :func:`~crmcore.clv.customer_lifetime_value` uses it.
    diagnostics
        How the fit went (``None`` for a model built by hand).

    Examples
    --------
    The CDNOW estimates of Fader, Hardie & Lee (2005), time in weeks:

    >>> from crmcore.clv import BGNBD
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
    >>> m.params
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> BGNBD.from_dict(m.to_dict()) == m
    True
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html


@attrs.frozen(kw_only=True)
class MBGNBD(_BetaGeometricNBD):
    r"""The MBG/NBD model of Batislam, Denizel & Filiztekin (2007).

    As :class:`BGNBD`, except that a customer may also drop out right after the first
    purchase (at time 0), so a customer without repeat purchases is not certainly alive.

    Parameters
    ----------
    r, alpha
        Shape and rate of the purchase-rate distribution.
    a, b
        Shape parameters of the drop-out probability distribution.
    time_unit
        The unit of the summary's ``recency`` and ``T``, or ``None`` when unknown.
    diagnostics
        How the fit went (``None`` for a model built by hand).

    Examples
    --------
    >>> from crmcore.clv import MBGNBD
    >>> MBGNBD(r=0.5, alpha=6.0, a=0.9, b=3.0).params["b"]
    3.0
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html


@attrs.frozen(kw_only=True)
class ParetoNBD(_Model):
    r"""The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987).

    While active, a customer buys at Poisson rate :math:`\lambda \sim \text{Gamma}(r, \alpha)`;
    their lifetime is exponential with rate :math:`\mu \sim \text{Gamma}(s, \beta)`.

    Parameters
    ----------
    r, alpha
        Shape and rate of the purchase-rate distribution.
    s, beta
        Shape and rate of the drop-out-rate distribution.
    time_unit, diagnostics
        As in :class:`BGNBD`.

    Examples
    --------
    The CDNOW estimates (Fader, Hardie & Lee 2005), time in weeks:

    >>> from crmcore.clv import ParetoNBD
    >>> ParetoNBD(r=0.55, alpha=10.58, s=0.61, beta=11.67, time_unit="W").s
    0.61
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    PARAMETERS: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    r: float = attrs.field(converter=_positive)
    alpha: float = attrs.field(converter=_positive)
    s: float = attrs.field(converter=_positive)
    beta: float = attrs.field(converter=_positive)
    time_unit: str | None = None
    diagnostics: FitDiagnostics | None = attrs.field(default=None, converter=_diagnostics)


@attrs.frozen(kw_only=True)
class BGBB(_Model):
    r"""The discrete-time BG/BB model of Fader, Hardie & Shang (2010).

    At each transaction opportunity an active customer buys with probability
    :math:`p \sim \text{Beta}(\alpha, \beta)` and drops out before the next one with
    probability :math:`\theta \sim \text{Beta}(\gamma, \delta)`.

    Parameters
    ----------
    alpha, beta
        Shape parameters of the purchase probability.
    gamma, delta
        Shape parameters of the drop-out probability.
    diagnostics
        How the fit went (``None`` for a model built by hand).

    Examples
    --------
    The 1995 donation cohort of Fader, Hardie & Shang (2010):

    >>> from crmcore.clv import BGBB
    >>> BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783).params["delta"]
    2.783
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    PARAMETERS: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")
    alpha: float = attrs.field(converter=_positive)
    beta: float = attrs.field(converter=_positive)
    gamma: float = attrs.field(converter=_positive)
    delta: float = attrs.field(converter=_positive)
    diagnostics: FitDiagnostics | None = attrs.field(default=None, converter=_diagnostics)


@attrs.frozen(kw_only=True)
class GammaGamma(_Model):
    r"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, note 025).

    A customer's transactions are worth Gamma(:math:`p`, :math:`\nu`) amounts with
    :math:`\nu \sim \text{Gamma}(q, v)`; spend is assumed independent of purchase frequency.

    Parameters
    ----------
    p, q, v
        The model's parameters (``v`` in money units).
    frequency_spend_correlation
        Pearson correlation between frequency and mean spend among the repeat customers the
        model was fitted on: the model assumes it is zero, so a value far from 0 (say beyond
        ±0.3) warns that the predictions are biased. ``None`` for a model built by hand.
    diagnostics
        How the fit went (``None`` for a model built by hand).

    Examples
    --------
    >>> from crmcore.clv import GammaGamma
    >>> GammaGamma(p=6.25, q=3.74, v=15.44).q
    3.74
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    PARAMETERS: ClassVar[tuple[str, ...]] = ("p", "q", "v")
    p: float = attrs.field(converter=_positive)
    q: float = attrs.field(converter=_positive)
    v: float = attrs.field(converter=_positive)
    frequency_spend_correlation: float | None = None
    diagnostics: FitDiagnostics | None = attrs.field(default=None, converter=_diagnostics)


@attrs.frozen(kw_only=True)
class ShiftedBetaGeometric(_Model):
    r"""The shifted-beta-geometric model of contractual churn (Fader & Hardie 2007).

    Each customer renews at the end of every period with probability :math:`1 - \theta`,
    :math:`\theta \sim \text{Beta}(\alpha, \beta)`; see
    :func:`~crmcore.clv.survival_curve` and :func:`~crmcore.clv.retention_curve`.

    Parameters
    ----------
    alpha, beta
        Shape parameters of the churn probability.
    diagnostics
        How the fit went (``None`` for a model built by hand).

    Examples
    --------
    The "regular" customers of Fader & Hardie (2007):

    >>> from crmcore.clv import ShiftedBetaGeometric
    >>> ShiftedBetaGeometric(alpha=0.704, beta=1.182).params
    {'alpha': 0.704, 'beta': 1.182}
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    PARAMETERS: ClassVar[tuple[str, ...]] = ("alpha", "beta")
    alpha: float = attrs.field(converter=_positive)
    beta: float = attrs.field(converter=_positive)
    diagnostics: FitDiagnostics | None = attrs.field(default=None, converter=_diagnostics)
