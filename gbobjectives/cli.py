"""The ``gbobjectives`` console script: ``check`` (the derivative audit) and more.

Each subcommand lives in its own function; ``main`` only dispatches, so new commands
(``compare``, ``plot``) plug in by adding a parser and a handler.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

__all__ = ["main"]


def _cmd_check(args: argparse.Namespace) -> int:
    from gbobjectives.checks import check_gradients
    from gbobjectives.losses import example_losses

    rows = []
    for loss in example_losses():
        if args.loss and type(loss).__name__ not in args.loss:
            continue
        result = check_gradients(loss, seed=args.seed)
        params = ", ".join(f"{k}={v}" for k, v in loss.get_params().items())
        status = "pass" if result.passed else "FAIL"
        note = "; ".join(result.problems)
        rows.append((type(loss).__name__, params, str(result.n_points), f"{result.worst_ratio:.3g}", status, note))
    if not rows:
        print(f"no loss matches {args.loss}", file=sys.stderr)
        return 2
    header = ("loss", "parameters", "points", "worst err/tol", "result", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("{:<%d}" % w for w in widths)
    print("Finite-difference audit of every shipped loss (pass: worst error/tolerance <= 1)")
    print(line.format(*header).rstrip())
    print("  ".join("-" * w for w in widths).rstrip())
    for r in rows:
        print(line.format(*r).rstrip())
    failed = sum(r[4] == "FAIL" for r in rows)
    print(f"\n{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _build_parser() -> tuple[argparse.ArgumentParser, dict[str, Callable[[argparse.Namespace], int]]]:
    parser = argparse.ArgumentParser(
        prog="gbobjectives", description="Exact custom objectives for XGBoost and LightGBM."
    )
    sub = parser.add_subparsers(dest="command")
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {}

    p = sub.add_parser("check", help="audit every loss's gradient and Hessian against finite differences")
    p.add_argument("--loss", action="append", help="only this loss class (repeatable), e.g. FocalLoss")
    p.add_argument("--seed", type=int, default=0, help="seed of the random audit points")
    handlers["check"] = _cmd_check
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
