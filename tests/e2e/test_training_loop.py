"""The shape most users bring: a PyTorch training loop whose DataLoader forks workers, run by
the command line in parallel with a RAM limit that only a real leak would cross."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hypermax.storage import SQLStorage, sqlite_url
from hypermax.trial import TrialStatus
from tests.e2e.conftest import HYPERMAX, write_search_files

TRAINING = """
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

def train(p):
    torch.manual_seed(0)
    x = torch.randn(512, 4)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0]) + 0.1 * torch.randn(512)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, num_workers=2)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=p["lr"])
    for _epoch in range(3):
        for features, target in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(features).squeeze(1), target)
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return float(nn.functional.mse_loss(model(x).squeeze(1), y))
"""


@pytest.mark.slow
def test_a_torch_training_loop_with_data_loader_workers_runs_in_parallel(
    tmp_path: Path,
) -> None:
    pytest.importorskip("torch")
    config = write_search_files(
        tmp_path,
        {
            "type": "object",
            "properties": {
                "lr": {"type": "number", "min": 0.001, "max": 0.3, "scaling": "logarithmic"}
            },
        },
        {"name": "torch", "iterations": 4, "parallel": 2, "method": "random", "seed": 1},
        TRAINING,
        function={
            "module": "model",
            "name": "train",
            "auto_kill_max_ram": 1500,
            "auto_kill_max_time": 120,
        },
    )
    completed = subprocess.run(
        [HYPERMAX, str(config), "--no-ui"], capture_output=True, text=True, timeout=280
    )
    assert completed.returncode == 0, completed.stderr
    results = tmp_path / "hypermax_results" / "torch"
    with SQLStorage(sqlite_url(results), "torch", create=False) as storage:
        trials = storage.trials()
    assert [t.status for t in trials] == [TrialStatus.OK] * 4, [t.error for t in trials]
    assert all(0 < (t.resources.get("peak_ram_mib") or 0) < 1500 for t in trials)
    assert json.loads((results / "best.json").read_text())
