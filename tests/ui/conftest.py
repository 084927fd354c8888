"""The console UI's fixtures (helpers in uikit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.uikit import Written, write_search


@pytest.fixture
def search(tmp_path: Path) -> Written:
    """A running search of ten trials, five written so far (see ``write_search``)."""
    return write_search(tmp_path)
