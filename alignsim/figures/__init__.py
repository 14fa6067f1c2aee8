r"""Paper-style figures, computed exactly. Each function returns a :class:`matplotlib.figure.Figure`;
``alignsim figures`` writes every registered figure as a PNG and a PDF. One private module per topic
(``_asymptotics``, ``_bon``, ..., ``_judge``) draws its figures; this package registers them in :data:`FIGURES`.

The palette is Okabe-Ito (colour-blind safe); divergences are in nats.
"""


from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from matplotlib.figure import Figure

from ._asymptotics import bon_kl_vs_formula, bon_vs_rl_rates, frontier_vs_bon, ldp_convergence, rate_functions
from ._bon import winrate_vs_kl
from ._distill import (distill_exposure_bias, distill_gkd_beta, distill_gradient_table, distill_mode_seeking,
                       distill_topk_bias)
from ._dynamics import dynamics_trajectories
from ._frameworks import frameworks_bias_vs_kl, frameworks_clamps_and_tail
from ._estimators import estimators_gradient_table, estimators_std_over_kl
from ._infalign import INFALIGN_PANELS, infalign_best_t, infalign_calibration, infalign_frontier, infalign_optimal_policies
from ._judge import judge_compute_vs_data, judge_decay_exponent, judge_error_vs_k, judge_error_vs_temperature
from ._markov import markov_bon_vs_rl, markov_rate_functions, markov_token_vs_sequence
from ._pn import pn_acceptance, pn_convergence, pn_synthetic
from ._rlvr import (rlvr_difficulty_and_signal, rlvr_length_bias, rlvr_pass_at_k_collapse,
                    rlvr_sequence_length_bias)
from ._regularisers import (regularisers_frontier, regularisers_overoptimisation, regularisers_pass_at_k,
                            regularisers_policies)
from ._style import OKABE_ITO

__all__ = ["FIGURES", "OKABE_ITO", "frontier_vs_bon", "rate_functions", "ldp_convergence", "bon_vs_rl_rates", "bon_kl_vs_formula",
           "winrate_vs_kl", "estimators_std_over_kl", "estimators_gradient_table", "dynamics_trajectories",
           "infalign_frontier", "infalign_best_t", "infalign_optimal_policies", "infalign_calibration",
           "pn_convergence", "pn_acceptance", "pn_synthetic", "regularisers_frontier", "regularisers_policies",
           "regularisers_pass_at_k", "regularisers_overoptimisation", "judge_error_vs_k", "judge_error_vs_temperature",
           "judge_compute_vs_data", "judge_decay_exponent", "markov_token_vs_sequence", "markov_rate_functions",
           "markov_bon_vs_rl", "distill_gkd_beta", "distill_topk_bias", "distill_mode_seeking",
           "distill_gradient_table", "distill_exposure_bias", "rlvr_difficulty_and_signal",
           "rlvr_length_bias", "rlvr_sequence_length_bias", "rlvr_pass_at_k_collapse", "frameworks_bias_vs_kl",
           "frameworks_clamps_and_tail",
           "write_figures",
           "write_gallery"]

