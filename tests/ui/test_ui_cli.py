"""``hypermax ui``: its arguments, and the real app in a pseudo-terminal."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hypermax.cli import EXIT_CONFIG, main
from tests.ui.uikit import write_search

HYPERMAX = Path(sys.executable).with_name("hypermax")


def test_a_search_name_not_there_is_refused_with_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = write_search(tmp_path)
    assert main(["ui", written.url, "--search", "dmeo"]) == EXIT_CONFIG
    assert "no search named 'dmeo' there (it holds 'demo'); did you mean 'demo'?" in (
        capsys.readouterr().err
    )


def test_a_folder_without_searches_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ui", str(tmp_path)]) == EXIT_CONFIG
    assert "holds no search" in capsys.readouterr().err


@pytest.mark.slow
def test_hypermax_ui_in_a_terminal_shows_the_status_and_q_quits(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    written = write_search(tmp_path, state="finished")
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    child = pexpect.spawn(
        str(HYPERMAX),
        ["ui", str(written.folder), "--interval", "0.2"],
        dimensions=(30, 100),
        env=env,
        encoding="utf-8",
        timeout=20,
    )
    try:
        child.expect("finished 4/10")
        child.expect(r"best 0\.25 \(trial 4\)")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
