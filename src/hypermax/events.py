"""What a running search tells those watching it in the same process: progress printers, UIs.

A module of its own so that a UI imports it without importing the runner. A listener is any
callable taking a `SearchEvent`; one that raises is logged and detached, so a broken UI never
stops a search.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from hypermax.trial import Trial

log = logging.getLogger(__name__)


class EventKind(str, Enum):
    """When listeners hear from the search. ``best_changed`` follows the ``trial_finished`` of
    the trial that became the best."""

    STARTED = "started"
    TRIAL_STARTED = "trial_started"
    TRIAL_REPORTED = "trial_reported"  # an intermediate value (``trial.intermediate[-1]``)
    TRIAL_FINISHED = "trial_finished"
    BEST_CHANGED = "best_changed"
    FINISHED = "finished"


@dataclass
class SearchEvent:
    """One thing that happened: ``finished`` of ``total`` trials are done, ``trial`` is the one
    the event is about (none for ``started`` and ``finished``), ``best`` the best so far."""

    kind: EventKind
    finished: int
    total: int
    trial: Trial | None = None
    best: Trial | None = None


Listener = Callable[[SearchEvent], None]


class Listeners:
    """The listeners of one search, told every event in the order they were added."""

    def __init__(self, listeners: Iterable[Listener] = ()):
        self._listeners = list(listeners)

    def add(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def __len__(self) -> int:
        return len(self._listeners)

    def emit(self, event: SearchEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("listener %r raised on %s: detached", listener, event.kind.value)
                self._listeners.remove(listener)
