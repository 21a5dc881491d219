"""The domain: files, batches and their state machine, tenants and their settings, control.

Independent of HTTP: the routes (:mod:`..routes`) parse a request and call one method here; the
runner (:mod:`..runner`) decides *when* a batch moves and calls :class:`.batches.Batches` to move
it. Every failure a client can see is an :class:`..errors.APIError`. :class:`Service` puts the
parts together over one store.

=======================  =========================================================================
part                     owns
=======================  =========================================================================
:mod:`.tenants`          each namespace's clock, pace and enqueued-token limit
:mod:`.files`            uploads as they stream in, file expiry, the Files API
:mod:`.batches`          the Batches API and every move of a running batch
:mod:`.control`          forced outcomes, reset, state, the class view
=======================  =========================================================================
"""

from __future__ import annotations

import threading

from .. import ids
from ..config import Settings
from ..endpoints import FileReader
from ..store import Store
from ..webhooks import Outbox
from .batches import Batches, RunningBatch, Verdict
from .control import Control
from .files import Files, FileUpload
from .tenants import Clock, Tenant, Tenants

#: how much of a file the responder reads to see an image's header (its format and size)
IMAGE_HEAD_BYTES = 4 * 1024 * 1024


class Service:
    """Everything one server holds, for every namespace of one state directory."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings.state_dir)
        #: set whenever there is something new for the runner to look at
        self.wake = threading.Event()
        #: a random token that tells this process apart from any other on the same port
        self.instance = ids.request_id()
        #: webhook endpoints and the events waiting for delivery (see :mod:`..webhooks`)
        self.outbox = Outbox(self.store, settings)
        self.tenants = Tenants(self.store, settings, self.wake)
        self.files = Files(
            self.store, self.tenants, settings.storage_quota, like_live=settings.like_live
        )
        self.batches = Batches(
            self.store, settings, self.tenants, self.files, self.outbox, self.wake
        )
        self.control = Control(self.store, settings, self.tenants, self.outbox, self.wake)

    def file_reader(self, namespace: str) -> FileReader:
        """What reads a namespace's files for the responder (an image given by ``file_id``):
        the first :data:`IMAGE_HEAD_BYTES` of a file of ``namespace`` that has not expired, or
        None when it has no such file."""

        def read(file_id: str) -> bytes | None:
            if self.files.find(namespace, file_id) is None:
                return None
            try:
                with open(self.store.file_path(file_id), "rb") as fh:
                    return fh.read(IMAGE_HEAD_BYTES)
            except OSError:
                return None

        return read


__all__ = [
    "Batches",
    "Clock",
    "Control",
    "FileUpload",
    "Files",
    "RunningBatch",
    "Service",
    "Tenant",
    "Tenants",
    "Verdict",
]
