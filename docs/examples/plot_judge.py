"""
LLM-as-a-judge scaling
======================

The package's figures of this topic, each drawn by a function of :mod:`alignsim.figures` (also written by
``alignsim figures --only judge``).
"""

from alignsim import figures

# %%
# judge_error_vs_k: Averaged best-of-k error against ``k`` (log axes): monotone :math:`\Theta(1/k^2)` decay with the
# teacher as judge (left, with the extreme-value asymptote), a finite optimal ``k`` when the judge overshoots
# (right).
fig_judge_error_vs_k = figures.FIGURES["judge_error_vs_k"]()

# %%
# judge_error_vs_temperature: Averaged error against the softmax temperature at fixed ``k`` for an overshooting
# judge: best-of-k (``T = 0``, dashed) wins at small ``k``, an interior optimal temperature (stars) beyond, ``k =
# inf`` dotted.
fig_judge_error_vs_temperature = figures.FIGURES["judge_error_vs_temperature"]()

# %%
# judge_compute_vs_data: Inference compute against training data: the averaged best-of-k error over :math:`(n, k)`
# (teacher judge), with the boundary beyond which doubling ``k`` lowers the error more than doubling ``n``.
fig_judge_compute_vs_data = figures.FIGURES["judge_compute_vs_data"]()

# %%
# judge_decay_exponent: Decay exponent of best-of-k with the teacher as judge as the task gets harder: the local
# slope :math:`-d\log\bar E/d\log k` against :math:`V_\mu/s^2`, with the theory :math:`\min(2, s^2/V_\mu)`.
fig_judge_decay_exponent = figures.FIGURES["judge_decay_exponent"]()
