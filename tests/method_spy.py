"""A search method that records what the runner told it, for tests of what the method sees."""

from __future__ import annotations

from collections.abc import Sequence

from hypermax.optimizers import Optimizer
from hypermax.search import Search
from hypermax.space import Flat
from hypermax.trial import Trial, TrialStatus


class Spy(Optimizer):
    """The search's own method, recording the history each suggestion was asked with."""

    def __init__(self, inner: Optimizer):
        super().__init__(inner.space, inner.seed)
        self.inner = inner
        self.seen: list[dict[int, tuple[TrialStatus, float | None]]] = []

    def prepare(self, flat: Flat) -> Flat:
        return self.inner.prepare(flat)

    def describe(self) -> str:
        return self.inner.describe()

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        self.seen.append({t.number: (t.status, t.loss) for t in history})
        return self.inner.suggest(history, n)


def spy_on_method(search: Search) -> Spy:
    """Wrap the method of ``search``'s planner in a Spy."""
    spy = Spy(search.planner.optimizer)
    search.planner.optimizer = spy
    return spy
