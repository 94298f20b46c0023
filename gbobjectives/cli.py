"""The ``gbobjectives`` console script: ``check`` (the derivative audit), ``plot``, ``compare``.

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
    from gbobjectives.losses import example_losses, registry

    wanted = set()
    for name in args.loss or ():
        try:  # a class name, short name or alias (the loss registry)
            wanted.add(registry.find_loss_class(name))
        except ValueError:
            pass
    rows = []
    for loss in example_losses():
        if args.loss and type(loss) not in wanted:
            continue
        result = check_gradients(loss, seed=args.seed)
        params = ", ".join(f"{k}={v}" for k, v in loss.get_params().items())
        status = "pass" if result.passed else "FAIL"
        note = "; ".join([*result.problems, *result.notes])
        ratio = f"{result.worst_ratio:.3g}"
        rows.append((type(loss).__name__, params, str(result.n_points), ratio, status, note))
    if not rows:
        print(f"no loss matches {args.loss}", file=sys.stderr)
        return 2
    header = ("loss", "parameters", "points", "worst err/tol", "result", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print("Finite-difference audit of every shipped loss (pass: worst error/tolerance <= 1)")
    print(line.format(*header).rstrip())
    print("  ".join("-" * w for w in widths).rstrip())
    for r in rows:
        print(line.format(*r).rstrip())
    failed = sum(r[4] == "FAIL" for r in rows)
    print(f"\n{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _cmd_plot(args: argparse.Namespace) -> int:
    # Loss parameters are free-form (--gamma 2 ...), so argparse hands everything after
    # LOSS over as a list (REMAINDER); the plot's own options may sit in it too.
    from gbobjectives.plotting import find_loss_class, parse_loss_args

    def fail(message: str) -> int:
        print(f"gbobjectives plot: error: {message}", file=sys.stderr)
        return 2

    options = {"output": args.output, "y": args.y, "z_range": args.z_range, "dpi": str(args.dpi)}
    flags = {"-o": "output", "--output": "output", "--y": "y", "--z-range": "z_range", "--dpi": "dpi"}
    rest: list[str] = []
    tokens = list(args.params)
    while tokens:
        token = tokens.pop(0)
        key, eq, value = token.partition("=")
        if key in flags:
            if not eq:
                if not tokens:
                    return fail(f"{key} needs a value")
                value = tokens.pop(0)
            options[flags[key]] = value
        else:
            rest.append(token)
    output, y, z_range = options["output"], options["y"], options["z_range"]
    if not output:
        return fail("no output file: add -o FILE.png")
    try:
        loss = parse_loss_args(find_loss_class(args.loss), rest)
        dpi = float(options["dpi"])  # type: ignore[arg-type]
        y_value = None if y is None else [float(v) for v in y.split(",")]
        bounds = None if z_range is None else tuple(float(v) for v in z_range.split(","))
        if bounds is not None and len(bounds) != 2:
            raise ValueError(f"--z-range must be LOW,HIGH, got {z_range!r}")
        from gbobjectives.plotting import plot_loss

        fig = plot_loss(loss, y=y_value, z_range=bounds)  # type: ignore[arg-type]
        fig.savefig(output, dpi=dpi)
    except (ValueError, TypeError, ImportError, OSError) as exc:
        return fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    print(f"wrote {output} ({loss!r})")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    # the work (and the engine/pandas/matplotlib imports) lives in gbobjectives.compare
    from gbobjectives.compare import run

    return run(args)


def _cmd_config(args: argparse.Namespace) -> int:
    from gbobjectives._config import show_config

    show_config()
    return 0


def _loss_family_names() -> list[str]:
    """The loss names ``compare --losses`` accepts, from the loss registry (definition order)."""
    from gbobjectives.losses import registry

    return list(dict.fromkeys(registry.family_of(c.short_name) for c in registry.registered_classes(named=True)))


def _build_parser() -> tuple[argparse.ArgumentParser, dict[str, Callable[[argparse.Namespace], int]]]:
    parser = argparse.ArgumentParser(
        prog="gbobjectives", description="Exact custom objectives for XGBoost and LightGBM."
    )
    sub = parser.add_subparsers(dest="command")
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {}

    p = sub.add_parser("check", help="audit every loss's gradient and Hessian against finite differences")
    p.add_argument("--loss", action="append", help="only this loss (repeatable): class or short name, e.g. FocalLoss")
    p.add_argument("--seed", type=int, default=0, help="seed of the random audit points")
    handlers["check"] = _cmd_check

    p = sub.add_parser(
        "plot",
        help="plot a loss, its gradient and Hessian (exact and default) to an image file",
        description="Plot LOSS (class or short name, e.g. FocalLoss, focal, huber, mfocal) with its "
        "constructor parameters given as --name value, e.g. "
        "'gbobjectives plot focal --gamma 2 --alpha 0.25 -o focal.png'. Needs matplotlib (the plot extra).",
    )
    p.add_argument("loss", help="loss class or short name, case-insensitive")
    p.add_argument("-o", "--output", help="image file to write (.png, .svg, .pdf)")
    p.add_argument("--y", help="label(s), comma-separated (binary default: 1,0; multiclass: class 0)")
    p.add_argument("--z-range", help="LOW,HIGH of the horizontal axis")
    p.add_argument("--dpi", type=int, default=100, help="resolution of raster images (default 100)")
    p.add_argument("params", nargs=argparse.REMAINDER, help="loss parameters: --name value ...")
    handlers["plot"] = _cmd_plot

    p = sub.add_parser(
        "compare",
        help="train built-in objectives and gbobjectives losses on both engines; print held-out metrics",
        description="Train the engines' built-in objective and gbobjectives losses with XGBoost and LightGBM "
        "and print held-out metrics and training time; CSV, JSON and a PNG chart go to --output. Without "
        "--data it runs on data sets bundled with scikit-learn (breast cancer, an imbalanced problem, "
        "digits, diabetes). Exit status 2 on bad input.",
    )
    p.add_argument("--data", metavar="FILE.csv", help="CSV file with a header row (default: embedded data sets)")
    p.add_argument("--target", metavar="COLUMN", help="column of --data to predict")
    p.add_argument(
        "--task",
        choices=("auto", "binary", "multiclass", "regression"),
        default="auto",
        help="default auto: 2 values -> binary, 3-10 integers or text -> multiclass, else regression",
    )
    p.add_argument(
        "--losses",
        metavar="NAMES",
        help="comma-separated gbobjectives losses besides the built-in objective: "
        + ", ".join(_loss_family_names())
        + ", balanced (logloss with inverse-frequency class weights n/(K*n_c), as scikit-learn's "
        "class_weight='balanced'); parameters as focal:gamma=1:alpha=0.25 (default: all that fit the task)",
    )
    p.add_argument(
        "--engines",
        default="xgboost,lightgbm",
        metavar="NAMES",
        help="comma-separated: xgboost, lightgbm, catboost (default xgboost,lightgbm; catboost is opt-in, "
        "its custom multiclass objectives are called once per row)",
    )
    p.add_argument("--rounds", type=int, default=100, help="boosting rounds (default 100)")
    p.add_argument("--folds", type=int, default=1, help="K-fold cross-validation; 1 = one held-out split (default)")
    p.add_argument("--test-size", type=float, default=0.25, help="held-out share with --folds 1 (default 0.25)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the engines (default 0)")
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads per engine; 0 = auto (1 below 50,000 rows, where threads cost more than they save)",
    )
    p.add_argument(
        "--output",
        default="gbobjectives-output",
        metavar="DIR",
        help="folder for compare.csv, compare.json, compare.png (default ./gbobjectives-output)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    handlers["compare"] = _cmd_compare

    p = sub.add_parser(
        "config", help="which loss kernels (compiled or numpy) and how many threads are active, and the versions"
    )
    handlers["config"] = _cmd_config
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
