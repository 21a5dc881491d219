"""What the notebooks import: setup, batch files, waiting, tables, results and a timeline.

Everything listed in ``__all__`` is public and documented; the rest is internal. Nothing here
wraps the ``openai`` SDK: notebooks call ``client.files.create``, ``client.batches.create`` and
friends themselves, and the helpers that need the API take that ``client`` as an argument.
The local Batch API server lives in :mod:`helpers.local_server`.
"""

from .setup import Mode, is_local, setup

__all__ = [
    "Mode",
    "is_local",
    "setup",
]
