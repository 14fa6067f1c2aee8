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
    """A float64 copy of real numbers; strings, booleans, complex numbers and ragged nestings are refused (numpy
    would parse ``"0.5"``, turn ``True`` into 1 and drop an imaginary part with only a warning)."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}")
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers: {exc}") from None
    kind = raw.dtype.kind
    if kind == "O":  # a list mixing Python objects: classify the first one that is not a real number
        for v in raw.ravel():
            if v is None:
                raise TypeError(f"{name} must be an array of numbers, got None in it")
            if isinstance(v, (str, bytes)):
                kind = "U"
                break
            if isinstance(v, (bool, np.bool_)):
                kind = "b"
                break
            if isinstance(v, (complex, np.complexfloating)):
                kind = "c"
                break
    if kind in "USb":
        what = "booleans" if kind == "b" else "strings"
        raise TypeError(f"{name} must be an array of real numbers, got {what} (convert them explicitly)")
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex numbers")
    try:
        arr = np.array(raw, dtype=np.float64, copy=True)
    except OverflowError:
        raise ValueError(f"{name} holds an integer beyond the float range (at most 1.8e308)") from None
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers: {exc}") from None
    return arr



def _sum_tolerance(p, size: int) -> float:
    """The sum rule's tolerance: :data:`PROB_SUM_ATOL`, or the input's own precision for float32/float16 input
    (a float32 softmax sums to one only within about ``size * 6e-8``)."""
    dtype = getattr(p, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.floating) and np.finfo(dtype).eps > np.finfo(np.float64).eps:
        return max(PROB_SUM_ATOL, 2.0 * size * float(np.finfo(dtype).eps))
    return PROB_SUM_ATOL


def probabilities(p, name: str = "p", *, axis: int | None = None) -> np.ndarray:
    """Check a probability vector (or an array of them along ``axis``) and return a float copy.

    Entries must be finite, non-negative real numbers summing to one within :data:`PROB_SUM_ATOL` (within
    their own precision for float32 or float16 input); the returned float64 copy is renormalised so that the
    sum is one to rounding.
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
    tol = _sum_tolerance(p, arr.shape[axis])
    bad = np.abs(total - 1.0) > tol
    if np.any(bad):
        raise ValueError(
            f"{name} must sum to 1 within {tol:g}; got sum {float(total[bad].ravel()[0])!r}"
        )
    return arr / total


