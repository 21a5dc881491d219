"""What the notebooks import: setup, batch files, waiting, tables, results, a timeline, costs,
jobs of several batches.

Everything listed in ``__all__`` is public and documented; the rest is internal. Nothing here
wraps the ``openai`` SDK: notebooks call ``client.files.create``, ``client.batches.create`` and
friends themselves, and the helpers that need the API take that ``client`` as an argument.
The local Batch API server lives in :mod:`batch_api_local`; :func:`webhook_receiver`
receives the signed events it sends when a batch ends.

``import helpers`` is cheap: the names that need pandas, the ``openai`` SDK, tqdm or
matplotlib are imported on first use (PEP 562), so the local server, which imports this
package, does not load them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# ``setup`` names both a function and this package's submodule: importing the submodule
# anywhere would make ``helpers.setup`` the module, so it is imported here, where the function
# then takes the name. It needs nothing but the standard library and the local server's launcher.
from .setup import Mode, SetupError, is_local, setup

if TYPE_CHECKING:
    from .answers import ANSWER_KINDS, answer_kind
    from .batch_files import (
        build_requests,
        check_batch_file,
        problems_table,
        split_batch_file,
        write_jsonl,
    )
    from .cost import estimate_cost, load_prices
    from .jobs import BatchJob
    from .results import parse_result_lines, read_results, retry_file
    from .tables import batch_errors_table, batches_table
    from .timeline import plot_timeline
    from .waiting import TERMINAL_STATUSES, wait_for_batch, wait_for_status
    from .webhooks import WebhookReceiver, webhook_receiver

__all__ = [
    "ANSWER_KINDS",
    "BatchJob",
    "TERMINAL_STATUSES",
    "Mode",
    "SetupError",
    "WebhookReceiver",
    "answer_kind",
    "batch_errors_table",
    "batches_table",
    "build_requests",
    "check_batch_file",
    "estimate_cost",
    "is_local",
    "load_prices",
    "parse_result_lines",
    "plot_timeline",
    "problems_table",
    "read_results",
    "retry_file",
    "setup",
    "split_batch_file",
    "wait_for_batch",
    "wait_for_status",
    "webhook_receiver",
    "write_jsonl",
]

# public name -> the submodule that defines it, imported on first access
_LAZY = {
    "ANSWER_KINDS": "answers",
    "answer_kind": "answers",
    "build_requests": "batch_files",
    "check_batch_file": "batch_files",
    "problems_table": "batch_files",
    "split_batch_file": "batch_files",
    "write_jsonl": "batch_files",
    "estimate_cost": "cost",
    "load_prices": "cost",
    "BatchJob": "jobs",
    "parse_result_lines": "results",
    "read_results": "results",
    "retry_file": "results",
    "batch_errors_table": "tables",
    "batches_table": "tables",
    "plot_timeline": "timeline",
    "TERMINAL_STATUSES": "waiting",
    "wait_for_batch": "waiting",
    "wait_for_status": "waiting",
    "WebhookReceiver": "webhooks",
    "webhook_receiver": "webhooks",
}
# submodules reachable as attributes after ``import helpers``, as when they were imported eagerly
_SUBMODULES = (
    "answers",
    "batch_files",
    "cost",
    "jobs",
    "results",
    "tables",
    "timeline",
    "waiting",
    "webhooks",
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
