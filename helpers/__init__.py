"""What the notebooks import: setup, batch files, waiting, tables, results and a timeline.

Everything listed in ``__all__`` is public and documented; the rest is internal. Nothing here
wraps the ``openai`` SDK: notebooks call ``client.files.create``, ``client.batches.create`` and
friends themselves, and the helpers that need the API take that ``client`` as an argument.
The local Batch API server lives in :mod:`helpers.local_server`.
"""

from .batch_files import (
    build_requests,
    check_batch_file,
    problems_table,
    split_batch_file,
    write_jsonl,
)
from .results import parse_result_lines, read_results, retry_file
from .setup import Mode, is_local, setup
from .tables import batch_errors_table, batches_table
from .timeline import plot_timeline
from .waiting import TERMINAL_STATUSES, wait_for_batch, wait_for_status

__all__ = [
    "TERMINAL_STATUSES",
    "Mode",
    "batch_errors_table",
    "batches_table",
    "build_requests",
    "check_batch_file",
    "is_local",
    "parse_result_lines",
    "plot_timeline",
    "problems_table",
    "read_results",
    "retry_file",
    "setup",
    "split_batch_file",
    "wait_for_batch",
    "wait_for_status",
    "write_jsonl",
]
