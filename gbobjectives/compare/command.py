"""``gbobjectives compare`` on the command line: options, progress bar, exit status."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from gbobjectives._extras import pip_install_hint
from gbobjectives.compare.candidates import loss_applies, make_candidates
from gbobjectives.compare.data import default_datasets, load_csv
from gbobjectives.compare.report import format_table, write_results
from gbobjectives.compare.settings import DEFAULT_ENGINES, ENGINES, CompareError
from gbobjectives.compare.training import compare, n_models

if TYPE_CHECKING:  # annotations only
    import argparse


class _Progress:
    """A one-line stderr progress bar, drawn only on a terminal (never into logs or pipes)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = max(total, 1), 0, enabled
        self.start = time.perf_counter()

    def __call__(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 24
        filled = int(width * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        text = f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {elapsed:5.1f}s  {label}"
        sys.stderr.write(text[:100].ljust(100))
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


def _split_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise CompareError("empty list")
    return items


def run(args: argparse.Namespace) -> int:
    """The ``gbobjectives compare`` command: returns the exit status (2 on bad input)."""
    try:
        return _run(args)
    except CompareError as exc:
        print(f"gbobjectives compare: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    engines = _split_list(args.engines) or list(DEFAULT_ENGINES)
    for engine in engines:
        if engine not in ENGINES:
            raise CompareError(f"unknown engine {engine!r} in --engines; choose from {', '.join(ENGINES)}")
    losses = _split_list(args.losses)
    if args.data is None:
        if args.target is not None:
            raise CompareError("--target needs --data FILE.csv")
        datasets = default_datasets(args.seed)
        if args.task != "auto":
            datasets = [d for d in datasets if d.task == args.task]
    else:
        if args.target is None:
            raise CompareError("--data needs --target COLUMN (the column to predict)")
        datasets = [load_csv(args.data, args.target, args.task)]
    if losses is not None:
        for spec in losses:  # validate every name up front, before any training
            if not any(loss_applies(spec, d.task) for d in datasets):
                tasks = "/".join(sorted({d.task for d in datasets}))
                raise CompareError(f"loss {spec!r} does not apply to a {tasks} task")
            for d in datasets:
                if loss_applies(spec, d.task):
                    make_candidates(d.task, d.y, [spec])
    for engine in engines:  # after the data checks: bad input is reported without waiting for the engines
        try:
            __import__(engine)
        except ImportError:
            raise CompareError(f"{engine} is not installed: {pip_install_hint(engine)}") from None
    total = sum(n_models(d, losses, engines, args.folds) for d in datasets)
    progress = _Progress(total, enabled=not args.quiet and sys.stderr.isatty())
    results = []
    started = time.perf_counter()
    try:
        for data in datasets:
            results.append(
                compare(
                    data,
                    None,
                    losses=losses,
                    engines=engines,
                    rounds=args.rounds,
                    folds=args.folds,
                    test_size=args.test_size,
                    seed=args.seed,
                    threads=args.threads,
                    progress=progress,
                )
            )
    finally:
        progress.close()
    elapsed = time.perf_counter() - started
    for result in results:
        print(format_table(result))
        print()
    paths = write_results(results, args.output)
    print(f"{total} models trained in {elapsed:.1f}s; wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
