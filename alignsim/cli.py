"""Command-line interface: ``alignsim verify`` and ``alignsim figures``."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import pandas as pd

from ._version import __version__

__all__ = ["main"]

#: Columns of the default table (at most 100 characters wide); ``--wide`` shows every column.
_NARROW = ["check", "relation", "exact", "estimate", "error", "allowed", "status"]
_WIDE = ["check", "kind", "relation", "exact", "estimate", "error", "allowed", "status", "seconds", "source", "method"]

_VERIFY_EPILOG = """\
columns of the table:
  check     topic.statement; --list shows each check's source and method
  relation  == the independent value equals the prediction, <= it does not exceed the predicted bound,
            != (Monte-Carlo negative control) the interval must exclude a value known to be wrong
  exact     the prediction: a value or a bound (0 for checks that report a largest deviation)
  estimate  the independent value: a second exact computation, or a Monte-Carlo estimate; checks of many
            components at once report their largest deviation in units of its own half-width (bound 1)
  error     estimate - exact
  allowed   what |error| may reach: tolerance * max(1, |exact|) for exact checks, the half-width of the
            Monte-Carlo interval (false-alarm probability 7e-6, computed from the predicted law) otherwise
  status    pass, FAIL, underpowered (a Monte-Carlo check run with fewer samples than it needs to resolve
            its target; not a pass), or ERROR (the check crashed)
exit status: 0 when every selected check passes, 1 otherwise (FAIL, underpowered or ERROR), 2 on bad input."""


def _nonnegative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = _nonnegative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be a positive integer, got 0")
    return value


def _number(v) -> str:
    return "" if isinstance(v, float) and math.isnan(v) else (f"{v:.6g}" if isinstance(v, float) else str(v))


def _format_table(df: pd.DataFrame, fmt: str, wide: bool = False) -> str:
    if fmt == "json":
        records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                   for row in df.to_dict(orient="records")]
        return json.dumps(records, indent=2, allow_nan=False, default=float)  # strict JSON: NaN becomes null
    show = df[_WIDE if wide else _NARROW]
    if fmt == "markdown":
        head = "| " + " | ".join(show.columns) + " |\n|" + "---|" * len(show.columns) + "\n"
        body = "".join("| " + " | ".join(_number(v) for v in row) + " |\n" for row in show.itertuples(index=False))
        return head + body
    cells = [[str(c) for c in show.columns]] + [[_number(v) for v in row] for row in show.itertuples(index=False)]
    if not wide:  # keep the default table within 100 columns: long ERROR messages are cut (JSON has them whole)
        cells = [row[:-1] + [row[-1][:24]] for row in cells]
    widths = [max(len(row[j]) for row in cells) for j in range(len(cells[0]))]
    numeric = {"exact", "estimate", "error", "allowed", "seconds"}
    lines = ["  ".join((cell.rjust(w) if name in numeric else cell.ljust(w))
                       for cell, w, name in zip(row, widths, show.columns)).rstrip() for row in cells]
    return "\n".join(lines)


def _progress_printer(width: int):
    """A progress callback: an updating line on a terminal, one plain line per item otherwise (logs, CI)."""
    tty = sys.stderr.isatty()

    def progress(i, total, name):
        if tty:
            print(f"\r[{i + 1:>{width}}/{total}] {name:<40}", file=sys.stderr, end="", flush=True)
        else:
            print(f"[{i + 1:>{width}}/{total}] {name}", file=sys.stderr, flush=True)

    def done():
        if tty:
            print("\r" + " " * (width * 2 + 45) + "\r", file=sys.stderr, end="", flush=True)

    return progress, done


def _verify(args) -> int:
    from .checks import CHECKS, run_checks  # imported here: ``alignsim figures`` need not load the checks

    if args.list:
        for c in CHECKS:
            print(f"{c.name}\t{'monte-carlo' if c.monte_carlo else 'exact'}\t{c.source}")
        return 0
    progress, done = _progress_printer(3)
    client = cluster = None
    if args.workers is not None or args.scheduler is not None:
        try:
            from dask.distributed import Client
        except ImportError:
            print('alignsim verify: --workers and --scheduler need Dask: pip install "alignsim[dask]"',
                  file=sys.stderr)
            return 2
        if args.scheduler is not None:
            client = Client(args.scheduler)
        else:
            from ._sweep import local_cluster

            cluster = local_cluster(args.workers)
            client = Client(cluster)
    try:
        df = run_checks(only=args.only, seed=args.seed, samples=args.samples, quick=args.quick,
                        progress=None if args.quiet else progress, client=client)
    except ValueError as exc:
        print(f"alignsim verify: {exc}", file=sys.stderr)
        return 2
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    if not args.quiet:
        done()
    print(_format_table(df, args.format, args.wide))
    passed = int((df["status"] == "pass").sum())
    under = int((df["status"] == "underpowered").sum())
    failed = len(df) - passed - under
    if args.format == "table":
        print(f"\n{passed} passed, {failed} failed" + (f", {under} underpowered (use more --samples)" if under else ""))
    return 0 if passed == len(df) else 1


def _figures(args) -> int:
    import matplotlib  # imported here: ``alignsim verify`` need not load matplotlib and the figures

    matplotlib.use("Agg")
    from .figures import FIGURES, write_figures

    if args.only is not None and not any(args.only in name for name in FIGURES):
        print(f"alignsim figures: no figure matches --only {args.only!r}; known figures: {list(FIGURES)}",
              file=sys.stderr)
        return 2
    progress, done = _progress_printer(2)
    paths = write_figures(args.outdir, only=args.only, progress=progress)
    done()
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
    parser.add_argument("--version", action="version", version=f"alignsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="run the theorem checks and print a table (exit 1 unless every check passes)",
                       epilog=_VERIFY_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("--only", help="run only checks whose name starts with this prefix (e.g. 'bon') or matches this "
                                  "glob (e.g. '*kl*')")
    v.add_argument("--seed", type=_nonnegative_int, default=0,
                   help="seed of the random instances and simulations (default 0)")
    v.add_argument("--quick", action="store_true", help="smaller Monte-Carlo samples (about half the time)")
    v.add_argument("--samples", type=_positive_int, help="Monte-Carlo sample size of each simulation check")
    v.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    v.add_argument("--wide", action="store_true", help="every column (kind, seconds, source, method) in the table")
    v.add_argument("--list", action="store_true", help="list the checks (name, kind, source) and exit")
    v.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    v.add_argument("--workers", type=_positive_int, help="run the checks on a local Dask cluster of this many "
                                                          "processes (needs alignsim[dask])")
    v.add_argument("--scheduler", help="run the checks on the Dask cluster at this address, e.g. "
                                       "tcp://host:8786 (needs alignsim[dask])")
    v.set_defaults(func=_verify)
    f = sub.add_parser("figures", help="write every paper-style figure as a PNG and a PDF")
    f.add_argument("--outdir", "--out", dest="outdir", default="figures", help="output folder (default: figures)")
    f.add_argument("--only", help="write only figures whose name contains this string")
    f.set_defaults(func=_figures)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader (e.g. ``| head``) stopped early: no traceback, as the Python docs advise
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
