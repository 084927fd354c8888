"""What the console UI shows, as plain functions of the data it polls: the status lines, a
trial's row, a running trial's row, a log's tail. No widgets here, so each is tested alone."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hypermax.live import SearchStatus
from hypermax.trial import Trial, TrialStatus

LOG_TAIL_BYTES = 2 * 1024 * 1024  # the most of a trial's log the viewer loads
FILTERS = ("all", "failed", "killed")
TRIAL_COLUMNS = ("trial", "status", "loss", "time", "started", "error")


def duration(seconds: float | None) -> str:
    """``1h02m``, ``3m05s``, ``4.2s``; ``—`` when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"


def loss_text(loss: float | None) -> str:
    return "—" if loss is None else f"{loss:.6g}"


def elapsed_and_eta(
    status: SearchStatus, trials: dict[int, Trial], now: datetime | None = None
) -> tuple[float | None, float | None]:
    """Seconds since this run started (to its last sign of life once it ended), and the
    seconds left at the pace of the trials it finished (None when it cannot be told)."""
    beat = status.heartbeat
    if beat is None:
        return None, None
    now = now or datetime.now(timezone.utc)
    end = now if status.state == "running" else beat.last_seen
    elapsed = max((end - beat.started_at).total_seconds(), 0.0)
    if status.state != "running" or not status.total:
        return elapsed, None
    done_here = sum(
        1
        for t in trials.values()
        if t.status.finished and t.finished_at is not None and t.finished_at >= beat.started_at
    )
    left = status.total - status.finished
    if left <= 0:
        return elapsed, 0.0
    if done_here == 0 or elapsed <= 0:
        return elapsed, None
    return elapsed, left * elapsed / done_here


def status_lines(
    status: SearchStatus, trials: dict[int, Trial], now: datetime | None = None
) -> list[str]:
    """The status panel: the search and its state, the counts, the best loss, the times."""
    counts = status.counts
    total = status.total
    method = status.heartbeat.method if status.heartbeat else "—"
    finished = f"{status.finished}/{total}" if total else str(status.finished)
    elapsed, eta = elapsed_and_eta(status, trials, now)
    best = (
        f"best {loss_text(status.best.loss)} (trial {status.best.number})"
        if status.best
        else "best —"
    )
    return [
        f"{status.name} · {status.state} · {method}",
        f"finished {finished} · running {counts.get(TrialStatus.RUNNING, 0)} · "
        f"failed {counts.get(TrialStatus.FAILED, 0)} · killed {counts.get(TrialStatus.KILLED, 0)}"
        f" · pruned {counts.get(TrialStatus.PRUNED, 0)}",
        f"{best} · elapsed {duration(elapsed)} · ETA {duration(eta)}",
    ]


def matches(trial: Trial, filter_name: str) -> bool:
    """Whether the trials table shows ``trial`` under the filter ``filter_name``."""
    if filter_name == "failed":
        return trial.status is TrialStatus.FAILED
    if filter_name == "killed":
        return trial.status is TrialStatus.KILLED
    return True


