"""The one place where user input becomes checked float arrays.

Every public function of :mod:`alignsim` passes its arguments through these helpers, so the error messages are
uniform: they name the argument, show the offending value and state the allowed range. Inputs are never mutated:
each helper returns a fresh array.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings

import numpy as np

#: Absolute tolerance on ``|sum(p) - 1|`` for a probability vector.
PROB_SUM_ATOL = 1e-9


def _as_float_array(x, name: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}")
    try:
        arr = np.array(x, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers: {exc}") from None
    return arr


def probabilities(p, name: str = "p", *, axis: int | None = None) -> np.ndarray:
    """Check a probability vector (or an array of them along ``axis``) and return a float copy.

    Entries must be finite, non-negative and sum to one within :data:`PROB_SUM_ATOL`; the returned copy is
    renormalised so that the sum is one to rounding.
    """
    arr = _as_float_array(p, name)
    if axis is None:
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
        axis = 0
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got NaN or inf in {name}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative; smallest entry is {arr.min()!r}")
    total = arr.sum(axis=axis, keepdims=True)
    bad = np.abs(total - 1.0) > PROB_SUM_ATOL
    if np.any(bad):
        raise ValueError(
            f"{name} must sum to 1 within {PROB_SUM_ATOL:g}; got sum {float(total[bad].ravel()[0])!r}"
        )
    return arr / total


def rewards(r, name: str = "r", *, size: int | None = None) -> np.ndarray:
    """Check a 1-D array of finite rewards (of length ``size`` if given) and return a float copy."""
    arr = _as_float_array(r, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if size is not None and arr.size != size:
        raise ValueError(f"{name} must have the same length as p ({size}), got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got NaN or inf in {name}")
    return arr


def policy_and_rewards(p, r, p_name: str = "ref", r_name: str = "r"):
    """Validate a reference law and its rewards together (same length)."""
    pp = probabilities(p, p_name)
    rr = rewards(r, r_name, size=pp.size)
    return pp, rr


def same_shape(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{a_name} and {b_name} must have the same shape, got {a.shape} and {b.shape}")


def real(x, name: str, *, low: float = -math.inf, high: float = math.inf, low_open: bool = False,
         high_open: bool = False, allow_inf: bool = False) -> float:
    """Check a real scalar lies in the stated interval and return it as ``float``."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    v = float(x)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {v!r}")
    lo_ok = v > low if low_open else v >= low
    hi_ok = v < high if high_open else v <= high
    if not (lo_ok and hi_ok):
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        raise ValueError(f"{name} must lie in {lb}{low:g}, {high:g}{rb}, got {v!r}")
    return v


def real_array(x, name: str, *, low: float = -math.inf, high: float = math.inf, low_open: bool = False,
               high_open: bool = False, allow_inf: bool = False) -> np.ndarray:
    """Vectorised :func:`real`: return a float array (any shape) whose entries all lie in the interval."""
    arr = _as_float_array(x, name)
    if np.any(np.isnan(arr)) or (not allow_inf and not np.all(np.isfinite(arr))):
        raise ValueError(f"{name} must be finite, got {arr[~np.isfinite(arr)].ravel()[0]!r}")
    lo_bad = arr <= low if low_open else arr < low
    hi_bad = arr >= high if high_open else arr > high
    bad = lo_bad | hi_bad
    if np.any(bad):
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        raise ValueError(f"{name} must lie in {lb}{low:g}, {high:g}{rb}, got {arr[bad].ravel()[0]!r}")
    return arr


def beta(b, name: str = "beta") -> float:
    """A KL coefficient: ``0 < beta <= inf`` (``inf`` means the reference itself)."""
    return real(b, name, low=0.0, low_open=True, allow_inf=True)


