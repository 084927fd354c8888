"""The console UI: a Textual app that follows one search from its storage.

It polls a `Follower` every ``poll_interval`` seconds in a worker thread and applies what
changed on the screen's thread, so a slow database never freezes the screen. It only reads:
the search runs in another process and goes on when the UI quits, except that a UI started
with ``owner=PID`` (the search that opened it) may stop that search by sending it SIGINT.
A UI error is logged to the results folder (``logs/ui.log``) and shown; it stops nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane, TextArea, Tree
from textual.widgets.tree import TreeNode

from hypermax.live import Follower, SearchRef, SearchStatus
from hypermax.storage.export import best_dict, best_json, trials_csv, write_atomic
from hypermax.trial import Trial, TrialStatus
from hypermax.ui.chart import loss_chart_info, render_chart
from hypermax.ui.screens import FileNameScreen, PickerScreen, StopScreen, TrialScreen
from hypermax.ui.view import (
    FILTERS,
    RUNNING_COLUMNS,
    TRIAL_COLUMNS,
    duration,
    loss_text,
    masked_config,
    matches,
    nested_json,
    running_row,
    sort_key,
    status_lines,
    trial_row,
)

LAST_N = 100  # trials the loss chart shows when not showing all


class LossChart(Widget):
    """Every trial's loss and the best so far, redrawn to the widget's size."""

    log_scale: reactive[bool] = reactive(False)
    last_only: reactive[bool] = reactive(False)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.trials: list[Trial] = []

    def render(self) -> Text:
        info = loss_chart_info(
            self.trials, last=LAST_N if self.last_only else None, log=self.log_scale
        )
        shown = f"last {LAST_N} trials" if self.last_only else "all trials"
        head = Text(
            f"loss ({'log' if self.log_scale else 'linear'} scale, {shown}) · "
            "dots: trials · line: best so far",
            style="bold",
        )
        if info.hidden:
            head.append(f" · {info.hidden} at or below 0 not drawn", style="dim")
        size = self.content_size
        body = render_chart(info, max(size.width, 10), max(size.height - 1, 3))
        return Text("\n").join([head, body])


class HypermaxApp(App[int]):
    """Follow the search at ``refs`` (a picker first when there are several)."""

    CSS_PATH = "app.tcss"
    TITLE = "hypermax"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_ui", "Quit"),
        Binding("e", "export_trials", "Export CSV"),
        Binding("b", "export_best", "Best JSON"),
        Binding("s", "stop_search", "Stop search"),
        Binding("l", "toggle_log", "Log scale"),
        Binding("n", "toggle_last", f"All/last {LAST_N}"),
        Binding("f", "cycle_filter", "Filter"),
    ]

    def __init__(
        self,
        refs: list[SearchRef],
        poll_interval: float = 1.0,
        owner: int | None = None,
    ):
        super().__init__()
        if not refs:
            raise ValueError("no search to follow")
        self.refs = refs
        self.poll_interval = poll_interval
        self.owner = owner
        self.ref: SearchRef | None = None
        self.follower: Follower | None = None
        self.trials: dict[int, Trial] = {}  # the screen's copy, changed on its thread only
        self.status: SearchStatus | None = None
        self.samples: dict[int, dict[str, Any]] = {}
        self.filter = "all"
        self.polls = 0  # polls applied: tests wait on it
        self._rows: set[str] = set()
        self._sorted: tuple[str, bool] | None = None  # column and reverse
        self._best_number: int | None = None
        self._polling = False
        self._config_shown = False
        self._last_error: str | None = None
        self._ui_logger: logging.Logger | None = None

    # layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("hypermax: reading the search…", id="status", markup=False)
        with TabbedContent(id="tabs", initial="best"):
            with TabPane("Best", id="best"):
                yield Static("no trial has succeeded yet", id="best-summary", markup=False)
                yield Tree("parameters", id="best-params")
            with TabPane("Loss", id="loss"):
                yield LossChart(id="chart")
            with TabPane("Running", id="running"):
                yield DataTable(id="running-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Trials", id="trials"):
                yield Static("", id="trials-filter", markup=False)
                yield DataTable(id="trials-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Config", id="config"):
                yield TextArea("", id="config-text", read_only=True)
        yield Footer()

    def on_mount(self) -> None:
        for column in RUNNING_COLUMNS:
            self.query_one("#running-table", DataTable).add_column(column, key=column)
        for column in TRIAL_COLUMNS:
            self.query_one("#trials-table", DataTable).add_column(column, key=column)
        self._show_filter()
        if len(self.refs) == 1:
            self._follow(self.refs[0])
        else:
            self.push_screen(PickerScreen(self.refs), self._follow)

    def _follow(self, ref: SearchRef | None) -> None:
        if ref is None:
            return
        self.ref = ref
        self.sub_title = ref.name
        self.set_interval(self.poll_interval, self._tick)
        self._tick()

    # polling ---------------------------------------------------------------------------------
    def _tick(self) -> None:
        if self._polling or self.ref is None:
            return
        self._polling = True
        self.run_worker(self._fetch, thread=True, group="poll", exit_on_error=False)

    def _fetch(self) -> None:
        """In a worker thread: what changed, the status, the live samples."""
        try:
            config = None
            if self.follower is None:
                assert self.ref is not None
                self.follower = Follower(self.ref)
                config = self.follower.storage.load_config()
            changed = self.follower.poll()
            status = self.follower.status()
            samples = self.follower.samples()
            self._from_thread(self._apply, changed, status, samples, config)
        except Exception as error:
            self._from_thread(self.report_error, "reading the search failed", error)
        finally:
            self._polling = False

    def _from_thread(self, callback: Any, *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app is closing
            self.call_from_thread(callback, *args)

    def _apply(
        self,
        changed: list[Trial],
        status: SearchStatus,
        samples: dict[int, dict[str, Any]],
        config: dict[str, Any] | None,
    ) -> None:
        try:
            for trial in changed:
                self.trials[trial.number] = trial
            self.status, self.samples = status, samples
            self._last_error = None
            if config is not None or not self._config_shown:
                self._config_shown = True
                self.query_one("#config-text", TextArea).load_text(masked_config(config))
            self._show_status()
            self._show_best()
            if changed:
                chart = self.query_one("#chart", LossChart)
                chart.trials = list(self.trials.values())
                chart.refresh()
                self._update_trials_table(changed)
            self._show_running()
            self.polls += 1
        except Exception as error:
            self.report_error("showing the search failed", error)

    # panels ----------------------------------------------------------------------------------
    def _show_status(self) -> None:
        if self.status is None:
            return
        lines = status_lines(self.status, self.trials)
        if self.owner is not None:
            lines[0] += f" · owned by pid {self.owner}"
        self.query_one("#status", Static).update("\n".join(lines))

    def _show_best(self) -> None:
        best = self.status.best if self.status else None
        if best is None or best.number == self._best_number:
            return
        self._best_number = best.number
        lines = [
            f"best trial {best.number} · loss {loss_text(best.loss)} · time {duration(best.time)}"
        ]
        if best.metrics:
            lines += ["metrics: " + nested_json(best.metrics)]
        if best.metadata:
            lines += ["metadata: " + nested_json(best.metadata)]
        self.query_one("#best-summary", Static).update("\n".join(lines))
        tree = self.query_one("#best-params", Tree)
        tree.clear()
        tree.root.set_label(f"parameters of trial {best.number} (as the model receives them)")
        _fill_tree(tree.root, best.params)
        tree.root.expand_all()

    def _show_running(self) -> None:
        table = self.query_one("#running-table", DataTable)
        table.clear()
        now = datetime.now(timezone.utc)
        running = [t for t in self.trials.values() if t.status is TrialStatus.RUNNING]
        for trial in sorted(running, key=lambda t: t.number):
            table.add_row(*running_row(trial, self.samples.get(trial.number), now))

    def _update_trials_table(self, changed: list[Trial]) -> None:
        """Add, update or drop only the rows of the trials that changed."""
        table = self.query_one("#trials-table", DataTable)
        for trial in changed:
            key = str(trial.number)
            if matches(trial, self.filter):
                row = trial_row(trial)
                if key in self._rows:
                    for column, value in zip(TRIAL_COLUMNS, row, strict=True):
                        table.update_cell(key, column, value)
                else:
                    table.add_row(*row, key=key)
                    self._rows.add(key)
            elif key in self._rows:
                table.remove_row(key)
                self._rows.discard(key)
        if self._sorted:
            self._sort_trials()

    def _rebuild_trials_table(self) -> None:
        table = self.query_one("#trials-table", DataTable)
        table.clear()
        self._rows.clear()
        self._update_trials_table([self.trials[n] for n in sorted(self.trials)])

    def _sort_trials(self) -> None:
        assert self._sorted is not None
        column, reverse = self._sorted
        self.query_one("#trials-table", DataTable).sort(
            "trial", key=lambda number: sort_key(self.trials[number], column), reverse=reverse
        )

    def _show_filter(self) -> None:
        shown = " · ".join(f"[{name}]" if name == self.filter else name for name in FILTERS)
        self.query_one("#trials-filter", Static).update(
            f"show: {shown} (f) · sort: click a column · Enter: open a trial"
        )

    @on(DataTable.HeaderSelected, "#trials-table")
    def _sort_by(self, event: DataTable.HeaderSelected) -> None:
        column = str(event.column_key.value)
        reverse = self._sorted == (column, False)
        self._sorted = (column, reverse)
        self._sort_trials()

    @on(DataTable.RowSelected, "#trials-table")
    @on(DataTable.RowSelected, "#running-table")
    def _open_trial(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "trials-table":
            number = int(str(event.row_key.value))
        else:
            number = int(str(event.data_table.get_row(event.row_key)[0]))
        trial = self.trials.get(number)
        if trial is not None:
            self.push_screen(TrialScreen(trial, self.ref.folder if self.ref else None))

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    # actions ---------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_search":
            return self.owner is not None
        tab_only = {"toggle_log": "loss", "toggle_last": "loss", "cycle_filter": "trials"}
        if action in tab_only:
            if len(self.screen_stack) > 1:  # a trial or a dialog above the tabs
                return False
            try:
                active = self.query_one("#tabs", TabbedContent).active
            except Exception:
                return False
            return active == tab_only[action]
        return True

    def action_toggle_log(self) -> None:
        chart = self.query_one("#chart", LossChart)
        chart.log_scale = not chart.log_scale

    def action_toggle_last(self) -> None:
        chart = self.query_one("#chart", LossChart)
        chart.last_only = not chart.last_only

    def action_cycle_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self._show_filter()
        self._rebuild_trials_table()

    def _export_folder(self) -> Path:
        return self.ref.folder if self.ref and self.ref.folder else Path.cwd()

    def action_export_trials(self) -> None:
        default = self._export_folder() / "trials-export.csv"
        self.push_screen(FileNameScreen("Export every trial as CSV to:", default), self._write_csv)

    def action_export_best(self) -> None:
        default = self._export_folder() / "best-export.json"
        self.push_screen(
            FileNameScreen("Export the best parameters as JSON to:", default), self._write_best
        )

    def _write_csv(self, path: Path | None) -> None:
        if path is not None:
            trials = [self.trials[n] for n in sorted(self.trials)]
            self._write(path, lambda: trials_csv(trials), f"{len(trials)} trials")

    def _write_best(self, path: Path | None) -> None:
        if path is None:
            return
        best = best_dict([self.trials[n] for n in sorted(self.trials)])
        if best is None:
            self.notify("no trial has succeeded yet: nothing to export", severity="warning")
            return
        self._write(path, lambda: best_json(best), f"the best parameters (trial {best['trial']})")

    def _write(self, path: Path, text: Any, what: str) -> None:
        try:
            write_atomic(path.resolve(), text())
        except Exception as error:
            self.report_error(f"{path} not written", error)
            return
        self.notify(f"wrote {what} to {path.resolve()}", title="exported", timeout=8)

    def action_stop_search(self) -> None:
        if self.owner is None:
            return
        try:
            os.kill(self.owner, signal.SIGINT)
        except OSError as error:
            self.report_error(f"could not stop the search (pid {self.owner})", error)
            return
        self.notify(
            f"stopping the search (pid {self.owner}): running trials are recorded as "
            "interrupted; run it again to resume",
            timeout=8,
        )

    def action_quit_ui(self) -> None:
        if self.owner is None or self.status is None or self.status.state != "running":
            self.exit(0)
            return

        def answered(answer: str | None) -> None:
            if answer == "stop":
                self.action_stop_search()
                self.exit(0)
            elif answer == "keep":
                self.exit(0)

        self.push_screen(StopScreen(), answered)

    # errors ----------------------------------------------------------------------------------
    def report_error(self, what: str, error: BaseException) -> None:
        """Log a UI error beside the results and show it once; nothing stops."""
        message = f"{what}: {type(error).__name__}: {error}"
        with contextlib.suppress(Exception):  # no log either: the notification is all
            self._ui_log().error(message, exc_info=error)
        if message != self._last_error:
            self._last_error = message
            self.notify(f"{message}\n(logged to {self.log_path})", severity="error", timeout=10)

    def _handle_exception(self, error: Exception) -> None:
        """Textual's hook for an error no handler caught: it ends the UI (never the search,
        which runs in another process); the error goes to the UI's log first."""
        with contextlib.suppress(Exception):
            self._ui_log().error("the console UI stopped on an error", exc_info=error)
        super()._handle_exception(error)

    @property
    def log_path(self) -> Path:
        folder = self.ref.folder if self.ref and self.ref.folder else None
        if folder is not None:
            return folder / "logs" / "ui.log"
        return Path(tempfile.gettempdir()) / "hypermax-ui.log"

    def _ui_log(self) -> logging.Logger:
        if self._ui_logger is None:
            path = self.log_path
            path.parent.mkdir(parents=True, exist_ok=True)
            logger = logging.getLogger(f"hypermax.ui.{id(self)}")
            logger.propagate = False
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
            self._ui_logger = logger
        return self._ui_logger

    def on_unmount(self) -> None:
        if self.follower is not None:
            self.follower.close()
        if self._ui_logger is not None:
            for handler in list(self._ui_logger.handlers):
                handler.close()
                self._ui_logger.removeHandler(handler)


def _fill_tree(node: TreeNode[Any], value: Any) -> None:
    """The nested parameters as tree nodes: objects and lists open, values as leaves."""
    if isinstance(value, dict):
        for key, item in value.items():
            _add_node(node, str(key), item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _add_node(node, f"[{index}]", item)
    else:
        node.add_leaf(repr(value))


def _add_node(node: TreeNode[Any], name: str, value: Any) -> None:
    if isinstance(value, (dict, list)):
        _fill_tree(node.add(name), value)
    else:
        node.add_leaf(Text.assemble((name, "bold"), ": ", repr(value)))
