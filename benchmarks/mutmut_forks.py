"""A pytest plugin that `benchmarks/mutate.py` loads into mutmut's runs.

mutmut learns which tests reach a function from the calls made in the test process, so code
that runs only in a process forked from it (the executor's workers: the trial loop, signal
handling) would be listed "no tests" and never tried. A forked child's calls are appended to
a file; after each test, the test process adds them to its own, as if it had made them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from mutmut.state import state

HITS = Path(tempfile.gettempdir()) / f"mutmut-fork-hits-{os.getpid()}.txt"


class _Forwarding(set[str]):
    """The set of functions reached, in a forked child: each new one is also written out."""

    def add(self, name: str) -> None:
        if name not in self:
            super().add(name)
            with open(HITS, "a", encoding="utf-8") as hits:
                hits.write(name + "\n")


def _in_child() -> None:
    state()._stats = _Forwarding(state()._stats)


os.register_at_fork(after_in_child=_in_child)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: Any, nextitem: Any) -> None:
    """Before mutmut files this test's calls: add those its forked children made."""
    if HITS.exists():
        state()._stats.update(HITS.read_text(encoding="utf-8").split())
        HITS.unlink()
