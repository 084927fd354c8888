"""The console UI driven by Textual's pilot at 80×24: each tab, each action, following."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Log, Static, TabbedContent, TextArea, Tree

from hypermax.storage import SQLStorage, sqlite_url
from hypermax.storage.export import best_dict, best_json, trials_csv
from hypermax.trial import TrialStatus
from hypermax.ui import HypermaxApp
from hypermax.ui.app import LossChart
from hypermax.ui.screens import FileNameScreen, PickerScreen, TrialScreen
from tests.ui.uikit import (
    NAME,
    Written,
    drive,
    make_app,
    screen_text,
    settle,
    trial,
    write_search,
)


def text_of(app: HypermaxApp, selector: str) -> str:
    return str(app.query_one(selector, Static).content)


def test_the_status_shows_the_counts_the_best_loss_and_an_eta(search: Written) -> None:
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        status = text_of(app, "#status")
        assert f"{NAME} · running · tpe" in status
        assert "finished 4/10 · running 1 · failed 1 · killed 1 · pruned 0" in status
        assert "best 0.25 (trial 4)" in status
        assert "ETA —" not in status  # 4 finished in this run: a pace to go by
        shown = screen_text(app)
        assert "finished 4/10" in shown and "best 0.25 (trial 4)" in shown

    drive(app, body)


def test_the_best_tab_shows_the_parameters_nested_with_metrics(search: Written) -> None:
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        summary = text_of(app, "#best-summary")
        assert "best trial 4 · loss 0.25" in summary and '"auc": 0.95' in summary
        tree = app.query_one("#best-params", Tree)
        labels = _labels(tree.root)
        assert {"model", "lr: 0.04", "layers", "[0]: 64", "activation: 'relu'"} <= labels

    drive(app, body)


def _labels(node) -> set[str]:
    found = {str(node.label)}
    for child in node.children:
        found |= _labels(child)
    return found


def test_the_loss_chart_draws_and_toggles_log_scale_and_last_trials(search: Written) -> None:
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        app.query_one("#tabs", TabbedContent).active = "loss"
        await pilot.pause()
        chart = app.query_one("#chart", LossChart)
        assert "linear scale, all trials" in screen_text(app)
        assert any("⠁" <= ch <= "⣿" for ch in screen_text(app))  # braille dots drawn
        await pilot.press("l", "n")
        assert chart.log_scale and chart.last_only
        assert "log scale, last 100 trials" in screen_text(app)

    drive(app, body)


def test_running_trials_show_their_live_sample_and_nearest_limit(search: Written) -> None:
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        table = app.query_one("#running-table", DataTable)
        assert table.row_count == 1
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[:5] == ["5", "12.5s", "512 MiB", "50%", "2,048 MiB"]
        assert row[5] == "█████░░░ 62% ram" and row[6] == "step 3: 0.7"

    drive(app, body)


def test_the_trials_table_has_every_trial_and_filters(search: Written) -> None:
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        app.query_one("#tabs", TabbedContent).active = "trials"
        await pilot.pause()
        table = app.query_one("#trials-table", DataTable)
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == [1, 2, 3, 4, 5]
        await pilot.press("f")
        assert [table.get_row_at(i)[1] for i in range(table.row_count)] == ["failed"]
        await pilot.press("f")
        assert [table.get_row_at(i)[1] for i in range(table.row_count)] == ["killed"]
        assert "[killed]" in text_of(app, "#trials-filter")
        await pilot.press("f")
        assert table.row_count == 5

    drive(app, body)


def test_clicking_a_column_sorts_by_it_and_again_reverses(search: Written) -> None:
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        app.query_one("#tabs", TabbedContent).active = "trials"
        await pilot.pause()
        table = app.query_one("#trials-table", DataTable)
        columns = list(table.columns.values())
        x = sum(c.get_render_width(table) for c in columns[:2]) + 2  # into "loss"
        await pilot.click("#trials-table", offset=(x, 0))
        order = [table.get_row_at(i)[0] for i in range(table.row_count)]
        assert order == [4, 1, 3, 2, 5]  # by loss, none last
        await pilot.click("#trials-table", offset=(x, 0))
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == order[::-1]

    drive(app, body)


def test_enter_opens_a_trial_with_its_error_traceback_and_log(search: Written) -> None:
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        app.query_one("#tabs", TabbedContent).active = "trials"
        await pilot.pause()
        await pilot.press("f")  # failed only: trial 2
        app.query_one("#trials-table", DataTable).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TrialScreen)
        summary = str(app.screen.query_one("#trial-summary", Static).content)
        assert "trial 2 · failed" in summary and "error:\nValueError: bad" in summary
        assert 'File "model.py"' in summary and '"lr": 0.02' in summary
        log = app.screen.query_one("#trial-log", Log)
        for _ in range(100):
            if log.line_count:
                break
            await pilot.pause(0.02)
        assert list(log.lines)[:3] == ["epoch 1", "epoch 2", "ValueError: bad"]
        assert str(search.folder / "logs" / "trial-2.log") in str(
            app.screen.query_one("#trial-log-note", Static).content
        )
        await pilot.press("escape")
        assert not isinstance(app.screen, TrialScreen)

    drive(app, body)


def _export(search: Written, key: str, name: str) -> tuple[Path, HypermaxApp]:
    app = make_app(search.folder)
    target = search.folder.parent / name

    async def body(pilot: Pilot) -> None:
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, FileNameScreen)
        field = app.screen.query_one("#file-name", Input)
        assert Path(field.value).parent == search.folder  # the default: beside the results
        field.value = str(target)
        await pilot.press("enter")
        await pilot.pause()

    drive(app, body)
    assert any(f"to {target}" in note.message for note in app._notifications)
    return target, app


def test_e_exports_every_trial_as_the_csv_export_writes_it(search: Written) -> None:
    target, app = _export(search, "e", "out.csv")
    with SQLStorage(search.url, NAME, create=False) as storage:
        trials = storage.trials()
    assert target.read_text(encoding="utf-8") == trials_csv(trials)
    assert any("wrote 5 trials" in note.message for note in app._notifications)


def test_b_exports_the_best_parameters_as_best_json(search: Written) -> None:
    target, _ = _export(search, "b", "best.json")
    with SQLStorage(search.url, NAME, create=False) as storage:
        best = best_dict(storage.trials())
    assert best is not None and best["trial"] == 4
    assert target.read_text(encoding="utf-8") == best_json(best)
    assert json.loads(target.read_text())["params"]["model"]["layers"] == [64, 32]


def test_the_config_tab_shows_the_saved_config_without_a_password(tmp_path: Path) -> None:
    config = {"search": {"name": NAME, "storage": "postgresql://me:secret@db/x"}}
    written = write_search(tmp_path, config=config)
    app = make_app(written.url)

    async def body(pilot: Pilot) -> None:
        text = app.query_one("#config-text", TextArea).text
        assert "postgresql://me:***@db/x" in text and "secret" not in text

    drive(app, body)


def test_resizing_to_200_by_60_reflows_every_panel(search: Written) -> None:
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        await pilot.resize_terminal(200, 60)
        app.query_one("#tabs", TabbedContent).active = "loss"
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert len(lines) == 60 and all(len(line) == 200 for line in lines)
        assert "finished 4/10" in lines[1]
        chart = app.query_one("#chart", LossChart)
        assert chart.size.width == 200 and chart.size.height > 40

    drive(app, body)


def test_a_trial_saved_after_the_app_started_appears_within_two_polls(search: Written) -> None:
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        search.add(trial(5, TrialStatus.OK, 0.125), trial(6, TrialStatus.RUNNING))
        await settle(pilot, app, polls=2)
        table = app.query_one("#trials-table", DataTable)
        assert table.row_count == 6 and table.get_row("5")[1] == "ok"
        assert "best 0.125 (trial 5)" in text_of(app, "#status")
        assert [row[0] for row in _rows(app, "#running-table")] == ["6"]

    drive(app, body)


def _rows(app: HypermaxApp, selector: str) -> list[list[str]]:
    table = app.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def test_several_searches_at_the_location_are_picked_from_a_list(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    for name in ("alpha", "beta"):
        with SQLStorage(url, name) as storage:
            storage.save_trial(trial(1, TrialStatus.OK, 1.0 if name == "alpha" else 2.0))
    app = make_app(url)

    async def body(pilot: Pilot) -> None:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("down", "enter")
        await settle(pilot, app)
        assert app.ref is not None and app.ref.name == "beta"
        assert "best 2 (trial 1)" in text_of(app, "#status")

    drive(app, body)


def test_a_ui_error_is_logged_and_shown_and_the_ui_carries_on(
    search: Written, monkeypatch
) -> None:
    from hypermax.live import Follower

    real = Follower.poll
    calls = {"n": 0}

    def flaky(self):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("database went away")
        return real(self)

    monkeypatch.setattr(Follower, "poll", flaky)
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        await settle(pilot, app)  # the failed read, then a good one
        log = search.folder / "logs" / "ui.log"
        assert "reading the search failed: RuntimeError: database went away" in log.read_text()
        assert any("database went away" in n.message for n in app._notifications)
        assert app.is_running

    drive(app, body)


def test_q_quits_the_ui_only(search: Written) -> None:
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        await pilot.press("q")

    drive(app, body)
    assert app.return_code == 0


@pytest.mark.slow
def test_ten_thousand_trials_load_at_once_and_a_new_one_is_added_alone(
    search: Written,
) -> None:
    losses = {n: (n * 7919 % 1000) / 100 + 0.01 for n in range(6, 10_006)}
    search.add(*(trial(n, TrialStatus.OK, loss) for n, loss in losses.items()))
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        table = app.query_one("#trials-table", DataTable)
        assert table.row_count == 10_005
        first_row = table.get_row_at(0)
        search.add(trial(10_006, TrialStatus.OK, 0.001))
        started = time.perf_counter()
        await settle(pilot, app, polls=2)
        assert time.perf_counter() - started < 2.0
        assert table.row_count == 10_006 and table.get_row_at(0) == first_row  # not rebuilt
        assert "best 0.001 (trial 10006)" in text_of(app, "#status")

    started = time.perf_counter()
    drive(app, body)
    assert time.perf_counter() - started < 15.0


def test_an_error_no_handler_caught_ends_the_ui_and_is_logged(
    search: Written, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: HypermaxApp) -> None:
        raise ZeroDivisionError("a bug in the UI")

    monkeypatch.setattr(HypermaxApp, "action_cycle_filter", broken)
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        app.query_one("#tabs", TabbedContent).active = "trials"
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()

    with pytest.raises(ZeroDivisionError):
        drive(app, body)
    logged = (search.folder / "logs" / "ui.log").read_text()
    assert "the console UI stopped on an error" in logged and "a bug in the UI" in logged


def test_a_search_the_runner_wrote_is_shown_as_finished(tmp_path: Path) -> None:
    from tests.test_live import run_search

    folder = run_search(tmp_path, "real", iterations=6)
    app = make_app(folder)

    async def body(pilot: Pilot) -> None:
        status = text_of(app, "#status")
        assert "real · finished" in status and "finished 6/6" in status
        assert "failed 1 · killed 1" in status
        assert app.query_one("#trials-table", DataTable).row_count == 6

    drive(app, body)
