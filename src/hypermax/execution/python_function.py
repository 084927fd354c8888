"""Finding the user's Python function: by module name, by source file, or as a callable."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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

    def load(self) -> Callable[[Any], Any]:
        if self.function is not None:
            return self.function
        if self.base_dir not in sys.path:
            sys.path.insert(0, self.base_dir)
        where, module = self._import()
        function = getattr(module, self.name or "", None)
        if not callable(function):
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
        if self.src:
            path = Path(self.base_dir, self.src)
            if not path.is_file():
                raise LoadError("function.src", f"file {str(path)!r} does not exist")
            # a file named like a loaded module (random.py) must not replace it
            name = path.stem if path.stem not in sys.modules else f"hypermax_model_{path.stem}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise LoadError("function.src", f"{str(path)!r} is not a Python file")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException as error:
                raise LoadError(
                    "function.src", f"importing {str(path)!r} failed: {_brief(error)}"
                ) from error
            return f"file {self.src!r}", module
        try:
            return f"module {self.module!r}", importlib.import_module(self.module or "")
        except BaseException as error:
            raise LoadError(
                "function.module",
                f"cannot import module {self.module!r} (looked in {self.base_dir} and the "
                f"Python path): {_brief(error)}",
            ) from error


def _brief(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
