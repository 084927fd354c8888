"""Finding the user's Python function: by module name, by source file, or as a callable; and the
``python_function`` executor's settings (cheap to import: the config loader reads them).

A ``module`` is looked up in the config's folder, then in the current working directory (the
original Hypermax ran models from there), then on the Python path; ``"module": "model.py"``
names that file, looked up in the same two folders. ``src`` is relative to the config's folder.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hypermax.errors import ConfigIssue
from hypermax.execution.base import ExecutorSettings
from hypermax.settings import spec


@dataclass(frozen=True)
class PythonFunctionSettings(ExecutorSettings):
    """A Python function (module or src, and name), run in warm worker processes."""

    module: str | None = field(
        default=None,
        metadata=spec(
            "Importable module name, looked up in the config's folder first ('model.py': that "
            "file)."
        ),
    )
    src: str | None = field(
        default=None,
        metadata=spec("Path of a .py file, relative to the config's folder (instead of module)."),
    )
    name: str | None = field(default=None, metadata=spec("Function to call with the parameters."))
    isolation: Literal["worker", "process"] = field(
        default="worker",
        metadata=spec(
            "worker (default): warm workers run trial after trial; process: every trial in a "
            "fresh process."
        ),
    )
    max_trials_per_worker: int | None = field(
        default=None, metadata=spec("Replace a worker after this many trials.", minimum=1)
    )
    worker_max_ram: float | None = field(
        default=None,
        metadata=spec(
            "MiB; replace a worker whose memory is still above this after a trial.",
            exclusiveMinimum=0,
        ),
    )

    def issues(self, where: str = "function") -> list[ConfigIssue]:
        found = []
        if not self.module and not self.src:
            found.append(ConfigIssue(where, "give 'module' (importable name) or 'src' (file)"))
        if self.module and self.src:
            found.append(ConfigIssue(where, "give either 'module' or 'src', not both"))
        if not self.name:
            found.append(ConfigIssue(f"{where}.name", "missing: the name of the function to call"))
        return found


class LoadError(Exception):
    """The model cannot be loaded; ``path`` is the config path to fix."""

    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class FunctionSource:
    """Where the model function comes from. Loaded inside worker processes, never the search's."""

    function: Callable[[Any], Any] | None = None
    module: str | None = None
    src: str | None = None
    name: str | None = None
    base_dir: str = "."
    cwd: str = field(default_factory=os.getcwd)  # the search's, taken where it is created

    @property
    def folders(self) -> list[str]:
        """Where a module is looked up before the Python path, in order."""
        found = [str(Path(self.base_dir).resolve()), str(Path(self.cwd).resolve())]
        return list(dict.fromkeys(found))

    def load(self) -> Callable[[Any], Any]:
        if self.function is not None:
            return self.function
        for folder in reversed(self.folders):  # first on the path, in this order
            if folder in sys.path:
                sys.path.remove(folder)
            sys.path.insert(0, folder)
        where, module = self._import()
        function = getattr(module, self.name or "", None)
        if not callable(function):
            origin = getattr(module, "__file__", None)
            if self.module and not self.module.endswith(".py") and origin:
                where += f" (found at {origin})"  # e.g. Python's own 'test' package
            found = sorted(
                n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
            )
            raise LoadError(
                "function.name",
                f"{where} has no function {self.name!r}"
                + (f"; it has: {', '.join(found[:10])}" if found else ""),
            )
        return function

    def _import(self) -> tuple[str, Any]:
        if self.module and self.module.endswith(".py"):
            return self._import_file("function.module", self.module, self.folders)
        if self.src:
            return self._import_file("function.src", self.src, [self.base_dir])
        try:
            return f"module {self.module!r}", importlib.import_module(self.module or "")
        except BaseException as error:
            raise LoadError(
                "function.module",
                f"cannot import module {self.module!r} (looked in {self._places()} and the "
                f"Python path): {_brief(error)}",
            ) from error

    def _places(self) -> str:
        named = [f"{folder} (the config's folder)" for folder in self.folders[:1]]
        named += [f"{folder} (the current directory)" for folder in self.folders[1:]]
        return ", ".join(named)

    def _import_file(self, key: str, name: str, folders: list[str]) -> tuple[str, Any]:
        """Run a model file: the first of ``folders`` that has it."""
        candidates = [Path(folder, name) for folder in folders]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            looked = " or ".join(repr(str(c)) for c in candidates)
            raise LoadError(key, f"file {looked} does not exist")
        # a file named like a loaded module (random.py) must not replace it
        label = path.stem if path.stem not in sys.modules else f"hypermax_model_{path.stem}"
        spec = importlib.util.spec_from_file_location(label, path)
        if spec is None or spec.loader is None:
            raise LoadError(key, f"{str(path)!r} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[label] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as error:
            raise LoadError(key, f"importing {str(path)!r} failed: {_brief(error)}") from error
        return f"file {name!r}", module


def _brief(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