#: Registry of figures written by ``alignsim figures``: name -> function (``--only asymptotics`` selects the
#: five figures of the asymptotics paper).
FIGURES: dict[str, Callable[[], Figure]] = {
    "asymptotics_frontier": frontier_vs_bon,
    "asymptotics_rate_functions": rate_functions,
    "asymptotics_ldp": ldp_convergence,
    "asymptotics_bon_vs_rl": bon_vs_rl_rates,
    "asymptotics_bon_kl": bon_kl_vs_formula,
    "bon_winrate_vs_kl": winrate_vs_kl,
    "estimators_std_over_kl": estimators_std_over_kl,
    "estimators_gradient_table": estimators_gradient_table,
    "dynamics_trajectories": dynamics_trajectories,
    "infalign_frontier": infalign_frontier,
    "infalign_best_t": infalign_best_t,
    "infalign_optimal_policies": infalign_optimal_policies,
    "infalign_calibration": infalign_calibration,
    "pn_convergence": pn_convergence,
    "pn_acceptance": pn_acceptance,
    "pn_synthetic": pn_synthetic,
    "regularisers_frontier": regularisers_frontier,
    "regularisers_policies": regularisers_policies,
    "regularisers_pass_at_k": regularisers_pass_at_k,
    "regularisers_overoptimisation": regularisers_overoptimisation,
    "judge_error_vs_k": judge_error_vs_k,
    "judge_error_vs_temperature": judge_error_vs_temperature,
    "judge_compute_vs_data": judge_compute_vs_data,
    "judge_decay_exponent": judge_decay_exponent,
    "markov_token_vs_sequence": markov_token_vs_sequence,
    "markov_rate_functions": markov_rate_functions,
    "markov_bon_vs_rl": markov_bon_vs_rl,
    "distill_gkd_beta": distill_gkd_beta,
    "distill_topk_bias": distill_topk_bias,
    "distill_mode_seeking": distill_mode_seeking,
    "distill_gradient_table": distill_gradient_table,
    "distill_exposure_bias": distill_exposure_bias,
    "rlvr_difficulty_and_signal": rlvr_difficulty_and_signal,
    "rlvr_length_bias": rlvr_length_bias,
    "rlvr_sequence_length_bias": rlvr_sequence_length_bias,
    "rlvr_pass_at_k_collapse": rlvr_pass_at_k_collapse,
    "frameworks_bias_vs_kl": frameworks_bias_vs_kl,
    "frameworks_clamps_and_tail": frameworks_clamps_and_tail,
}


def _caption(make) -> str:
    """First sentence of a figure function's docstring, on one line."""
    text = " ".join((make.__doc__ or "").strip().split("\n\n")[0].split())
    text = re.sub(r":math:`([^`]*)`", r"$\1$", text.split(". ")[0].rstrip(".") + ".")  # GitHub renders $...$
    return re.sub(r":func:`([^`]*)`", r"`\1`", text).replace("|", "\\|")


def write_gallery(outdir="figures") -> Path:
    """Write ``<outdir>/README.md``: a thumbnail, a one-line caption and the drawing function of every registered
    figure (captions are the first sentence of each function's docstring).

    Parameters
    ----------
    outdir : str or path
        Folder holding the figures.

    Returns
    -------
    pathlib.Path
        The gallery page written.
    """
    out = Path(outdir)
    lines = ["# Figure gallery", "",
             "Every figure is drawn by a function of `alignsim.figures` and regenerated by `alignsim figures` "
             "(PNG and PDF; the same code gives the same picture). Click a thumbnail for the full size.", "",
             "| figure | what it shows | drawn by |", "|---|---|---|"]
    for name, make in FIGURES.items():
        lines.append(f'| <a href="{name}.png"><img src="{name}.png" width="260"></a> | {_caption(make)} | '
                     f"`alignsim.figures.{make.__name__}` ([PDF]({name}.pdf)) |")
    path = out / "README.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_figures(outdir="figures", only: str | None = None, dpi: int = 150,
                  progress: Callable[[int, int, str], None] | None = None,
                  formats=("png", "pdf")) -> list[Path]:
    """Write every registered figure (or those whose name contains ``only``) as ``<outdir>/<name>.<format>``;
    ``progress(i, total, name)`` is called before each (the InfAlign figures take up to a minute). Writing the
    whole set also writes the gallery page (:func:`write_gallery`). Metadata carrying dates are dropped, so the
    files are byte-identical from run to run.

    Parameters
    ----------
    outdir : str or path
        Output folder (created).
    only : str, optional
        Write only figures whose name contains this string.
    dpi : int
        Resolution of the PNGs.
    progress : callable, optional
        Called as progress(i, total, name) before each figure.
    formats : sequence of str
        File formats to write.

    Returns
    -------
    list of pathlib.Path
        The files written (and the gallery page when all figures are written).
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    selected = [name for name in FIGURES if only is None or only in name]
    if not selected:
        raise ValueError(f"no figure matches only={only!r}; known figures: {list(FIGURES)}")
    metadata = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None, "CreationDate": None}}
    paths = []
    for i, name in enumerate(selected):
        make = FIGURES[name]
        if progress is not None:
            progress(i, len(selected), name)
        fig = make()
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            fig.savefig(path, dpi=dpi, metadata=metadata.get(fmt))
            paths.append(path)
    if only is None:
        paths.append(write_gallery(out))
    return paths
