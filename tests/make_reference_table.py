"""Regenerate ``tests/data/reference_values.json``: loss, gradient and exact Hessian of every
loss at extreme points, computed with mpmath (400 digits) from the definitions in the README's
table of losses (tests/_mpmath_oracle.py).

Run from the repository root:  python tests/make_reference_table.py

The table is small and committed; ``test_numerics_reference.py`` compares the library
with it at rtol 1e-12, including tail Hessians near 1e-300 that finite differences
cannot resolve. The formulas live in ``_mpmath_oracle.py`` and never call the library.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _mpmath_oracle import reference, to_str  # noqa: E402

OUT = Path(__file__).parent / "data" / "reference_values.json"

BINARY_Z = [
    -700.0,
    -690.0,
    -300.0,
    -100.0,
    -40.0,
    -37.0,
    -20.0,
    -5.0,
    -1.0,
    -1e-3,
    0.0,
    1e-3,
    1.0,
    5.0,
    20.0,
    37.0,
    40.0,
    100.0,
    300.0,
    690.0,
    700.0,
]
BINARY_LOSSES = [
    ("WeightedLogLoss", {}),
    ("WeightedLogLoss", {"pos_weight": 3.0, "neg_weight": 0.5}),
    ("FocalLoss", {"gamma": 0.5, "alpha": None}),
    ("FocalLoss", {"gamma": 2.0, "alpha": None}),
    ("FocalLoss", {"gamma": 2.0, "alpha": 0.25}),
    ("FocalLoss", {"gamma": 5.0, "alpha": None}),
]
MULTICLASS_ROWS = [
    [0.0, 0.0, 0.0],
    [1.0, 2.0, 3.0],
    [30.0, 0.0, -30.0],
    [40.0, 39.0, 0.0],
    [350.0, -350.0, 0.0],
    [700.0, 0.0, 0.0],
    [0.0, 690.0, 0.0],
    [-700.0, 0.0, 0.0],
    [700.0, 699.0, 0.0],
    [345.0, 0.0, -345.0],
    [100.0, 100.0, -600.0],
]
MULTICLASS_LOSSES = [
    ("MulticlassFocalLoss", {"gamma": 0.0, "alpha": None}),
    ("MulticlassFocalLoss", {"gamma": 0.5, "alpha": None}),
    ("MulticlassFocalLoss", {"gamma": 2.0, "alpha": [0.5, 1.0, 2.0]}),
    ("MulticlassFocalLoss", {"gamma": 5.0, "alpha": None}),
]
# residuals as multiples of the length scale (delta); dyadic, so z = y + r is exact.
# Kinks themselves (|r| = delta, r = 0 for quantile) are left to the subgradient tests.
RESID = [0.125, 0.5, 0.9990234375, 1.0009765625, 2.0, 5.0, 20.0, 100.0, 345.0, 700.0]
REGRESSION_LOSSES = [
    ("HuberLoss", {"delta": 0.5}, 0.5),
    ("HuberLoss", {"delta": 20.0}, 20.0),
    ("PseudoHuberLoss", {"delta": 1.0}, 1.0),
    ("PseudoHuberLoss", {"delta": 20.0}, 20.0),
    ("LogCoshLoss", {}, 1.0),
    ("QuantileLoss", {"quantile": 0.1}, 1.0),
    ("QuantileLoss", {"quantile": 0.9}, 1.0),
    ("AbsoluteErrorLoss", {}, 1.0),
    ("RelativeErrorLoss", {}, 1.0),
    ("ExpectileLoss", {"expectile": 0.1}, 1.0),
    ("ExpectileLoss", {"expectile": 0.9}, 1.0),
]
#: labels of the regression rows; the relative error |y - z| / |y| is undefined at y = 0
REGRESSION_LABELS = (0.0, 2.25)
LABELS = {"RelativeErrorLoss": (-0.75, 2.25)}


# K-output regression (MultiQuantileLoss): rows of raw scores, none at a kink (no q_k = y);
# "monotone" log-gaps out to +-700 probe the tail Hessians sigmoid'(z) ~ 1e-304
MULTI_OUTPUT_LOSSES = [
    ("MultiQuantileLoss", {"quantiles": [0.1, 0.5, 0.9], "noncrossing": "sort"}),
    ("MultiQuantileLoss", {"quantiles": [0.1, 0.5, 0.9], "noncrossing": "monotone"}),
]
MULTI_OUTPUT_Y = 2.25
MULTI_OUTPUT_ROWS = [
    [-697.75, 2.375, 347.25],
    [1.75, 0.5, -40.0],
    [2.125, -700.0, 0.5],
    [-3.0, 40.0, -700.0],
    [700.0, 1.0, 2.0],
    [-700.0, 700.0, 3.0],
    [0.0, -1.0, 690.0],
]


def _entry(name, params, y, z):
    value, grad, hess = reference(name, params, y, z)
    conv = (lambda v: [to_str(x) for x in v]) if isinstance(grad, list) else to_str
    return {
        "loss": name,
        "params": params,
        "y": y,
        "z": z,
        "value": to_str(value),
        "gradient": conv(grad),
        "hessian_exact": conv(hess),
    }


def build() -> list[dict]:
    rows = []
    for name, params in BINARY_LOSSES:
        for y in (0.0, 1.0):
            rows += [_entry(name, params, y, z) for z in BINARY_Z]
        rows += [_entry(name, params, 0.3, z) for z in (-700.0, -40.0, 0.5, 40.0, 700.0)]
    for name, params in MULTICLASS_LOSSES:
        rows += [_entry(name, params, c, row) for row in MULTICLASS_ROWS for c in range(3)]
    for name, params in MULTI_OUTPUT_LOSSES:
        rows += [_entry(name, params, MULTI_OUTPUT_Y, row) for row in MULTI_OUTPUT_ROWS]
    for name, params, scale in REGRESSION_LOSSES:
        for y in LABELS.get(name, REGRESSION_LABELS):
            for r in RESID:
                for sign in (1.0, -1.0):
                    z = y + sign * r * scale
                    assert z - y == sign * r * scale  # exact residual
                    rows.append(_entry(name, params, y, z))
    return rows


def main() -> None:
    rows = build()
    OUT.parent.mkdir(exist_ok=True)
    doc = {
        "about": "mpmath (400 digits) loss, gradient and exact Hessian from the definitions in "
        "tests/_mpmath_oracle.py; regenerate with python tests/make_reference_table.py",
        "entries": rows,
    }
    # one entry per line: small, and diffs of a regenerated table stay readable
    body = ",\n".join(json.dumps(e, separators=(",", ":")) for e in rows)
    OUT.write_text(f'{{"about":{json.dumps(doc["about"])},\n"entries":[\n{body}\n]}}\n')
    print(f"wrote {len(rows)} entries to {OUT}")


if __name__ == "__main__":
    main()
