"""Tests for helpers.timeline: a batch's statuses drawn as bars on a time axis."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from openai.types import Batch  # noqa: E402

from helpers import build_requests, plot_timeline, wait_for_batch, write_jsonl  # noqa: E402
from helpers.timeline import status_changes  # noqa: E402

from support import WAIT

T0 = 1_700_000_000


def make_batch(status: str, **stamps: int) -> Batch:
    return Batch(
        id="batch_test",
        object="batch",
        endpoint="/v1/chat/completions",
        input_file_id="file-test",
        completion_window="24h",
        status=status,
        created_at=T0,
        **{name: T0 + offset for name, offset in stamps.items()},
    )


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def labels(ax) -> list[str]:
    return [tick.get_text() for tick in ax.get_yticklabels()]


def bars(ax) -> list[tuple[float, float]]:
    """(left, width) of each bar, top to bottom."""
    return [(patch.get_x(), patch.get_width()) for patch in ax.patches]


def test_a_completed_batch_has_a_bar_per_status_and_a_final_point():
    batch = make_batch("completed", in_progress_at=1, finalizing_at=3, completed_at=4)
    ax = plot_timeline(batch)
    assert labels(ax) == ["validating", "in_progress", "finalizing", "completed"]
    assert bars(ax) == [(0, 1), (1, 2), (3, 1)]
    assert "seconds" in ax.get_xlabel()
    assert ax.get_title() == "batch_test: completed"
    assert ax.get_xlim()[1] >= 4


def test_a_batch_that_failed_validation():
    ax = plot_timeline(make_batch("failed", failed_at=2))
    assert labels(ax) == ["validating", "failed"]
    assert bars(ax) == [(0, 2)]


def test_a_cancelled_batch_passes_through_cancelling():
    batch = make_batch("cancelled", in_progress_at=1, cancelling_at=5, cancelled_at=7)
    ax = plot_timeline(batch)
    assert labels(ax) == ["validating", "in_progress", "cancelling", "cancelled"]
    assert bars(ax) == [(0, 1), (1, 4), (5, 2)]


def test_a_batch_still_validating_has_no_bars_yet():
    ax = plot_timeline(make_batch("validating"))
    assert labels(ax) == ["validating"]
    assert bars(ax) == []


def test_status_changes_orders_ties_by_lifecycle():
    batch = make_batch("completed", in_progress_at=0, finalizing_at=0, completed_at=0)
    assert status_changes(batch) == [
        ("validating", 0.0),
        ("in_progress", 0.0),
        ("finalizing", 0.0),
        ("completed", 0.0),
    ]


def test_it_draws_on_the_axes_it_is_given():
    fig, (left, right) = plt.subplots(1, 2)
    assert (
        plot_timeline(make_batch("expired", in_progress_at=1, expired_at=86_401), ax=right) is right
    )
    assert labels(right) == ["validating", "in_progress", "expired"]
    assert not left.patches


def test_a_real_batch_from_the_local_server(client, tmp_path):
    path = write_jsonl(build_requests(["a"], model="gpt-4o-mini"), tmp_path / "in.jsonl")
    with open(path, "rb") as fh:
        file = client.files.create(file=fh, purpose="batch")
    batch = client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    batch = wait_for_batch(client, batch.id, poll_interval=0.05, timeout=WAIT, progress=False)
    ax = plot_timeline(batch)
    assert labels(ax) == ["validating", "in_progress", "finalizing", "completed"]
    ax.figure.savefig(tmp_path / "timeline.png")
    assert (tmp_path / "timeline.png").stat().st_size > 0
