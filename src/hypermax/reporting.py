"""What a model calls while it trains: ``hypermax.report(value, step)``.

Each report reaches the search at once and is saved with the trial. With
``search.early_stopping`` the search compares it with what other trials reported at the same
step and, when it is poor, tells the trial to stop: the next ``report()`` raises
``TrialPruned``, which the model may catch to clean up (it should then re-raise it, or simply
return). Outside a search, for instance when the model is run by hand, ``report`` does nothing.
"""

from __future__ import annotations

from multiprocessing.connection import Connection

from hypermax.execution.channel import send_message


class TrialPruned(Exception):
    """Raised by ``report()`` in a trial the search has stopped early."""


_channel: Connection | None = None
_number = 0
_reports = 0


def report(value: float, step: int | None = None) -> None:
    """Report an intermediate loss (lower is better) at ``step`` (epoch, round; counted from
    0 when not given)."""
    global _reports
    if _channel is None:
        return
    step = _reports if step is None else int(step)
    _reports += 1
    send_message(_channel, "report", _number, step, float(value))
    while _channel.poll(0):
        if _channel.recv() == ("prune", _number):
            raise TrialPruned(f"trial {_number} stopped early at step {step}")


def begin_trial(channel: Connection, number: int) -> None:
    """The worker's side: reports from now on belong to trial ``number``."""
    global _channel, _number, _reports
    _channel, _number, _reports = channel, number, 0


def end_trial() -> None:
    global _channel
    _channel = None