def _clock(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%m-%d %H:%M:%S") if moment else "—"


def trial_row(trial: Trial) -> tuple[Any, ...]:
    """The cells of ``trial`` in the trials table, in ``TRIAL_COLUMNS`` order."""
    error = (trial.error or "").splitlines()[0][:80] if trial.error else ""
    return (
        trial.number,
        trial.status.value,
        loss_text(trial.loss),
        duration(trial.time),
        _clock(trial.started_at),
        error,
    )


def sort_key(trial: Trial, column: str) -> tuple[Any, ...]:
    """How the trials table orders ``column``; unknown values (no loss) go last."""
    value: Any
    if column == "loss":
        value = trial.loss if trial.has_loss else None
    elif column == "time":
        value = trial.time
    elif column == "status":
        value = trial.status.value
    elif column == "started":
        value = trial.started_at.timestamp() if trial.started_at else None
    elif column == "error":
        value = trial.error or None
    else:
        value = trial.number
    return (value is None, value if value is not None else 0, trial.number)


def limit_bar(limits: dict[str, float] | None, width: int = 8) -> str:
    """A bar towards the nearest kill limit: ``█████░░░ 62% ram``; empty without limits."""
    if not limits:
        return ""
    name, share = max(limits.items(), key=lambda item: item[1])
    share = max(float(share), 0.0)
    filled = min(round(share * width), width)
    return f"{'█' * filled}{'░' * (width - filled)} {share:.0%} {name}"


def _mib(value: Any) -> str:
    return "—" if value is None else f"{float(value):,.0f} MiB"


RUNNING_COLUMNS = ("trial", "elapsed", "RAM", "CPU", "GPU RAM", "nearest limit", "last report")


def running_row(trial: Trial, sample: dict[str, Any] | None, now: datetime) -> tuple[str, ...]:
    """The cells of a running trial: from its live sample when there is one."""
    sample = sample or {}
    elapsed = sample.get("elapsed")
    if elapsed is None and trial.started_at is not None:
        elapsed = (now - trial.started_at).total_seconds()
    cpu = sample.get("cpu_percent")
    report = sample.get("last_report") or (trial.intermediate[-1] if trial.intermediate else None)
    return (
        str(trial.number),
        duration(elapsed),
        _mib(sample.get("ram_mib")),
        "—" if cpu is None else f"{float(cpu):.0f}%",
        _mib(sample.get("gpu_ram_mib")),
        limit_bar(sample.get("limits")),
        "—" if not report else f"step {report[0]}: {report[1]:.4g}",
    )


def nested_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def trial_summary(trial: Trial) -> str:
    """The trial detail screen's text: status, times, loss, parameters (nested as the model
    received them), metrics, metadata, error and traceback."""
    parts = [
        f"trial {trial.number} · {trial.status.value} · loss {loss_text(trial.loss)}",
        f"time {duration(trial.time)} (measured {duration(trial.measured_time)}) · "
        f"started {_clock(trial.started_at)} · finished {_clock(trial.finished_at)}",
        "",
        "parameters:",
        nested_json(trial.params),
    ]
    if trial.metrics:
        parts += ["", "metrics:", nested_json(trial.metrics)]
    if trial.metadata:
        parts += ["", "metadata:", nested_json(trial.metadata)]
    if trial.resources:
        parts += ["", "resources:", nested_json(trial.resources)]
    if trial.error:
        parts += ["", "error:", trial.error]
    if trial.traceback:
        parts += ["", "traceback:", trial.traceback.rstrip()]
    if trial.log_path:
        parts += ["", f"log: {trial.log_path}"]
    return "\n".join(parts)


def log_file(trial: Trial, folder: Path | None) -> Path | None:
    """Where ``trial``'s log is: its recorded path, or the same name in ``folder``'s logs
    (a results folder moved since the search wrote it)."""
    if not trial.log_path:
        return None
    path = Path(trial.log_path)
    if not path.is_absolute() and folder is not None:
        path = folder / path
    if not path.exists() and folder is not None:
        moved = folder / "logs" / path.name
        if moved.exists():
            return moved
    return path


def read_tail(path: Path, limit: int = LOG_TAIL_BYTES) -> tuple[str, str | None]:
    """The last ``limit`` bytes of ``path`` (from a line start) and a note when that is not
    the whole file."""
    size = path.stat().st_size
    with open(path, "rb") as stream:
        if size > limit:
            stream.seek(size - limit)
            data = stream.read()
            data = data[data.find(b"\n") + 1 :] if b"\n" in data else data
            note = (
                f"showing the last {limit / 2**20:.1f} MiB of {size / 2**20:.1f} MiB: "
                f"the whole log is {path}"
            )
        else:
            data, note = stream.read(), None
    return data.decode("utf-8", errors="replace"), note


def masked_config(config: dict[str, Any] | None) -> str:
    """The saved config as JSON, a database password in ``search.storage`` masked."""
    if config is None:
        return "no config saved with this search"
    text = nested_json(config)
    return re.sub(r"(://[^:/@\"\s]+:)[^@\"\s]+@", r"\1***@", text)
