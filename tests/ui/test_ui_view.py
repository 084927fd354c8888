"""What the console UI shows, as plain functions: durations, ETA, the kill-limit bar, a log's
tail, the loss chart."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hypermax.live import SearchStatus
from hypermax.storage.base import Heartbeat
from hypermax.trial import Trial, TrialStatus
from hypermax.ui.chart import loss_chart_info, render_chart
from hypermax.ui.view import (
    duration,
    elapsed_and_eta,
    limit_bar,
    masked_config,
    read_tail,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "—"), (4.21, "4.2s"), (185, "3m05s"), (3720, "1h02m"), (3 * 86400, "3d00h")],
)
def test_durations_read_at_a_glance(seconds: float | None, shown: str) -> None:
    assert duration(seconds) == shown


def done(number: int, at: datetime, status: TrialStatus = TrialStatus.OK) -> Trial:
    return Trial(number, {}, {}, status=status, loss=1.0, finished_at=at)


def test_the_eta_is_the_trials_left_at_the_pace_of_this_run() -> None:
    started = NOW - timedelta(seconds=100)
    beat = Heartbeat(os.getpid(), socket.gethostname(), "tpe", 20, started, NOW)
    # two trials from an earlier run count as finished but not towards this run's pace
    trials = {n: done(n, started - timedelta(hours=1)) for n in (1, 2)}
    trials |= {n: done(n, started + timedelta(seconds=10 * n)) for n in range(3, 8)}
    status = SearchStatus("s", "running", beat, {TrialStatus.OK: 7})
    elapsed, eta = elapsed_and_eta(status, trials, NOW)
    assert elapsed == 100 and eta == pytest.approx(13 * 100 / 5)
    ended = SearchStatus("s", "finished", beat, {TrialStatus.OK: 7})
    assert elapsed_and_eta(ended, trials, NOW + timedelta(days=1)) == (100, None)


def test_the_limit_bar_points_at_the_nearest_limit() -> None:
    assert limit_bar({"ram": 0.5, "time": 0.9}, width=10) == "█████████░ 90% time"
    assert limit_bar({"ram": 1.4}, width=4) == "████ 140% ram"
    assert limit_bar({}) == "" and limit_bar(None) == ""


def test_a_big_log_is_read_from_its_tail_and_says_so(tmp_path: Path) -> None:
    log = tmp_path / "trial-1.log"
    log.write_text("".join(f"line {n}\n" for n in range(200_000)), encoding="utf-8")
    text, note = read_tail(log, limit=1000)
    assert text.endswith("line 199999\n") and text.startswith("line ")
    assert len(text) <= 1000 and note is not None and str(log) in note
    small = tmp_path / "small.log"
    small.write_text("only\n")
    assert read_tail(small) == ("only\n", None)


def test_a_database_password_is_masked_in_the_config() -> None:
    shown = masked_config({"search": {"storage": "postgresql://me:pw@host/db"}})
    assert "me:***@host" in shown and "pw" not in shown
    assert masked_config(None) == "no config saved with this search"


def scored(number: int, loss: float, status: TrialStatus = TrialStatus.OK) -> Trial:
    return Trial(number, {}, {}, status=status, loss=loss)


def test_the_chart_info_keeps_the_best_so_far_of_successful_trials() -> None:
    trials = [scored(1, 3.0), scored(2, 0.5, TrialStatus.KILLED), scored(3, 2.0), scored(4, 4)]
    info = loss_chart_info(trials)
    assert info.points == [(1, 3.0), (2, 0.5), (3, 2.0), (4, 4.0)]
    assert info.best == [(1, 3.0), (2, 3.0), (3, 2.0), (4, 2.0)]  # a killed loss is no best
    assert loss_chart_info(trials, last=2).points == [(3, 2.0), (4, 4.0)]
    logged = loss_chart_info([scored(1, 0.0), scored(2, 1.0)], log=True)
    assert logged.points == [(2, 1.0)] and logged.hidden == 1


def test_the_chart_fits_its_size_with_the_extremes_on_the_axis() -> None:
    trials = [scored(n, float(n % 7) + 0.5) for n in range(1, 301)]
    drawn = render_chart(loss_chart_info(trials), 60, 12).plain.splitlines()
    assert len(drawn) == 12 and all(len(line) <= 60 for line in drawn)
    assert drawn[0].startswith("6.5│") and drawn[-3].startswith("0.5│")
    assert drawn[-1].strip().startswith("trial 1") and drawn[-1].endswith("300")
    assert render_chart(loss_chart_info([]), 60, 12).plain == "no trial has a loss yet"
