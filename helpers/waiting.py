"""Wait for a batch: poll ``client.batches.retrieve`` until it ends, with a progress bar.

A batch gives no notice when it finishes; the only way to know is to ask again. The loop here
stops on every terminal status, named once in :data:`TERMINAL_STATUSES` (a loop that forgets
``expired`` or ``cancelled`` never ends). The bar is ``tqdm.auto``: a widget in Jupyter, text in
a terminal, showing the status and how many requests completed or failed out of the total.
Stopping the wait (a timeout, or interrupting the kernel) never stops the batch itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from openai.types import Batch
from tqdm.auto import tqdm

from batch_api_local import STATUS_TRANSITIONS as TRANSITIONS
from batch_api_local import TERMINAL_STATUSES as TERMINAL

#: the statuses a batch never leaves
TERMINAL_STATUSES: frozenset[str] = TERMINAL
#: every status a batch can have
STATUSES: tuple[str, ...] = tuple(TRANSITIONS)


#: what the bar shows: "in_progress: 1 completed, 0 failed of 3 |###3      |  33%". The bar is
#: the plain ``{bar}`` field: tqdm's notebook widget replaces exactly that with its graphical bar
#: and puts the text on either side of it, while any other spelling (``{bar:20}``, say) is drawn
#: as text inside the widget's label, beside the graphical bar: two bars
BAR_FORMAT = "{desc} |{bar}| {percentage:3.0f}%"


#: seconds between polls when none is given: a local server answers in a millisecond and moves
#: in seconds; the real service takes minutes to hours, and polling it faster gains nothing
LOCAL_POLL_INTERVAL = 0.25
REMOTE_POLL_INTERVAL = 30.0
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def default_poll_interval(client: Any) -> float:
    """0.25 s for a server on this machine (the local server), 30 s for any other."""
    base_url = getattr(client, "base_url", None)
    host = getattr(base_url, "host", None)
    return REMOTE_POLL_INTERVAL if host and host not in _LOOPBACK else LOCAL_POLL_INTERVAL


def _counts(batch: Batch) -> tuple[int, int, int]:
    counts = batch.request_counts
    if counts is None:
        return 0, 0, 0
    return counts.completed, counts.failed, counts.total


def _cancel_hint(batch_id: str) -> str:
    return f'client.batches.cancel("{batch_id}")'


class _Progress:
    """A tqdm bar that follows one batch: total requests, done so far, status, counts.

    The bar is made at the first answer, so that even its first picture (what a saved notebook
    shows as text) names the batch's real status.
    """

    def __init__(self) -> None:
        self._bar: Any = None
        self._closed = False

    def show(self, batch: Batch) -> None:
        completed, failed, total = _counts(batch)
        # no elapsed time or rate in the text: it reads the same in a saved notebook
        label = f"{batch.status}: {completed} completed, {failed} failed of {total}"
        if self._bar is None:
            self._bar = tqdm(
                total=total or None,
                initial=completed + failed,
                desc=label,
                bar_format=BAR_FORMAT,
                leave=True,
                dynamic_ncols=True,
            )
            return
        bar = self._bar
        if total and bar.total != total:
            bar.reset(total=total)  # the total is known once validation ends
        bar.n = completed + failed
        bar.set_description_str(label, refresh=False)
        bar.refresh()

    def close(self) -> None:
        if not self._closed and self._bar is not None:
            self._bar.close()
        self._closed = True


def _wait(
    client: Any,
    batch_id: str,
    done: Callable[[Batch], bool],
    *,
    poll_interval: float | None,
    timeout: float | None,
    progress: bool,
    waiting_for: str,
) -> Batch:
    if poll_interval is None:
        poll_interval = default_poll_interval(client)
    if poll_interval < 0:
        raise ValueError("poll_interval must be >= 0 seconds")
    deadline = None if timeout is None else time.monotonic() + timeout
    bar = _Progress() if progress else None
    batch: Batch | None = None
    try:
        while True:
            batch = client.batches.retrieve(batch_id)
            if bar is not None:
                bar.show(batch)
            if done(batch) or batch.status in TERMINAL_STATUSES:
                return batch
            pause = poll_interval
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"Batch {batch_id} is still {batch.status} after {timeout:g} s of waiting "
                        f"for {waiting_for}. It keeps running on the server: wait again, or cancel "
                        f"it with {_cancel_hint(batch_id)}."
                    )
                pause = min(pause, remaining)
            time.sleep(pause)
    except KeyboardInterrupt:
        if batch is not None:
            if bar is not None:
                bar.close()
            print(
                f"Stopped waiting. Batch {batch_id} was {batch.status} and keeps running on the "
                f"server; to cancel it: {_cancel_hint(batch_id)}"
            )
        raise  # so that "Run All" stops here too, rather than going on with a running batch
    finally:
        if bar is not None:
            bar.close()


def wait_for_batch(
    client: Any,
    batch_id: str,
    *,
    poll_interval: float | None = None,
    timeout: float | None = None,
    progress: bool = True,
) -> Batch:
    """Poll a batch every ``poll_interval`` seconds until its status is terminal.

    Without ``poll_interval``: every 0.25 s against a server on this machine (the local server),
    every 30 s against any other (the real service, where a batch takes minutes to hours).

    ``client`` is an ``openai.OpenAI`` client. With ``progress`` a bar shows the status and the
    completed/failed/total request counts; ``progress=False`` prints nothing. Interrupting (the
    kernel's stop button, Ctrl-C) stops waiting, leaves the batch running, prints how to cancel
    it and raises KeyboardInterrupt again, so that the cells after it do not run.

    Returns the final ``Batch`` (status in :data:`TERMINAL_STATUSES`). Raises TimeoutError when
    ``timeout`` seconds pass first (the batch keeps running), and the SDK's errors from
    ``client.batches.retrieve`` (for example ``openai.NotFoundError`` for an unknown id).
    """
    return _wait(
        client,
        batch_id,
        lambda batch: batch.status in TERMINAL_STATUSES,
        poll_interval=poll_interval,
        timeout=timeout,
        progress=progress,
        waiting_for="a terminal status",
    )


def wait_for_status(
    client: Any,
    batch_id: str,
    until: str | Iterable[str] | Callable[[Batch], bool],
    *,
    poll_interval: float | None = None,
    timeout: float | None = None,
    progress: bool = True,
) -> Batch:
    """Poll a batch until ``until`` holds: a status, a set of statuses, or a test of the batch.

    For example ``wait_for_status(client, batch.id, "in_progress")`` or
    ``wait_for_status(client, batch.id, lambda b: b.request_counts.completed >= 1)``. It also
    stops when the batch reaches a terminal status, since nothing changes after that: check the
    returned batch's ``status``. Progress, interrupts and ``timeout`` behave as in
    :func:`wait_for_batch`.

    Returns the ``Batch`` retrieved when ``until`` first held (or a terminal one). Raises
    TimeoutError when ``timeout`` seconds pass first, ValueError for an unknown status name.
    """
    if callable(until):
        done: Callable[[Batch], bool] = until
        waiting_for = "the condition"
    else:
        wanted = {until} if isinstance(until, str) else set(until)
        unknown = wanted - set(STATUSES)
        if unknown or not wanted:
            raise ValueError(
                f"unknown batch status {sorted(unknown)}; choose from {', '.join(STATUSES)}"
            )
        done = lambda batch: batch.status in wanted  # noqa: E731
        waiting_for = " or ".join(sorted(wanted))
    return _wait(
        client,
        batch_id,
        done,
        poll_interval=poll_interval,
        timeout=timeout,
        progress=progress,
        waiting_for=waiting_for,
    )
