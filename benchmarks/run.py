"""Benchmarks: alignsim against the plain numpy code a user would otherwise write, measured in the same run.

Usage: ``python benchmarks/run.py [--quick]``. Prints a table (median of repeats, warm-up excluded) and writes
``benchmarks/results.json`` so runs can be compared over time. Ratios are ``baseline time / alignsim time``
(above 1: alignsim is faster). No wall-clock bound is asserted anywhere; this script only measures.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from pathlib import Path

import numba
import numpy as np

import alignsim as a
from alignsim import mc
from alignsim.mc import _reference as ref
from alignsim.mc._rng import block_states, step, to_double


def timeit(f, repeats=5):
    f()  # warm-up (numba compilation, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# --------------------------------------------------------------------------------------- numpy baselines
def numpy_reward_law(p, r, n):
    """What a user would write: float convolution power by repeated squaring (tails below 1e-308 vanish)."""
    k = np.zeros(int(max(r)) + 1)
    for pi, ri in zip(p, r):
        k[int(ri)] += pi
    result = np.ones(1)
    for bit in bin(n)[2:]:
        result = np.convolve(result, result)
        if bit == "1":
            result = np.convolve(result, k)
    return result


def naive_bon_numpy_lean(p, r, N, size, rng, chunk=8192):
    """The leanest fair numpy best-of-N: chunks of draws by inverse CDF, the first maximum of each row (among
    i.i.d. draws the first maximal draw is a uniformly random one, so the law is that of random tie-breaking)."""
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    out = np.empty(size, np.int64)
    for start in range(0, size, chunk):
        m = min(chunk, size - start)
        idx = np.searchsorted(cdf, rng.random((m, N)), side="right")
        out[start:start + m] = idx[np.arange(m), np.argmax(r[idx], axis=1)]
    return out


def blas_info() -> str:
    """The BLAS numpy uses and its thread setting (environment, or the library's default of one per core)."""
    import os

    try:
        name = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # older numpy: no structured config
        name = "unknown"
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
    return f"BLAS {name}, threads {env or f'default ({os.cpu_count()} cores)'}"


def numpy_bon_kl(p, r, N):
    """Plain numpy BoN KL with ties: unique levels, CDF, F**N - Fprev**N, level KL."""
    levels, inv = np.unique(r, return_inverse=True)
    mass = np.bincount(inv, weights=p)
    F = np.cumsum(mass)
    g = F ** N - np.concatenate(([0.0], F[:-1])) ** N
    s = g > 0
    return float(np.sum(g[s] * np.log(g[s] / mass[s])))


# ------------------------------------------------------------------------------------------------ benchmarks
def bench_reward_law(quick):
    rows = []
    for p, r in [([0.4, 0.3, 0.2, 0.1], [0, 1, 2, 3]), ([0.5, 0.3, 0.2], [0, 1, 3])]:
        n = 10_000

        def ours():
            a.MemorylessLM(p, r, n).reward_law(log=True)

        t_ours = timeit(ours, 3)
        t_np = timeit(lambda: numpy_reward_law(p, r, n), 3)
        levels, logp = a.MemorylessLM(p, r, n).reward_law(log=True)
        base = numpy_reward_law(p, r, n)
        lost = int(np.sum((base[levels.astype(int)] == 0) & np.isfinite(logp)))
        rows.append({
            "benchmark": f"reward_law n=1e4 rewards={r}",
            "alignsim_s": t_ours, "numpy_s": t_np, "ratio": t_np / t_ours,
            "note": f"{levels.size} levels; numpy float convolution loses {lost} nonzero tail levels "
                    f"(min exact log-mass {logp.min():.0f})",
        })
    # growth with n (K = 3) and with the number of lattice levels K (n = 2000)
    ns = [1000, 2000, 4000] if quick else [1000, 2000, 4000, 8000, 16000]
    tn = [timeit(lambda n=n: a.MemorylessLM([0.4, 0.3, 0.2, 0.1], [0, 1, 2, 3], n).reward_law(log=True), 3)
          for n in ns]
    slope_n = np.polyfit(np.log(ns), np.log(tn), 1)[0]
    Ks = [1, 3, 7, 15]
    tk = [timeit(lambda K=K: a.MemorylessLM(np.full(K + 1, 1 / (K + 1)), np.arange(K + 1), 2000)
                 .reward_law(log=True), 3) for K in Ks]
    slope_k = np.polyfit(np.log(Ks), np.log(tk), 1)[0]
    rows.append({"benchmark": "reward_law growth in n (K=3)", "alignsim_s": tn[-1], "numpy_s": math.nan,
                 "ratio": math.nan,
                 "note": f"n={ns}: " + ", ".join(f"{t:.3g}s" for t in tn) + f"; log-log slope {slope_n:.2f}"})
    rows.append({"benchmark": "reward_law growth in K (n=2000)", "alignsim_s": tk[-1], "numpy_s": math.nan,
                 "ratio": math.nan,
                 "note": f"K={Ks}: " + ", ".join(f"{t:.3g}s" for t in tk) + f"; log-log slope {slope_k:.2f}"})
    return rows


def bench_bon_kl(quick):
    rows = []
    sizes = [10 ** 4, 10 ** 5] if quick else [10 ** 4, 10 ** 5, 10 ** 6]
    times = []
    rng = np.random.default_rng(0)
    for K in sizes:
        p = rng.dirichlet(np.ones(K))
        r = rng.integers(0, K // 10, size=K).astype(float)  # ten-fold ties
        t_ours = timeit(lambda: a.bon_kl(p, r, 1000))
        t_np = timeit(lambda: numpy_bon_kl(p, r, 1000))
        assert abs(a.bon_kl(p, r, 1000) - numpy_bon_kl(p, r, 1000)) < 1e-8
        times.append(t_ours)
        rows.append({"benchmark": f"bon_kl K={K:.0e} with ties, N=1000", "alignsim_s": t_ours, "numpy_s": t_np,
                     "ratio": t_np / t_ours, "note": f"per outcome {t_ours / K * 1e9:.0f} ns"})
    slope = np.polyfit(np.log(sizes), np.log(times), 1)[0]
    rows.append({"benchmark": "bon_kl growth in K", "alignsim_s": times[-1], "numpy_s": math.nan, "ratio": math.nan,
                 "note": f"log-log slope {slope:.2f} (1 = linear; one O(K log K) sort)"})
    return rows


@numba.njit(parallel=True, cache=True)
def _uniform_sums(states, per_block):
    """The generator's raw rate: each block draws ``per_block`` doubles and sums them (no memory traffic)."""
    out = np.empty(states.shape[0])
    for b in numba.prange(states.shape[0]):
        s0, s1, s2, s3 = states[b, 0], states[b, 1], states[b, 2], states[b, 3]
        acc = 0.0
        for _ in range(per_block):
            x, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            acc += to_double(x)
        out[b] = acc
    return out


def _threads(k):
    numba.set_num_threads(min(k, numba.config.NUMBA_NUM_THREADS))


def _thread_scaling(f, repeats=3):
    """``(all-threads speed-up over one thread, identical outputs)`` of a kernel call ``f`` (its seed fixed)."""
    threads = numba.config.NUMBA_NUM_THREADS
    _threads(1)
    one, t_one = f(), timeit(f, repeats)
    _threads(threads)
    many, t_many = f(), timeit(f, repeats)
    pairs = zip(one, many) if isinstance(one, tuple) else [(one, many)]
    return t_one / t_many, all(np.array_equal(a, b) for a, b in pairs)


def _scaling_note(f, repeats=3):
    speed, same = _thread_scaling(f, repeats)
    return f"{numba.config.NUMBA_NUM_THREADS} vs 1 thread {speed:.2f}x, identical output: {same}"


def _numpy_uniform_rate():
    g = np.random.default_rng(0)
    n = 10_000_000
    return n / timeit(lambda: g.random(n), 3)


def bench_mc(quick):
    """Monte-Carlo kernels against the numpy code a user would write; targets of the MC issue in the notes."""
    rows = []
    threads = numba.config.NUMBA_NUM_THREADS
    rng = np.random.default_rng(0)
    V = 32
    p = rng.dirichlet(np.ones(V))
    r_tok = rng.normal(size=V)
    r_tied = rng.integers(0, 8, size=V).astype(float)  # four arms per reward level on average
    m_tok = 200_000 if quick else 2_000_000
    length = 64
    lm = a.MemorylessLM(p, r_tok, length)

    # raw generator rate (the ceiling): doubles drawn and summed in registers, one thread and all threads
    n_blocks, per_block = 2 * 391, 1 << 16
    st = block_states(1, n_blocks, 1)
    n_draws = n_blocks * per_block
    _threads(threads)
    t_u = timeit(lambda: _uniform_sums(st, per_block))
    _threads(1)
    t_u1 = timeit(lambda: _uniform_sums(st, per_block))
    _threads(threads)
    rows.append({"benchmark": f"xoshiro256** doubles ({threads} threads)", "alignsim_s": t_u, "numpy_s": math.nan,
                 "ratio": math.nan,
                 "note": f"{n_draws / t_u:.3g} draws/s; 1 thread {n_draws / t_u1:.3g} draws/s (numpy's "
                         f"Generator.random: {_numpy_uniform_rate():.3g} draws/s)"})

    # token-level simulation, V = 32, length 64
    # thread scaling: this machine's timings drift between calls, so one- and two-thread timings are interleaved
    # over several rounds and the median of the per-round ratios is reported
    ratios, t_all = [], []
    for _ in range(3 if quick else 7):
        _threads(1)
        t1 = timeit(lambda: mc.simulate_rewards(lm, m_tok, rng=1), 3)
        _threads(threads)
        tk = timeit(lambda: mc.simulate_rewards(lm, m_tok, rng=1), 3)
        ratios.append(t1 / tk)
        t_all.append(tk)
    t_tok, scaling = statistics.median(t_all), statistics.median(ratios)
    _threads(1)
    one = mc.simulate_rewards(lm, m_tok, rng=1)
    _threads(threads)
    same = np.array_equal(one, mc.simulate_rewards(lm, m_tok, rng=1))
    t_tok_np = timeit(lambda: ref.token_rewards_numpy(p, r_tok, length, m_tok, np.random.default_rng(1)), 3)
    tokens = m_tok * length
    rows.append({"benchmark": "token-level rewards V=32 n=64", "alignsim_s": t_tok, "numpy_s": t_tok_np,
                 "ratio": t_tok_np / t_tok,
                 "note": f"target >= 5x; {tokens / t_tok:.3g} tokens/s = {100 * (tokens / t_tok) / (n_draws / t_u):.0f}%"
                         f" of the uniform rate (target >= 25%); {threads} vs 1 thread {scaling:.2f}x, median of "
                         f"{len(ratios)} interleaved rounds, range {min(ratios):.2f}-{max(ratios):.2f} "
                         f"(target >= 1.6x); identical results: {same}"})

    # naive best-of-N, N = 64, V = 32 tied rewards, against the leanest numpy (chunked, first maximum)
    m_bon = 50_000 if quick else 200_000
    t_nb = timeit(lambda: mc.naive_bon(p, r_tied, 64, m_bon, rng=2))
    t_nb_np = timeit(lambda: naive_bon_numpy_lean(p, r_tied, 64, m_bon, np.random.default_rng(2)), 3)
    t_nb_full = timeit(lambda: ref.naive_bon_numpy(p, r_tied, 64, m_bon, np.random.default_rng(2)), 3)
    rows.append({"benchmark": "naive best-of-64, V=32 tied", "alignsim_s": t_nb, "numpy_s": t_nb_np,
                 "ratio": t_nb_np / t_nb,
                 "note": f"numpy: chunks of 8192 rows, inverse CDF, first maximum (same law); the unchunked (M, N) "
                         f"version with a tie-breaking array is {t_nb_full / t_nb:.1f}x slower; memory O(1) in N; "
                         + _scaling_note(lambda: mc.naive_bon(p, r_tied, 64, m_bon, rng=2))})

    # exact-law best-of-N sampling: cost per draw independent of N; numpy measured at the same size, not scaled
    m_ex = 1_000_000 if quick else 4_000_000
    per_draw = {}
    for N in [4, 64, 1024]:
        per_draw[N] = timeit(lambda N=N: mc.sample_bon(p, r_tied, N, m_ex, rng=3)) / m_ex
    t_np_ex = timeit(lambda: naive_bon_numpy_lean(p, r_tied, 64, m_ex, np.random.default_rng(2)), 1)
    rows.append({"benchmark": "exact-law best-of-64 sampling", "alignsim_s": per_draw[64] * m_ex,
                 "numpy_s": t_np_ex, "ratio": t_np_ex / (per_draw[64] * m_ex),
                 "note": f"numpy: the lean simulation above at the same {m_ex} draws (measured); per draw "
                         f"{per_draw[4] * 1e9:.1f} ns at N=4, {per_draw[1024] * 1e9:.1f} ns at N=1024 "
                         f"(ratio {per_draw[1024] / per_draw[4]:.2f}, target <= 2); "
                         + _scaling_note(lambda: mc.sample_bon(p, r_tied, 64, m_ex, rng=3))})
    # stochastic GRPO training (K = 4 arms, G = 16, k3-as-loss KL), parallel over independent runs
    runs, steps = (500, 100) if quick else (2000, 200)
    r4, ref4 = np.array([1.0, 0.6, 0.3, 0.0]), np.full(4, 0.25)
    t_gr = timeit(lambda: mc.simulate_grpo(np.zeros(4), r4, ref4, 0.1, 0.05, steps, 16, runs, rng=4), 3)
    t_gr_np = timeit(lambda: ref.grpo_train_numpy(np.zeros(4), r4, ref4, 0.1, 0.05, steps, 16, runs,
                                                  np.random.default_rng(4)), 3)
    rows.append({"benchmark": f"stochastic GRPO, K=4 G=16, {runs} runs x {steps} steps", "alignsim_s": t_gr,
                 "numpy_s": t_gr_np, "ratio": t_gr_np / t_gr,
                 "note": "target >= 5x (numpy vectorised over runs); " + _scaling_note(
                     lambda: mc.simulate_grpo(np.zeros(4), r4, ref4, 0.1, 0.05, steps, 16, runs, rng=4))})
    # exact expected GRPO update by compositions
    from alignsim.dynamics import grpo_expected_update

    t_ex = timeit(lambda: grpo_expected_update(np.full(4, 0.25), r4, 16), 20)
    rows.append({"benchmark": "exact GRPO update, K=4 G=16 (969 compositions)", "alignsim_s": t_ex,
                 "numpy_s": math.nan, "ratio": math.nan, "note": "target < 10 ms"})
    return rows


def _damped(step, phi, alpha=0.05, tol=1e-12, max_iter=20_000):
    """The plain damped fixed-point iteration (mirror ascent), what a user would write from the main theorem."""
    for k in range(1, max_iter + 1):
        g = (1.0 - alpha) * phi + alpha * step(phi)
        if np.max(np.abs(g - phi)) < tol:
            return g, k
        phi = g
    raise RuntimeError("no convergence")


def numpy_markov_reward_law(lm):
    """The plain log-space forward DP over (token, reward level): one log-sum-exp over the previous token per next
    token and step (integer token rewards >= 0, no end token)."""
    from scipy.special import logsumexp

    v, n = lm.initial.size, lm.length
    ks = lm.rewards.astype(int)
    levels = int(ks.max()) * n + 1
    with np.errstate(divide="ignore"):
        log_t = np.log(lm.transition)
        state = np.full((v, levels), -np.inf)
        state[np.arange(v), ks] = np.log(lm.initial)
        for _ in range(n - 1):
            new = np.full((v, levels), -np.inf)
            for b in range(v):
                moved = logsumexp(state + log_t[:, b][:, None], axis=0)
                new[b, ks[b]:] = moved[: levels - ks[b]]
            state = new
    return logsumexp(state, axis=0)


def bench_markov(quick):
    """Markov LMs (issue 19): the exact reward law against the plain log-space DP, the growth of its cost, the
    sequence-level tilt, and the sampler against a numpy loop over steps."""
    from alignsim.markov import MarkovLM

    rows = []
    g = np.random.default_rng(0)

    def chain(v, n, rewards, eos=None):
        return MarkovLM(g.dirichlet(np.ones(v)), g.dirichlet(np.ones(v), size=v), rewards, n, eos=eos)

    lm = chain(8, 1000, g.integers(0, 3, 8).astype(float))
    t_ours = timeit(lambda: lm.reward_law(log=True), 3)
    t_np = timeit(lambda: numpy_markov_reward_law(lm), 1 if quick else 3)
    _, ours = lm.reward_law(log=True)
    base = numpy_markov_reward_law(lm)
    err = float(np.max(np.abs(ours - (base[np.isfinite(base)] - np.logaddexp.reduce(base[np.isfinite(base)])))))
    rows.append({"benchmark": "MarkovLM.reward_law V=8 rewards in {0,1,2} length=1000", "alignsim_s": t_ours,
                 "numpy_s": t_np, "ratio": t_np / t_ours,
                 "note": f"target < 2 s; {ours.size} levels, min log-mass {ours.min():.0f}, max |d log p| vs the "
                         f"plain DP {err:.1e}"})
    growth = []
    for v, n in ([(4, 1000), (8, 1000), (16, 1000), (8, 2000)] if not quick else [(4, 500), (8, 500)]):
        m = chain(v, n, g.integers(0, 3, v).astype(float))
        t_last = timeit(lambda m=m: m.reward_law(log=True), 3)
        growth.append(f"V={v} n={n}: {t_last:.3g}s")
    rows.append({"benchmark": "MarkovLM.reward_law growth (time: the last case)", "alignsim_s": t_last,
                 "numpy_s": math.nan,
                 "ratio": math.nan, "note": "cost O(n V^2 levels), levels ~ n * max reward: " + ", ".join(growth)})
    big = chain(32, 1000, g.normal(size=32), eos=3)
    rows.append({"benchmark": "MarkovLM.tilt V=32 length=1000 (end token)",
                 "alignsim_s": timeit(lambda: big.tilt(0.5), 3), "numpy_s": math.nan, "ratio": math.nan,
                 "note": "target < 1 s; backward soft-value recursion, O(n V^2), already vectorised numpy"})
    size = 20_000 if quick else 200_000
    for sampler in (chain(32, 1000, g.normal(size=32), eos=3), chain(32, 200, g.normal(size=32))):
        t_ours = timeit(lambda: mc.simulate_markov(sampler, size, rng=1), 3)
        t_np = timeit(lambda: ref.markov_sequences_numpy(sampler, size, np.random.default_rng(1)), 3)
        mean_len = float(mc.simulate_markov(sampler, size, rng=1)[1].mean())
        rows.append({"benchmark": f"simulate_markov V=32 length={sampler.length} eos={sampler.eos}, {size} sequences",
                     "alignsim_s": t_ours, "numpy_s": t_np, "ratio": t_np / t_ours,
                     "note": f"target >= 5x; mean length {mean_len:.1f}; "
                             + _scaling_note(lambda: mc.simulate_markov(sampler, size, rng=1))})
    return rows


def bench_infalign(quick):
    from alignsim.infalign import _continuous as IC
    from alignsim.infalign import _optimal as IO

    rows = []
    cases = [("bon", 4, 0.1), ("won", 4, 0.1)] if quick else [("bon", 4, 0.1), ("bon", 32, 0.1), ("bon", 32, 0.003),
                                                               ("won", 4, 0.1), ("won", 32, 0.004)]
    for kind, N, beta in cases:
        problem = IO._ContinuousProblem(IC._grid(), kind, N)
        step = lambda x: problem.step(x, beta)  # noqa: E731
        if kind == "bon":  # shooting on the Euler-Lagrange equation + Newton-Krylov, what optimal_transform runs
            solve = lambda: problem.solve(beta, 1e-12)  # noqa: E731
            how = "shots + residual evaluations"
        else:
            solve = lambda: IO._fixed_point(step, problem.start(), 0.05, 1e-12, 20_000)  # noqa: E731
            how = "Anderson-mixed steps"
        ours, k_ours = solve()
        plain, k_plain = _damped(step, problem.start())
        w_ours = problem.result(kind, beta, ours, k_ours).win_rate
        w_plain = problem.result(kind, beta, plain, k_plain).win_rate
        assert abs(w_ours - w_plain) < 1e-8
        t_ours = timeit(solve, repeats=3)
        t_plain = timeit(lambda: _damped(step, problem.start()), repeats=3)
        rows.append({"benchmark": f"optimal transform {kind} N={N} beta={beta:g}", "alignsim_s": t_ours,
                     "numpy_s": t_plain, "ratio": t_plain / t_ours,
                     "note": f"{k_ours} {how} vs {k_plain} damped steps; |dW| = {abs(w_ours - w_plain):.1e}"})
    # A KL target against the solve at the beta it finds (the target: at most 3x); the damped iteration
    # does not converge at these betas at all (it cycles below beta ~ 0.005 at N = 128)
    from alignsim import infalign as ia

    for N, kl in ([(128, 0.5)] if quick else [(128, 0.5), (256, 0.3), (1024, 0.1)]):
        opt = ia.optimal_transform("bon", N, kl=kl)
        t_kl = timeit(lambda: ia.optimal_transform("bon", N, kl=kl), repeats=3)
        t_beta = timeit(lambda: ia.optimal_transform("bon", N, beta=opt.beta), repeats=3)
        rows.append({"benchmark": f"optimal transform bon N={N} kl={kl:g} (beta={opt.beta:.3g})", "alignsim_s": t_kl,
                     "numpy_s": t_beta, "ratio": t_beta / t_kl,
                     "note": "numpy column: the same solve given that beta (target: KL search <= 3x of it); "
                             f"residual {opt.residual:.1e}, certificate {opt.certificate:.1e}"})
    return rows


def bench_judge(quick):
    """The finite-d judge simulation (numba, parallel over trials) against the same simulation vectorised over
    trials in numpy, and the exact averaged error at large k (the issue's < 50 ms target)."""
    from alignsim.judge import JudgeModel
    from alignsim.mc import _judge as JK

    rows = []
    configs = [(20, 40, 64, 0.0), (20, 40, 64, 0.3)] if quick else [(20, 40, 64, 0.0), (20, 40, 64, 0.3),
                                                                    (100, 200, 16, 0.0), (20, 40, 1024, 0.0)]
    trials, n_test = (64, 128) if quick else (256, 256)
    for d, n, k, T in configs:
        args = (d, n, 0.5, 0.5, 1.0, 1.0, JK.SCALE, 0.2, 0.05, k, T, n_test)
        states = block_states(1, trials, 1)
        ours = JK.judge_trials(*args, states)
        base = ref.judge_trials_numpy(d, n, 0.5, 0.5, 1.0, 1.0, False, 0.2, 0.05, k, T, n_test, trials,
                                      np.random.default_rng(1))
        t_ours = timeit(lambda: JK.judge_trials(*args, states), repeats=3)
        t_np = timeit(lambda: ref.judge_trials_numpy(d, n, 0.5, 0.5, 1.0, 1.0, False, 0.2, 0.05, k, T, n_test,
                                                     trials, np.random.default_rng(1)), repeats=3)
        exact = JudgeModel(d, n, 0.5, 1.0, judge=("scale", 0.2), judge_noise=0.05).error(k, T)
        rows.append({"benchmark": f"judge simulation d={d} n={n} k={k} T={T:g}", "alignsim_s": t_ours,
                     "numpy_s": t_np, "ratio": t_np / t_ours,
                     "note": f"{trials} trials x {n_test} tests; target >= 3x; "
                             f"error {ours[:, 0].mean():.4f} / {base[:, 0].mean():.4f} (numba / numpy) vs exact DE "
                             f"{exact:.4f}; " + _scaling_note(lambda: JK.judge_trials(*args, states))})
    model = JudgeModel(100, 200, 0.1, 1.0)
    for k in (2, 1e3, 1e6):
        for T in (0.0, 0.3 * model.offset_law()["s2"]):
            t = timeit(lambda: model.error(k, T), repeats=3)
            rows.append({"benchmark": f"judge exact averaged error k={k:g} T={T:.3g}", "alignsim_s": t,
                         "numpy_s": math.nan, "ratio": math.nan,
                         "note": "target < 50 ms (T = 0); softmax: 16 Gauss-Hermite points x 2-D quadrature"})
    return rows


def bench_load(quick):
    """InfAlign's frontier table alone and next to a busy process, in the same run: a solver whose small dense
    operations go through multi-threaded BLAS slows down several-fold on a shared machine (2.6x measured before
    the grid integral stopped calling BLAS); the target is at most 1.5x."""
    import os
    import subprocess
    import sys

    from alignsim import infalign as ia

    rows_ = ia.FRONTIER_ROWS[:3] if quick else ia.FRONTIER_ROWS
    ia.frontier_table(rows_, progress=False)  # warm-up
    t0 = time.perf_counter()
    ia.frontier_table(rows_, progress=False)
    alone = time.perf_counter() - t0
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        t0 = time.perf_counter()
        ia.frontier_table(rows_, progress=False)
        loaded = time.perf_counter() - t0
    finally:
        busy.kill()
    blas = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
    return [{"benchmark": f"frontier_table ({len(rows_)} rows) next to a busy process", "alignsim_s": loaded,
             "numpy_s": alone, "ratio": alone / loaded,
             "note": f"numpy column: the same call alone; slowdown {loaded / alone:.2f}x (target <= 1.5x); "
                     f"{os.cpu_count()} cores, BLAS thread settings {blas or 'default'}"}]


def _fresh_python(code, env=None):
    import subprocess
    import sys

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    return time.perf_counter() - t0


def bench_startup(quick):
    """What a new user waits for: ``import alignsim`` against ``import numpy, scipy, pandas`` (fresh interpreters,
    median of 5; target within 3x), and a first ``alignsim verify --quick`` with an empty numba cache (target
    under 45 s on 2 cores)."""
    import os
    import tempfile

    base = "import numpy, scipy, scipy.special, scipy.optimize, scipy.stats, pandas"
    t_base = statistics.median(_fresh_python(base) for _ in range(5))
    t_ours = statistics.median(_fresh_python(base + "; import alignsim") for _ in range(5))
    rows = [{"benchmark": "import alignsim (fresh interpreter)", "alignsim_s": t_ours, "numpy_s": t_base,
             "ratio": t_base / t_ours, "note": f"numpy column: numpy + scipy + pandas alone; alignsim costs "
                                               f"{t_ours / t_base:.2f}x that (target within 3x)"}]
    if not quick:
        env = dict(os.environ, NUMBA_CACHE_DIR=tempfile.mkdtemp())
        t_cold = _fresh_python("from alignsim.cli import main; main(['verify', '--quick', '--quiet'])", env)
        t_warm = _fresh_python("from alignsim.cli import main; main(['verify', '--quick', '--quiet'])", env)
        rows.append({"benchmark": "first alignsim verify --quick, empty numba cache", "alignsim_s": t_cold,
                     "numpy_s": t_warm, "ratio": t_warm / t_cold,
                     "note": "numpy column: the second run, cache warm; target: the first under 45 s"})
    return rows


def bench_pn(quick):
    """Exact MLE risk of saturated categorical families: streamed count vectors against the general path
    (materialised count vectors, one Newton solve per mean) on the same problem."""
    from alignsim import pn
    from alignsim.pn import _risk

    fam4 = pn.FiniteExpFamily([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])
    g4 = [0.1, 0.2, 0.3, 0.4]
    n_cmp = 60 if quick else 120
    t_fast = timeit(lambda: pn.exact_risk(fam4, g4, n_cmp), 3)
    saved = _risk.is_saturated
    _risk.is_saturated = lambda T: False
    try:
        t_slow = timeit(lambda: pn.exact_risk(fam4, g4, n_cmp), 1)
    finally:
        _risk.is_saturated = saved
    rows = [{"benchmark": f"exact_risk K=4 n={n_cmp}", "alignsim_s": t_fast, "numpy_s": t_slow,
             "ratio": t_slow / t_fast, "note": "numpy column: the general path (count-vector array + Newton)"}]
    for fam, g, n in [(fam4, g4, 300), (pn.FiniteExpFamily([[1, 0], [0, 1], [0, 0]]), [0.2, 0.3, 0.5], 3000)]:
        t = timeit(lambda fam=fam, g=g, n=n: pn.exact_risk(fam, g, n), 1)
        rows.append({"benchmark": f"exact_risk K={len(g)} n={n}", "alignsim_s": t, "numpy_s": math.nan,
                     "ratio": math.nan, "note": "streamed, constant memory; target < 3 s (K=4 n=300), < 10 s (K=3 n=3000)"})
    return rows


def bench_rlvr(quick):
    """RLVR's exact computations at their largest practical sizes (issue 21: state the limits in G, K and n)."""
    from alignsim import rlvr

    rows = []
    for k, g in ([(4, 16), (4, 32)] if quick else [(4, 16), (4, 64), (8, 16), (3, 256)]):
        count = math.comb(g + k - 1, k - 1)
        t = timeit(lambda: rlvr.aggregated_update(np.zeros(k), np.r_[1.0, np.zeros(k - 1)], np.arange(1, k + 1) * 10,
                                                  g, "grpo", "token-mean"), 3)
        rows.append({"benchmark": f"rlvr.aggregated_update K={k} G={g}", "alignsim_s": t, "numpy_s": math.nan,
                     "ratio": math.nan, "note": f"{count} group compositions; cost ~ C(G+K-1, K-1), capped at "
                                                 "5e7 entries"})
    for g in ([64, 4096] if quick else [64, 4096, 10 ** 6]):
        t = timeit(lambda: rlvr.group_update_moments(0.3, g, "grpo", fp=0.05, fn=0.1), 3)
        rows.append({"benchmark": f"rlvr.group_update_moments G={g}", "alignsim_s": t, "numpy_s": math.nan,
                     "ratio": math.nan, "note": "O(G) sum over reported successes; G capped at 1e7"})
    for n in ([1000] if quick else [1000, 10 ** 6]):
        t = timeit(lambda: rlvr.pass_at_k_estimator_moments(0.01, n, 100), 3)
        rows.append({"benchmark": f"rlvr.pass_at_k_estimator_moments n={n} k=100", "alignsim_s": t,
                     "numpy_s": math.nan, "ratio": math.nan, "note": "O(n) log-space binomial sum; n capped at 1e7"})
    from alignsim.markov import MarkovLM

    rng = np.random.default_rng(0)
    for v, n, g in ([(4, 50, 8)] if quick else [(4, 50, 8), (8, 200, 16), (8, 1000, 16), (16, 500, 64)]):
        lm = MarkovLM(rng.dirichlet(np.ones(v)), rng.dirichlet(np.ones(v), size=v), np.arange(v) % 2, n, eos=0)
        right = float(n // 4)
        t = timeit(lambda: rlvr.sequence_update(lm, lambda r, m: r >= right, g, "grpo", "token-mean"), 1)
        rows.append({"benchmark": f"rlvr.sequence_update V={v} length={n} G={g} token-mean", "alignsim_s": t,
                     "numpy_s": math.nan, "ratio": math.nan,
                     "note": "forward-backward over (token, reward level, step) + an FFT power of the others' "
                             "(successes, total length) law; capped at 2e7 forward cells and 2e7 group cells"})
    steps = 100 if quick else 1000
    t = timeit(lambda: rlvr.prompt_set_trajectory([0.0] * 4, [[0], [0], [0], [1], [2], [3]], steps=steps,
                                                  ks=(1, 16)), 1)
    rows.append({"benchmark": f"rlvr.prompt_set_trajectory {steps} steps, 6 prompts", "alignsim_s": t,
                 "numpy_s": math.nan, "ratio": math.nan, "note": "one O(G) moment per prompt and step"})
    return rows


def bench_symbolic(quick):
    """Each symbolic derivation at the largest size its docstring states, in a fresh process (sympy's caches and
    the package's lru_caches cold: what a first call costs; the issue's target is under 2 s each). No baseline: the
    numbers are wall times."""
    import subprocess
    import sys

    calls = {
        "tilt_kl, K = 8 symbolic": "S.tilt_kl(K=8)",
        "tilt_kl, 8 outcomes, float law": "S.tilt_kl(list(np.random.default_rng(8).dirichlet(np.ones(8))), "
                                          "list(np.random.default_rng(9).uniform(-1, 2, 8)))",
        "dual, K = 8": "S.dual(K=8)",
        "two_outcome_tilt": "S.two_outcome_tilt()",
        "bon_kl + win rate, 8 outcomes": "S.bon_kl([0.1] * 7 + [0.3], [0, 1, 2, 3, 4, 5, 6, 6]); "
                                         "S.bon_win_rate([0.1] * 7 + [0.3], [0, 1, 2, 3, 4, 5, 6, 7])",
        "bon_kl_uniform_limit": "S.bon_kl_uniform_limit()",
        "bernoulli_rate_function": "S.bernoulli_rate_function()",
        "reward_cumulants, K = 3, order 6": "S.reward_cumulants(K=3, order=6)",
        "gradient_row k3 loss off-policy differentiable, K = 4":
            "S.gradient_row('k3', 'loss', K=4, sampling='off', is_weight='differentiable')",
        "grpo_binary_factor G = 64": "S.grpo_binary_factor(64)",
        "pn_coefficients (all four)": "[S.pn_coefficients(f, well_specified=w) for f in ('bernoulli', 'poisson') "
                                      "for w in (True, False)]",
    }
    if quick:
        calls = dict(list(calls.items())[:3])
    rows = []
    for label, call in calls.items():
        code = ("import time, numpy as np; from alignsim import symbolic as S; t = time.perf_counter(); "
                f"{call}; print(time.perf_counter() - t)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        rows.append({"benchmark": f"symbolic.{label} (cold)", "alignsim_s": float(out.stdout.split()[-1]),
                     "numpy_s": math.nan, "ratio": math.nan, "note": "first call in a fresh process; target < 2 s"})
    return rows


_SWEEP_SCRIPT = """
import json, sys, time
import numpy as np
import alignsim as a
from alignsim import infalign as ia


def frontier(N, top):
    # a CPU-bound point: the best-of-N optimum at 12 KL coefficients (about 0.5-1.3 s, one thread)
    f = ia.optimal_frontier("bon", N, np.geomspace(0.01, top, 12), progress=False)
    return {"w_max": float(f.win_rate.max())}


if __name__ == "__main__":
    grid = {"N": [2, 4, 8, 16, 32, 64], "top": [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]}
    if sys.argv[1] == "quick":
        grid = {"N": [2, 4, 8, 16], "top": [0.5, 1.0]}
    frontier(2, 0.5)  # compile and warm the serial process as the workers warm theirs
    out = {}
    for backend in ("serial", "processes"):
        t = time.perf_counter()
        df = a.sweep(frontier, grid, backend=backend, workers=2, progress=False)
        out[backend] = [time.perf_counter() - t, df.w_max.tolist()]
    # a Dask user has a cluster running: its start is timed apart, and each worker is warmed as this process was
    from dask.distributed import Client
    from alignsim._sweep import local_cluster  # the cluster sweep starts itself when given no client
    t = time.perf_counter()
    with local_cluster(2) as cluster, Client(cluster) as client:
        client.run(frontier, 2, 0.5)  # the same warm-up call as the serial process had
        start = time.perf_counter() - t
        t = time.perf_counter()
        df = a.sweep(frontier, grid, backend="dask", client=client, progress=False)
        out["dask"] = [time.perf_counter() - t, df.w_max.tolist(), start]
    print(json.dumps(out))
"""


def bench_sweep(quick):
    """A sweep of CPU-bound points (the best-of-N optimum over 12 KL coefficients for 36 (N, range) points) serially,
    on 2 local processes and on a 2-worker LocalCluster. BLAS and numba run one thread each in every backend (set
    before the process starts), so the comparison is of processes, not of threads. The process backend's time includes
    starting its pool (spawned processes import alignsim: about 2 s); the Dask cluster is started first, as a Dask
    user's is, and its start is reported in the note."""
    import json
    import os
    import subprocess
    import sys
    import tempfile

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "sweep_bench.py"
        script.write_text(_SWEEP_SCRIPT)
        out = subprocess.run([sys.executable, str(script), "quick" if quick else "full"], env=env,
                             capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    serial_t, serial_w = res["serial"]
    rows = []
    for backend in ("processes", "dask"):
        t, w = res[backend][:2]
        same = "the same outputs" if w == serial_w else "DIFFERENT outputs"
        start = (f"; the cluster's start ({res['dask'][2]:.1f} s) not included, the pool's is" if backend == "dask"
                 else "; starting the pool included")
        rows.append({"benchmark": f"sweep backend={backend} (2 workers), {len(w)} points", "alignsim_s": t,
                     "numpy_s": serial_t, "ratio": serial_t / t,
                     "note": f"numpy column: backend='serial' in the same run; {same}; BLAS/numba 1 thread{start} "
                             "(target >= 1.6x)"})
    return rows


BENCHMARKS = {"reward_law": bench_reward_law, "bon_kl": bench_bon_kl, "mc": bench_mc, "infalign": bench_infalign,
              "judge": bench_judge, "load": bench_load, "startup": bench_startup,
              "pn": bench_pn, "markov": bench_markov, "rlvr": bench_rlvr, "symbolic": bench_symbolic,
              "sweep": bench_sweep}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.json")))
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run one group (results are then not written)")
    args = parser.parse_args(argv)
    rows = []
    for name, bench in BENCHMARKS.items():
        if args.only and name != args.only:
            continue
        print(f"running {name} ...", flush=True)
        rows.extend(bench(args.quick))
    print(f"\n{blas_info()}; numba {numba.config.NUMBA_NUM_THREADS} threads")
    width = max(len(r["benchmark"]) for r in rows)
    print(f"\n{'benchmark':<{width}}  {'alignsim':>10}  {'numpy':>10}  {'ratio':>7}  note")
    for r in rows:
        ratio = "" if math.isnan(r["ratio"]) else f"{r['ratio']:.2f}x"
        npt = "" if math.isnan(r["numpy_s"]) else f"{r['numpy_s']:.4f}s"
        print(f"{r['benchmark']:<{width}}  {r['alignsim_s']:>9.4f}s  {npt:>10}  {ratio:>7}  {r['note']}")
    if args.only:
        return
    meta = {"python": platform.python_version(), "machine": platform.machine(), "numpy": np.__version__,
            "blas": blas_info(), "numba_threads": numba.config.NUMBA_NUM_THREADS,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    Path(args.out).write_text(json.dumps({"meta": meta, "results": rows}, indent=2, default=float))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
