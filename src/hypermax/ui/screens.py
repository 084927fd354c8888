"""The console UI's screens above the main one: picking a search, a trial's detail, typing
an export's file name, and asking before the UI quits a search it owns."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, Log, OptionList, Static, TabbedContent, TabPane

from hypermax.live import SearchRef
from hypermax.trial import Trial
from hypermax.ui.view import log_file, read_tail, trial_summary


class PickerScreen(Screen[SearchRef]):
    """Several searches at the location: pick the one to follow."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "app.quit", "Quit")]

    def __init__(self, refs: list[SearchRef]):
        super().__init__()
        self.refs = refs

    def compose(self) -> ComposeResult:
        yield Label("Which search? (Enter follows it)", id="picker-title")
        yield OptionList(*(ref.name for ref in self.refs), id="picker")
        yield Footer()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.refs[event.option_index])


class TrialScreen(Screen[None]):
    """One trial: its summary (parameters, metrics, metadata, error, traceback) and its log,
    the log's tail read in a worker thread."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "app.pop_screen", "Back")]

    def __init__(self, trial: Trial, folder: Path | None):
        super().__init__()
        self.trial = trial
        self.folder = folder

    def compose(self) -> ComposeResult:
        with TabbedContent(id="trial-tabs"):
            with TabPane("Trial", id="trial-summary-tab"), VerticalScroll():
                yield Static(trial_summary(self.trial), id="trial-summary", markup=False)
            with TabPane("Log", id="trial-log-tab"):
                yield Static("", id="trial-log-note", markup=False)
                yield Log(id="trial-log", highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self._load_log()

    @work(thread=True, exit_on_error=False)
    def _load_log(self) -> None:
        path = log_file(self.trial, self.folder)
        text, note = "", "this trial has no log"
        if path is not None:
            try:
                text, tail_note = read_tail(path)
                note = tail_note or str(path)
            except OSError as error:
                note = f"cannot read {path}: {error.strerror or error}"
        self.app.call_from_thread(self._show_log, text, note)

    def _show_log(self, text: str, note: str) -> None:
        self.query_one("#trial-log-note", Static).update(note)
        log = self.query_one("#trial-log", Log)
        log.write(text)
        log.scroll_home(animate=False)


class FileNameScreen(ModalScreen[Path | None]):
    """Ask where an export goes; Enter writes it, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, default: Path):
        super().__init__()
        self.question = question
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question)
            yield Input(str(self.default), id="file-name")
            yield Label("Enter: write · Escape: cancel", classes="hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        self.dismiss(Path(name).expanduser() if name else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class StopScreen(ModalScreen[str]):
    """Quitting the UI of a search it owns: stop the search, or keep it running."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('stop')", "Stop the search"),
        Binding("n", "answer('keep')", "Keep it running"),
        Binding("escape", "answer('cancel')", "Cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Stop the search?", id="stop-question")
            yield Label(
                "y: stop it (running trials are recorded as interrupted)\n"
                "n: keep it running in the background\n"
                "Escape: back to the UI"
            )

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)
