"""Errors a user can act on: each names where the problem is and what to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config: the dotted config path and what is wrong there."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(config)'}: {self.message}"


class ConfigError(ValueError):
    """A config (or a value given in place of one) is invalid.

    Carries every problem found, so a user fixes them all in one round.
    """

    def __init__(self, issues: list[ConfigIssue] | ConfigIssue, source: str | None = None):
        self.issues = [issues] if isinstance(issues, ConfigIssue) else list(issues)
        self.source = source
        super().__init__(self.issues)

    def in_file(self, source: str) -> ConfigError:
        """The same error, naming the config file when it did not yet."""
        if self.source is None:
            self.source = source
        return self

    def __str__(self) -> str:
        where = f" in {self.source}" if self.source else ""
        if len(self.issues) == 1:
            return f"invalid config{where}: {self.issues[0]}"
        lines = [f"invalid config{where}: {len(self.issues)} problems"]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)


class TrialError(Exception):
    """The model's result cannot be turned into a loss; fails that one trial only."""


class SearchBusyError(RuntimeError):
    """Another process is already running this search."""


class Terminated(KeyboardInterrupt):
    """SIGTERM reached the search: it stops as on Ctrl-C, but the running trials are held
    responsible (a trial may have sent it), while stopping by hand never is."""


class StorageError(RuntimeError):
    """Results cannot be read or written (disk full, read-only folder, corrupt database).

    The message names the path and says what is safe and what to do; it is not a config error.
    """


class NotAResultsFolder(ValueError):
    """The folder holds no hypermax search."""


class AnalysisError(ValueError):
    """There is nothing (yet) to analyse, and the message says why."""