def rewards(r, name: str = "r", *, size: int | None = None, like: str = "p") -> np.ndarray:
    """Check a 1-D array of finite rewards (of length ``size``, the length of the argument ``like``, if given) and
    return a float copy."""
    arr = _as_float_array(r, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if size is not None and arr.size != size:
        raise ValueError(f"{name} and {like} must have the same length, got {arr.size} and {size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got NaN or inf in {name}")
    return arr


def policy_and_rewards(p, r, p_name: str = "ref", r_name: str = "r"):
    """Validate a reference law and its rewards together (same length)."""
    pp = probabilities(p, p_name)
    rr = rewards(r, r_name, size=pp.size, like=p_name)
    return pp, rr


def same_shape(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{a_name} and {b_name} must have the same shape, got {a.shape} and {b.shape}")


def _float(x, name: str) -> float:
    """``float(x)``, or a ValueError naming the argument when an integer is beyond the float range."""
    try:
        return float(x)
    except OverflowError:
        raise ValueError(f"{name} = {_magnitude(int(x))} is beyond the float range (at most 1.8e308) where this "
                         "formula needs it as a float") from None


def real(x, name: str, *, low: float = -math.inf, high: float = math.inf, low_open: bool = False,
         high_open: bool = False, allow_inf: bool = False) -> float:
    """Check a real scalar lies in the stated interval and return it as ``float``."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    v = _float(x, name)
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


def beta(b, name: str = "beta", *, allow_zero: bool = False) -> float:
    """A KL coefficient: ``0 < beta <= inf`` (``inf`` means the reference itself); with ``allow_zero``, ``beta = 0``
    is the reward-maximising limit."""
    return real(b, name, low=0.0, low_open=not allow_zero, allow_inf=True)


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


#: Most values one Monte-Carlo call returns (int64 or float64: 4 GB).
MAX_MC_OUTPUT = 500_000_000
#: Most random draws one Monte-Carlo call makes (about ten minutes at the kernels' 1.6e9 draws/s on 2 cores).
MAX_MC_DRAWS = 10 ** 12


def mc_size(size, name: str = "size", *, draws_per_item: int = 1, per: str = "", output: bool = True) -> int:
    """A Monte-Carlo sample size: an integer ``>= 1`` (integral floats accepted) whose output (at most
    :data:`MAX_MC_OUTPUT` values) and work (``size * draws_per_item`` draws, at most :data:`MAX_MC_DRAWS`) are
    checked before anything is allocated or run; ``per`` names the arguments that set ``draws_per_item``."""
    n = length(size, name)
    if output and n > MAX_MC_OUTPUT:
        raise ValueError(f"{name} must be at most {MAX_MC_OUTPUT} (its output would not fit in memory), got "
                         f"{_magnitude(n)}")
    if n * draws_per_item > MAX_MC_DRAWS:
        by = f" (set by {per})" if per else ""
        raise ValueError(f"{name} = {_magnitude(n)} with {_magnitude(draws_per_item)} draws each{by} needs "
                         f"{_magnitude(n * draws_per_item)} random draws, more than the {MAX_MC_DRAWS:.0e} one call may "
                         f"make (about ten minutes); lower {name} or {per or 'the number of draws per item'}")
    return n


def _magnitude(x: int) -> str:
    """An integer for a message: as it is when short, in scientific notation otherwise (also beyond floats)."""
    if x < 10 ** 6:
        return str(x)
    return f"{float(x):.3g}" if x < 10 ** 300 else f"about 1e{len(str(x)) - 1}"


#: Most steps an iteration stores (deterministic dynamics: one row of the policy per step).
MAX_STEPS = 10_000_000

#: Most sample counts one vectorised call evaluates (each costs a pass over the levels).
MAX_COUNTS = 100_000


def sample_counts(N, name: str = "N"):
    """:func:`sample_count` of a scalar, or a list of them for an array of sample counts (at most
    :data:`MAX_COUNTS`)."""
    if np.ndim(N) == 0:
        return sample_count(N.item() if isinstance(N, np.ndarray) else N, name)
    arr = np.asarray(N)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if arr.size > MAX_COUNTS:
        raise ValueError(f"{name} may hold at most {MAX_COUNTS} sample counts, got {arr.size}")
    if arr.dtype.kind in "USbc":
        raise TypeError(f"{name} must hold real numbers >= 1, got dtype {arr.dtype}")
    return [sample_count(x, name) for x in arr.ravel().tolist()]


def samples_or_inf(k, name: str = "k") -> float:
    """A number of samples ``k >= 1`` as a float, ``inf`` allowed (a limit); non-integers are accepted where a
    formula interpolates in ``k`` (e.g. the Beta(1, k) order statistic). Integers beyond the float range count
    as ``inf``: the callers' limits hold there to rounding."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number of samples >= 1 (or inf), got {type(k).__name__}")
    if isinstance(k, (int, np.integer)) and k > 2 ** 1023:
        return math.inf  # beyond the float range: the k -> inf limit, equal to the value there to rounding
    v = float(k)
    if math.isnan(v) or v < 1:
        raise ValueError(f"{name} must be >= 1 (a number of samples, inf allowed), got {k!r}")
    return v


def length(n, name: str = "length", *, low: int = 1, high: int | None = None, why: str = "") -> int:
    """An integer ``low <= n <= high`` (a float is accepted when it is integral); ``why`` says what the upper
    bound protects (memory, time) in the message."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"{name} must be an integer >= {low}, got {n!r}")
    if not isinstance(n, (numbers.Integral, np.integer)):
        if not (math.isfinite(n) and float(n).is_integer()):
            raise TypeError(f"{name} must be an integer >= {low}, got {n!r}")
        n = int(n)
    if n < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {n}")
    if high is not None and n > high:
        raise ValueError(f"{name} must be at most {high}{' (' + why + ')' if why else ''}, got {_magnitude(int(n))}")
    return int(n)


def flag(value, name: str) -> bool:
    """A yes/no switch: ``True`` or ``False`` (numpy booleans too). Anything else is refused, since a string such
    as ``"no"`` would silently count as true."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def group_size(n, name: str = "G") -> int:
    """A number of samples that a group statistic or a sample baseline needs: an integer ``>= 2``."""
    k = length(n, name)
    if k < 2:
        raise ValueError(f"{name} must be an integer >= 2 (a group statistic needs two samples), got {n}")
    return k


def choice(value, name: str, allowed) -> str:
    """One of the ``allowed`` values (strings, or integers such as ``ddof``); booleans and unhashable values are
    refused with the same message."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (str, numbers.Integral)) or value not in allowed:
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


def logits(value, name: str = "theta") -> np.ndarray:
    """A 1-D array of at least two finite logits whose span is finite (else max - theta overflows)."""
    th = real_array(value, name)
    if th.ndim != 1 or th.size < 2:
        raise ValueError(f"{name} must be a 1-D array of at least two logits, got shape {th.shape}")
    if not math.isfinite(float(th.max()) - float(th.min())):
        raise ValueError(f"{name} must span less than 1.8e308 (the log-probabilities max - theta would overflow), "
                         f"got max {th.max()!r} and min {th.min()!r}")
    return th


def softmax_bandit(theta, r, ref, beta, theta_name: str = "theta"):
    """A softmax-bandit instance ``(theta, r, ref, beta)``: at least two logits, rewards of the same length, a
    full-support reference and ``beta >= 0``; returns the checked float arrays and ``beta``."""
    th = logits(theta, theta_name)
    rr = rewards(r, "r", size=th.size, like=theta_name)
    pr = probabilities(ref, "ref")
    same_shape(th, pr, theta_name, "ref")
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
