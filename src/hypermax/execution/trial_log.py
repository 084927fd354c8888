"""Trial logs of bounded size: the first and the last part of what a trial printed.

A model that prints 100 MB per trial would otherwise store 100 MB per trial. The head keeps
how the trial started (its parameters, the first epochs), the tail how it ended (the error);
the middle is cut out while the trial runs, so the disk never holds much more than the cap.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

MARKER = b"\n[hypermax: the middle of this log was left out: it grew past function.max_log_size]\n"
_SLACK = 1.5  # while the trial runs, cut when the log is this much over the cap


def cap_log(path: Path, limit: int, running: bool = False) -> None:
    """Cut the middle out of the log at ``path`` when it is over ``limit`` bytes, keeping
    about half of ``limit`` from its start and half from its end. ``running``: the trial may
    still be writing (appending), so cut only well past the cap, to cut rarely."""
    with contextlib.suppress(OSError):
        size = path.stat().st_size
        if size <= limit * (_SLACK if running else 1):
            return
        half = max(limit - len(MARKER), 0) // 2
        with open(path, "r+b") as log:
            log.seek(size - half)
            tail = log.read(half)
            log.seek(half)
            log.write(MARKER + tail)
            log.truncate()
