"""``results.graphs: true``: the report and charts appear in the results folder while the search
runs (a background process, trials never waiting for it) and at its end; a failure there is
logged and named on stderr, never fatal; ``false`` (the default) writes none."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

import hypermax.graphs
from hypermax.cli import main
from hypermax.graphs import LiveGraphs
from hypermax.storage import SQLStorage, sqlite_url
from hypermax.trial import TrialStatus

NAME = "live"
SPACE = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "min": -5, "max": 5},
        "y": {"type": "number", "min": 0, "max": 3},
    },
}

# trial 15 waits (up to 2 minutes) for the report a pass started after trial 10 writes, so the
# charts must appear while the search runs, and the search must go on while they are drawn
WAITING_MODEL = """\
import os, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "hypermax_results", "live", "analysis", "report.html")
calls = 0

def train(p):
    global calls
    calls += 1
    seen = None
    if calls == 15:
        deadline = time.monotonic() + 120
        while not os.path.exists(REPORT) and time.monotonic() < deadline:
            time.sleep(0.05)
        seen = os.path.exists(REPORT)
    return {"loss": (p["x"] - 1) ** 2 + p["y"], "saw_report": seen}
"""


def write(folder: Path, model: str, iterations: int, **sections: Any) -> Path:
    (folder / "model.py").write_text(model, "utf-8")
    config = {
        "hyperparameters": SPACE,
        "function": {"module": "model", "name": "train"},
        "search": {"name": NAME, "method": "random", "iterations": iterations, "seed": 4},
        **sections,
    }
    path = folder / "search.json"
    path.write_text(json.dumps(config), "utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def graph_passes() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "hypermax.graphs" in cmdline and process.status() != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


@pytest.fixture
def often(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pass after every 10 trials, without the 60 s wait."""
    monkeypatch.setattr(hypermax.graphs, "EVERY_SECONDS", 0.0)


@pytest.mark.slow
@pytest.mark.usefixtures("often")
def test_graphs_appear_while_the_search_runs_and_show_every_trial_at_the_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, WAITING_MODEL, 20, results={"graphs": True})
    code, _, err = run(capsys, config, "--no-ui")
    assert code == 0, err
    assert "graphs" not in err  # nothing went wrong, and stderr is no terminal
    results = tmp_path / "hypermax_results" / NAME
    with SQLStorage(sqlite_url(results), NAME, create=False) as storage:
        trials = storage.trials()
    assert [t.status for t in trials] == [TrialStatus.OK] * 20
    assert trials[14].metadata["saw_report"] is True  # written while trials 11-15 ran

    analysis = results / "analysis"
    report = (analysis / "report.html").read_text("utf-8")
    assert "20 successful trials" in report  # the last pass saw every trial
    assert {"history.png", "slice-x.png", "slice-y.png"} <= {
        p.name for p in (analysis / "png").iterdir()
    }
    assert (analysis / "csv" / "correlations.csv").is_file()
    assert not list(analysis.glob(".writing-*"))
    log = (results / "logs" / "graphs.log").read_text("utf-8")
    assert log.count("wrote ") >= 2  # during the run and at its end
    assert graph_passes() == []


def test_graphs_are_off_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = "def train(p):\n    return p['x'] ** 2\n"
    code, _, err = run(capsys, write(tmp_path, model, 3), "--no-ui")
    assert code == 0, err
    results = tmp_path / "hypermax_results" / NAME
    assert not (results / "analysis").exists()
    assert not (results / "logs" / "graphs.log").exists()


@pytest.mark.slow
def test_a_failing_pass_is_logged_and_named_once_and_the_search_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hypermax.graphs, "EVERY_SECONDS", 0.0)
    monkeypatch.setattr(hypermax.graphs, "EVERY_TRIALS", 2)
    model = "import time\n\ndef train(p):\n    time.sleep(0.2)\n    return p['x'] ** 2\n"
    config = write(tmp_path, model, 8, results={"graphs": True})
    results = tmp_path / "hypermax_results" / NAME
    results.mkdir(parents=True)
    (results / "analysis").write_text("a file where the analysis folder goes", "utf-8")

    code, out, err = run(capsys, config, "--no-ui")
    assert code == 0, err
    assert "Best trial:" in out
    log = results / "logs" / "graphs.log"
    shown = [line for line in err.splitlines() if "graphs not written" in line]
    assert len(shown) == 1, err  # the same failure is named once
    assert shown[0].startswith("hypermax: graphs not written (FileExistsError")
    assert shown[0].endswith(f"see {log}")
    assert "Traceback" in log.read_text("utf-8")
    with SQLStorage(sqlite_url(results), NAME, create=False) as storage:
        assert len(storage.trials()) == 8


def test_too_few_successes_for_graphs_say_so_at_the_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = "def train(p):\n    if p['x'] < 4.9:\n        raise ValueError('no')\n    return 1.0\n"
    config = write(tmp_path, model, 2, results={"graphs": True})
    code, _, err = run(capsys, config, "--no-ui")
    assert code == 0, err
    (line,) = err.splitlines()  # one line, saying why (the analysis's own words)
    assert line.startswith("hypermax: no graphs written: ")
    assert "succeeded" in line


def test_a_pass_waits_for_enough_trials_and_enough_time_and_ends_with_a_stop(
    tmp_path: Path,
) -> None:
    graphs = LiveGraphs(tmp_path, every_trials=3, every_seconds=3600)
    for _ in range(5):
        graphs.trial_finished()
    assert not graphs.running  # enough trials, not enough time
    graphs = LiveGraphs(tmp_path, every_trials=3, every_seconds=0)
    graphs.trial_finished()
    graphs.trial_finished()
    assert not graphs.running  # enough time, not enough trials
    graphs.trial_finished()
    assert graphs.running
    started = time.monotonic()
    graphs.stop()  # as on Ctrl-C: the pass in flight is ended, at once
    assert not graphs.running
    assert time.monotonic() - started < 5
    assert graph_passes() == []
