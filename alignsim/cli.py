"""Command-line interface: ``alignsim verify`` and ``alignsim figures``."""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

__all__ = ["main"]


def _format_table(df: pd.DataFrame, fmt: str) -> str:
    show = df[["check", "source", "exact", "estimate", "error", "ci", "tolerance", "relation", "status"]]
    if fmt == "json":
        records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                   for row in df.to_dict(orient="records")]
        return json.dumps(records, indent=2, allow_nan=False, default=float)  # strict JSON: NaN becomes null
    if fmt == "markdown":
        head = "| " + " | ".join(show.columns) + " |\n|" + "---|" * len(show.columns) + "\n"
        body = "".join(
            "| " + " | ".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row) + " |\n"
            for row in show.itertuples(index=False)
        )
        return head + body
    with pd.option_context("display.max_colwidth", 48, "display.width", 200):
        return show.to_string(index=False, float_format=lambda x: f"{x:.6g}")


def _verify(args) -> int:
    from .checks import run_checks  # imported here: ``alignsim figures`` need not load the checks

    tty = sys.stderr.isatty()

    def progress(i, total, name):
        if tty:
            print(f"\r[{i + 1:>3}/{total}] {name:<40}", file=sys.stderr, end="", flush=True)

    try:
        df = run_checks(only=args.only, seed=args.seed, samples=args.samples, quick=args.quick, progress=progress)
    except ValueError as exc:
        print(f"alignsim verify: {exc}", file=sys.stderr)
        return 2
    if tty:
        print("\r" + " " * 50 + "\r", file=sys.stderr, end="")
    print(_format_table(df, args.format))
    failed = int((df["status"] != "pass").sum())
    if args.format == "table":
        print(f"\n{len(df) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _figures(args) -> int:
    import matplotlib  # imported here: ``alignsim verify`` need not load matplotlib and the figures

    matplotlib.use("Agg")
    from .figures import FIGURES, write_figures

    tty = sys.stderr.isatty()

    def progress(i, total, name):
        if tty:
            print(f"\r[{i + 1:>2}/{total}] {name:<40}", file=sys.stderr, end="", flush=True)

    if args.only is not None and not any(args.only in name for name in FIGURES):
        print(f"alignsim figures: no figure matches --only {args.only!r}; known figures: {list(FIGURES)}",
              file=sys.stderr)
        return 2
    paths = write_figures(args.outdir, only=args.only, progress=progress)
    if tty:
        print("\r" + " " * 50 + "\r", file=sys.stderr, end="")
    for p in paths:
        print(p)
    return 0


def main(argv=None) -> int:
    """Entry point of the ``alignsim`` command (``alignsim verify``, ``alignsim figures``).

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 if a check fails, 2 on bad input.
    """
    parser = argparse.ArgumentParser(prog="alignsim", description="Exact toy theory of KL-regularised alignment.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="run the theorem checks and print a table (exit 1 if any fails)")
    v.add_argument("--only", help="run only checks whose name starts with this prefix (e.g. 'bon') or matches this glob (e.g. '*kl*')")
    v.add_argument("--seed", type=int, default=0, help="seed of the random instances and simulations (default 0)")
    v.add_argument("--quick", action="store_true", help="smaller Monte-Carlo samples (under a minute)")
    v.add_argument("--samples", type=int, help="Monte-Carlo sample size of each simulation check")
    v.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    v.set_defaults(func=_verify)
    f = sub.add_parser("figures", help="write every paper-style figure as a PNG")
    f.add_argument("--outdir", "--out", dest="outdir", default="figures", help="output folder (default: figures)")
    f.add_argument("--only", help="write only figures whose name contains this string")
    f.set_defaults(func=_figures)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
