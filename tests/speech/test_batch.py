"""How a batch is shared among worker processes: the plan, and failures that stay with their item."""

from __future__ import annotations

import pytest

from speech import batch
from speech.batch import in_workers, worker_plan


@pytest.fixture()
def two_cores(monkeypatch):
    monkeypatch.setattr(batch, "available_cores", lambda: 2)


def test_a_cpu_batch_gets_one_single_thread_worker_per_core(two_cores):
    assert worker_plan(10) == (2, 1)
    assert worker_plan(10, threads=4) == (4, 1)
    assert worker_plan(10, threads=8, workers=2) == (2, 4)


def test_auto_workers_are_capped_and_never_outnumber_the_calls(monkeypatch):
    monkeypatch.setattr(batch, "available_cores", lambda: 64)
    assert worker_plan(100) == (batch.MAX_AUTO_WORKERS, 64 // batch.MAX_AUTO_WORKERS)
    assert worker_plan(3) == (3, 21)


def test_one_call_or_a_gpu_keeps_one_process_with_the_threads_asked_for(two_cores):
    assert worker_plan(1) == (1, 0)  # 0: CTranslate2 takes every core
    assert worker_plan(0, threads=2) == (1, 2)
    assert worker_plan(10, device="cuda") == (1, 0)


def _square_or_fail(item: int, offset: int) -> int:
    if item == 3:
        raise ValueError("three is bad")
    return item * item + offset


def test_in_workers_runs_every_item_and_hands_back_a_failure_with_its_item():
    results = dict(in_workers(_square_or_fail, [1, 2, 3, 4], 2, 10))
    assert {k: v for k, v in results.items() if k != 3} == {1: 11, 2: 14, 4: 26}
    assert isinstance(results[3], ValueError) and "three is bad" in str(results[3])
    assert list(in_workers(_square_or_fail, [], 2, 10)) == []  # nothing to do starts no process
