"""``python -m batch_api_local``: the same command line as ``batch-api-local`` (see :mod:`.cli`)."""

import sys

from .cli import main

sys.exit(main())
