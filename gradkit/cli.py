"""The ``gradkit`` command line: ``gradkit demo`` (also ``python -m gradkit demo``).

Example:
    >>> build_parser().parse_args(["demo", "--quick", "--jobs", "2"]).jobs
    2
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DEMO_HELP = ("Model selection for an MLP on scikit-learn's bundled handwritten digits: stratified 5-fold "
             "cross-validated grid search, retraining, one held-out test, a report and plots. "
             "No network needed.")


def _jobs(text: str) -> int:
    """``--jobs``: a non-zero integer (-1 = all cores, joblib's convention)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-zero integer (-1 = all cores), got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("must be a non-zero integer (-1 = all cores), got 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gradkit`` command (one subcommand per job)."""
    from gradkit import __version__
    from gradkit.demo import DEFAULT_OUT

    parser = argparse.ArgumentParser(prog="gradkit", description="gradkit: reverse-mode autodiff on numpy.")
    parser.add_argument("--version", action="version", version=f"gradkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    demo = sub.add_parser("demo", help="train and evaluate an MLP on the digits (the main job)",
                          description=DEMO_HELP)
    demo.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                      help=f"output folder for the plots, graph, weights and report (default: {DEFAULT_OUT}/)")
    demo.add_argument("--quick", action="store_true", help="tiny grid and few epochs: runs in seconds")
    demo.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                      help="cross-validation folds run in parallel (-1 = all cores; default 1)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (argument errors exit with status 2)."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from gradkit.demo import run

        try:
            run(out=args.out, quick=args.quick, jobs=args.jobs, seed=args.seed, progress=args.progress)
        except ImportError as exc:  # an optional dependency of the demo is missing
            print(f"gradkit demo: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:  # e.g. --out names a file or a folder we may not write to
            print(f"gradkit demo: cannot write the output folder --out {args.out!r}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
