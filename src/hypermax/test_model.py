"""The original Hypermax's test model, for its ``test/general_test.json`` and configs like it.

``trainModel`` scores eight parameters by their distance to fixed targets: the sum of the
absolute differences over the sum of the targets (0 at the targets, lower is better). As in the
original it returns that as ``accuracy`` (a misnomer the original took as the loss) and the time
it took; it also returns it as ``loss``, so the original's configs run unchanged. The original's
unused ``sklearn.datasets.load_breast_cancer(True)`` call, which fails on scikit-learn 1.x, is
left out.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

TARGETS = {
    "first_value": 383,
    "second_value": 862,
    "third_value": 4,
    "fourth_value": 670,
    "fifth_value": 106,
    "sixth_value": 42,
    "seventh_value": 215,
    "eighth_value": 921,
}


def trainModel(params: Mapping[str, float]) -> dict[str, float]:  # the original's name
    """The normalized distance of ``params`` to TARGETS, as ``loss`` and ``accuracy``."""
    started = time.perf_counter()
    distance = sum(abs(params[key] - target) for key, target in TARGETS.items())
    accuracy = distance / sum(TARGETS.values())
    result = {"loss": accuracy, "accuracy": accuracy, "time": time.perf_counter() - started}
    print(result)
    return result