def log_sample_count(N, name: str = "N") -> float:
    """Return ``log N`` for a sample count ``N >= 1``.

    ``N`` may be an integer of any size (Python ``int`` beyond float range is fine), or a float up to ``1.8e308``.
    """
    if isinstance(N, (bool, np.bool_)) or not isinstance(N, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number >= 1, got {type(N).__name__}")
    if isinstance(N, (int, np.integer)):
        if N < 1:
            raise ValueError(f"{name} must be >= 1, got {N}")
        return math.log(int(N))
    v = float(N)
    if math.isnan(v) or math.isinf(v):
        raise ValueError(f"{name} must be a finite number >= 1, got {v!r}")
    if v < 1:
        raise ValueError(f"{name} must be >= 1, got {v!r}")
    return math.log(v)


def sample_count(N, name: str = "N") -> tuple[float, float]:
    """Return ``(N as float, log N)`` for ``N >= 1``; the float is ``inf`` when ``N`` exceeds the float range."""
    log_n = log_sample_count(N, name)
    return (float(N) if log_n < 709.0 else math.inf), log_n


def samples_or_inf(k, name: str = "k") -> float:
    """A number of samples ``k >= 1`` as a float, ``inf`` allowed (a limit); non-integers are accepted where a
    formula interpolates in ``k`` (e.g. the Beta(1, k) order statistic)."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number of samples >= 1 (or inf), got {type(k).__name__}")
    v = float(k)
    if math.isnan(v) or v < 1:
        raise ValueError(f"{name} must be >= 1 (a number of samples, inf allowed), got {k!r}")
    return v


def length(n, name: str = "length") -> int:
    """A sequence length: an integer ``>= 1``."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Integral, np.integer)):
        if isinstance(n, (float, np.floating)) and float(n).is_integer() and n >= 1:
            return int(n)
        raise TypeError(f"{name} must be an integer >= 1, got {n!r}")
    if n < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {n}")
    return int(n)


def group_size(n, name: str = "G") -> int:
    """A number of samples that a group statistic or a sample baseline needs: an integer ``>= 2``."""
    k = length(n, name)
    if k < 2:
        raise ValueError(f"{name} must be an integer >= 2 (a group statistic needs two samples), got {n}")
    return k


def choice(value, name: str, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def seed(value, name: str = "seed") -> int:
    """A seed of the checks: a non-negative integer."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be a non-negative integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    return int(value)


def rng(seed) -> np.random.Generator:
    """Normalise ``None | int | SeedSequence | Generator`` to a :class:`numpy.random.Generator`."""
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError("rng must be None, an int, a SeedSequence or a numpy Generator")
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"rng must be None, an int, a SeedSequence or a numpy Generator: {exc}") from None


def softmax_bandit(theta, r, ref, beta):
    """A softmax-bandit instance ``(theta, r, ref, beta)``: at least two logits, rewards of the same length, a
    full-support reference and ``beta >= 0``; returns the checked float arrays and ``beta``."""
    th = real_array(theta, "theta")
    if th.ndim != 1 or th.size < 2:
        raise ValueError(f"theta must be a 1-D array of at least two logits, got shape {th.shape}")
    rr = rewards(r, "r", size=th.size)
    pr = probabilities(ref, "ref")
    same_shape(th, pr, "theta", "ref")
    if np.any(pr == 0):
        raise ValueError("ref must have full support")
    b = real(beta, "beta", low=0.0)
    return th, rr, pr, b


def deprecated_alias(func, old: str):
    """``func`` under its former name ``old``: the same callable, with a :class:`DeprecationWarning` naming the new
    one at each call (the former name stays out of ``__all__``)."""

    @functools.wraps(func)
    def alias(*args, **kwargs):
        warnings.warn(f"{old} is deprecated; use {func.__module__.split('._')[0]}.{func.__name__}",
                      DeprecationWarning, stacklevel=2)
        return func(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old.rsplit(".", 1)[-1]
    alias.__doc__ = f"Deprecated name of :func:`{func.__name__}` (same arguments and result)."
    return alias


def renamed_keywords(**renames):
    """Decorator accepting former keyword names (``old="new"``) with a :class:`DeprecationWarning`.

    Positional calls are unaffected; passing both the old and the new keyword is a TypeError.
    """

    def deco(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__name__}() got both {old!r} (deprecated) and {new!r}")
                    warnings.warn(f"{func.__name__}(): the keyword {old!r} is deprecated; use {new!r}",
                                  DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return deco
