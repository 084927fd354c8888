"""Every code block of README.md that is complete as written runs, as a reader would run it.

Rules (a new block is tested by default):

- Every block names its language. ``text`` blocks (formulas, the command-line summary) are not
  run; the command-line summary's commands and flags are checked against ``--help``.
- A block directly after ``<!-- fragment -->`` (or ``<!-- not run: REASON -->``) is not run:
  code that needs the reader's own functions, or commands that install things or run this suite.
- ``json`` and ``yaml`` blocks that are whole configs are checked by ``hypermax validate`` beside
  a stand-in model module. A ``json`` block that starts with ``"`` is a fragment of a config:
  its sections, put into the README's first whole config, must still validate.
- ``python`` blocks run as programs in a temporary folder; the one that reads
  ``hypermax_results/experiment1`` runs beside the results of the README's ``search.json`` (with
  ``init``'s model and that name).
- ``bash`` blocks run line by line in a temporary folder, except ``pip install`` lines; ``DIR``
  stands for the results folder of that same search.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from hypermax.cli import COMMANDS, main
from hypermax.config.loader import config_from_dict

README = Path(__file__).resolve().parents[1] / "README.md"
HYPERMAX = str(Path(sys.executable).with_name("hypermax"))
FENCE = re.compile(r"^```(\S*)\s*$")
MARKER = re.compile(r"^<!--\s*(fragment|not run:[^>]*)\s*-->\s*$")
TIMEOUT = 240


@dataclass
class Block:
    language: str
    text: str
    line: int  # of the opening fence, 1-based
    marker: str | None  # the HTML comment before it, if any

    @property
    def id(self) -> str:
        return f"{self.language}@{self.line}"


def readme_blocks() -> list[Block]:
    blocks: list[Block] = []
    lines = README.read_text("utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        before = lines[index - 1] if index else ""
        marker = MARKER.match(before)
        blocks.append(
            Block(
                opening.group(1),
                "\n".join(lines[index + 1 : end]) + "\n",
                index + 1,
                marker.group(1) if marker else None,
            )
        )
        index = end + 1
    return blocks


BLOCKS = readme_blocks()


def runnable(language: str) -> list[Block]:
    return [b for b in BLOCKS if b.language == language and b.marker is None]


def whole_configs() -> list[Block]:
    return [b for b in runnable("json") if not b.text.lstrip().startswith('"')] + runnable("yaml")


def config_fragments() -> list[Block]:
    return [b for b in runnable("json") if b.text.lstrip().startswith('"')]


def main_config() -> dict:
    """The README's first whole config: its ``search.json``."""
    return json.loads(next(b for b in runnable("json") if b.text.lstrip().startswith("{")).text)


def run(argv: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PATH": f"{Path(HYPERMAX).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run(
        argv,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=environment,
        check=False,
    )


def test_every_block_names_a_language_this_test_knows() -> None:
    assert len(BLOCKS) >= 10, "the README's code blocks were not found"
    unknown = [
        b.id for b in BLOCKS if b.language not in {"bash", "python", "json", "yaml", "text"}
    ]
    assert not unknown, f"give these blocks a language this test runs (or `text`): {unknown}"
    assert runnable("python") and whole_configs() and config_fragments() and runnable("bash")


# --- configs -------------------------------------------------------------------------------


@pytest.mark.parametrize("block", whole_configs(), ids=lambda b: b.id)
def test_whole_config_is_valid(block: Block, tmp_path: Path) -> None:
    data = json.loads(block.text) if block.language == "json" else yaml.safe_load(block.text)
    function = data.get("function", {})
    if function.get("type", "python_function") == "python_function":
        model = f"def {function.get('name', 'train')}(params):\n    return 0.0\n"
        (tmp_path / f"{function.get('module', 'model')}.py").write_text(model, "utf-8")
    path = tmp_path / f"search.{block.language}"
    path.write_text(block.text, "utf-8")
    result = run([HYPERMAX, "validate", path.name], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "valid." in result.stdout


@pytest.mark.parametrize("block", config_fragments(), ids=lambda b: b.id)
def test_config_fragment_fits_the_readme_config(block: Block, tmp_path: Path) -> None:
    sections = json.loads("{" + block.text + "}")
    config = {**main_config(), **sections}
    config_from_dict(config, base_dir=tmp_path, require_function=False)


# --- the command line ----------------------------------------------------------------------


def command_line_summary() -> list[str]:
    return [
        line
        for b in BLOCKS
        if b.language == "text"
        for line in b.text.splitlines()
        if line.startswith("hypermax ")
    ]


def test_the_command_summary_names_real_commands_and_flags(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = command_line_summary()
    assert len(lines) >= 10
    for line in lines:
        words = line.split()
        command = words[1] if words[1] in COMMANDS else "run"
        argv = ["--help"] if words[1] == "--version" else [command, "--help"]
        with pytest.raises(SystemExit):
            main(argv)
        helped = capsys.readouterr().out
        for flag in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", line):
            assert re.search(rf"(?<![\w-]){re.escape(flag)}\b", helped), (line, flag)


# --- programs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def experiment1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's search.json, named experiment1, run with ``hypermax init``'s model."""
    folder = tmp_path_factory.mktemp("readme")
    result = run([HYPERMAX, "init", "."], folder)
    assert result.returncode == 0, result.stderr
    config = main_config()
    config["search"]["name"] = "experiment1"
    (folder / "search.json").write_text(json.dumps(config), "utf-8")
    result = run([HYPERMAX, "search.json"], folder)
    assert result.returncode == 0, result.stderr
    return folder


def python_blocks() -> list[pytest.param]:
    return [pytest.param(b, id=b.id, marks=pytest.mark.slow) for b in runnable("python")]


@pytest.mark.parametrize("block", python_blocks())
def test_python_block_runs(block: Block, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    folder = tmp_path
    if "hypermax_results/experiment1" in block.text:
        folder = request.getfixturevalue("experiment1")
    script = tmp_path / "readme_block.py"
    script.write_text(block.text, "utf-8")
    result = run([sys.executable, str(script)], folder)
    assert result.returncode == 0, result.stderr[-3000:]


def bash_blocks() -> list[pytest.param]:
    return [pytest.param(b, id=b.id, marks=pytest.mark.slow) for b in runnable("bash")]


@pytest.mark.parametrize("block", bash_blocks())
def test_bash_block_runs(block: Block, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    folder = tmp_path
    commands = [line for line in block.text.splitlines() if line.strip()]
    if any(re.search(r"\bDIR\b", line) for line in commands):
        folder = request.getfixturevalue("experiment1")
    for line in commands:
        if line.startswith("pip install"):
            continue  # installing is the reader's step, done already for this suite
        words = shlex.split(line, comments=True)
        words = ["hypermax_results/experiment1" if word == "DIR" else word for word in words]
        result = run(words, folder)
        assert result.returncode == 0, (line, result.stderr[-3000:])
