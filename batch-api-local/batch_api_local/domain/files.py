"""Files: receiving an upload as it streams in, storing it, finding, listing and deleting files.

An upload's bytes go to a temporary file in the state directory as they arrive, checked as they
go (:class:`FileUpload`); :meth:`Files.finish_upload` then applies the rules of ``POST /v1/files``
and stores the File object, or discards the bytes. When a file expires is decided here once
(:func:`expiry_time`, :func:`is_expired`): an expired file is gone for every call.

On a server with a storage quota (``--quota-mb``; by default on a class server), the files of a
key, uploaded or made by its batches, may hold that many bytes (:class:`Allowance`): an upload
that would pass it is refused as it streams in, as soon as it does, counting the key's other
uploads still streaming in; a batch's result files are always kept, and count.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, BinaryIO

from .. import ids, wire
from ..constants import (
    DEFAULT_FILE_EXPIRY,
    FILE_EXPIRY_RANGE,
    FILE_PURPOSES,
    MAX_BATCH_FILE_BYTES,
    MAX_FILE_BYTES,
)
from ..errors import (
    batch_error,
    download_refused,
    invalid_type,
    invalid_value,
    missing_parameter,
    no_such_file,
    not_between,
    storage_quota_exceeded,
)
from ..store import Store
from ..validation import UploadCheck
from .tenants import Tenants

#: purposes whose files the API does not let anyone download
NOT_DOWNLOADABLE = ("user_data", "assistants")


def is_expired(obj: dict[str, Any], now: int) -> bool:
    """Whether a File object has expired at ``now`` (the one rule; the store's class summary
    applies the same one in SQL)."""
    expires_at = obj.get("expires_at")
    return isinstance(expires_at, int) and bool(expires_at) and expires_at <= now


def expiry_time(
    now: int,
    purpose: str,
    expires_after: dict[str, Any] | None,
    *,
    name: str = "expires_after",
    from_form: bool = False,
) -> int | None:
    """When a file expires: ``expires_after`` (``{anchor, seconds}``), or the purpose's default
    (30 days for ``batch``, never for the others).

    Form fields arrive as text, so ``from_form`` accepts digits for ``seconds``; in JSON it must
    be an integer. ``name`` is the parameter named in errors (``output_expires_after`` for a
    batch's result files, which follow the same rules).
    """
    if expires_after is None:
        return now + DEFAULT_FILE_EXPIRY if purpose == "batch" else None
    for key in ("anchor", "seconds"):
        if expires_after.get(key) in (None, ""):
            raise missing_parameter(f"{name}.{key}")
    anchor, seconds = expires_after["anchor"], expires_after["seconds"]
    if anchor != "created_at":
        raise invalid_value(f"{name}.anchor", anchor, ["created_at"])
    if (
        from_form
        and isinstance(seconds, str)
        and seconds.strip().isascii()
        and seconds.strip().isdigit()
    ):
        seconds = int(seconds)
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise invalid_type(f"{name}.seconds", "an integer", seconds)
    low, high = FILE_EXPIRY_RANGE
    if not low <= seconds <= high:
        raise not_between(f"{name}.seconds", seconds, low, high)
    return now + seconds


def safe_filename(name: str | None) -> str:
    """The last component of an uploaded name: no directories, no '..'."""
    if not name:
        return "upload"
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if base in ("", ".", ".."):
        return "upload"
    return base.replace("\x00", "")


class Allowance:
    """What one upload may still take of its key's storage quota.

    ``room`` is the quota less the bytes the key's files held when the upload began; the bytes
    of every upload of the key still streaming in are counted against it together (in
    ``receiving``, shared by the key's uploads), so that three uploads at once cannot each fill
    the same room. :meth:`take` raises the quota's 400 as soon as they pass it.
    """

    def __init__(
        self, quota: int, room: int, receiving: dict[str, int], lock: threading.Lock, key: str
    ) -> None:
        self.quota = quota
        self.room = room
        self._receiving = receiving
        self._lock = lock
        self._key = key
        self._taken = 0

    def take(self, size: int) -> None:
        with self._lock:
            self._taken += size
            total = self._receiving.get(self._key, 0) + size
            self._receiving[self._key] = total
        if total > self.room:
            raise storage_quota_exceeded(self.quota)

    def release(self) -> None:
        """The upload is stored or given up: its bytes no longer count as streaming in."""
        with self._lock:
            left = self._receiving.get(self._key, 0) - self._taken
            if left > 0:
                self._receiving[self._key] = left
            else:
                self._receiving.pop(self._key, None)
            self._taken = 0


class FileUpload:
    """One upload being received: its bytes go to a temporary file as they arrive, checked as
    they go (size, the storage quota, and for batch files :class:`.validation.UploadCheck`).

    :meth:`write` raises ``File is too large.`` as soon as the limit is passed (or the quota's
    400 as soon as the quota is), so the caller can stop reading; :meth:`abort` leaves nothing
    on disk.
    """

    def __init__(
        self, store: Store, filename: str, limit: int, allowance: Allowance | None = None
    ) -> None:
        self.filename = filename
        self.limit = limit
        self.allowance = allowance
        self.check = UploadCheck()
        self.path = store.files_dir / f".upload-{ids.request_id()}"
        self._out: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 - closed by close/abort

    @property
    def size(self) -> int:
        return self.check.size

    def write(self, data: bytes) -> None:
        self.check.feed(data)
        if self.check.size > self.limit:
            raise batch_error("file_too_large").as_api_error()
        if self.allowance is not None:
            self.allowance.take(len(data))
        if self._out is None:
            raise ValueError("write after close")
        self._out.write(data)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def abort(self) -> None:
        try:
            self.close()
        finally:
            self.path.unlink(missing_ok=True)
            if self.allowance is not None:
                self.allowance.release()


class Files:
    """The files of every namespace."""

    def __init__(
        self, store: Store, tenants: Tenants, quota: int | None = None, *, like_live: bool = False
    ) -> None:
        self.store = store
        self.tenants = tenants
        #: the bytes of files each key may hold (None: no quota)
        self.quota = quota
        #: ``--like-live``: a file uploaded without ``expires_after`` shows ``expires_at: null``
        #: (and is kept until deleted)
        self.like_live = like_live
        #: bytes of the uploads of each namespace still streaming in (see :class:`Allowance`)
        self._receiving: dict[str, int] = {}
        self._receiving_lock = threading.Lock()

    # -- uploads ---------------------------------------------------------------------------------

    def room(self, namespace: str) -> int | None:
        """The bytes a namespace's files may still take under the quota (None: no quota)."""
        if self.quota is None:
            return None
        return self.quota - self.store.stored_bytes(namespace, self.tenants.now(namespace))

    def begin_upload(
        self, filename: str | None, purpose: Any = None, *, quota_of: str | None = None
    ) -> FileUpload:
        """Start receiving a file's bytes (see :class:`FileUpload`). ``quota_of``: the namespace
        whose storage quota the upload counts against (None: no quota applies, as for an
        instructor's key)."""
        limit = MAX_BATCH_FILE_BYTES if purpose == "batch" else MAX_FILE_BYTES
        allowance = None
        room = self.room(quota_of) if quota_of is not None else None
        if quota_of is not None and self.quota is not None and room is not None:
            allowance = Allowance(self.quota, room, self._receiving, self._receiving_lock, quota_of)
        return FileUpload(self.store, safe_filename(filename), limit, allowance)

    def finish_upload(
        self,
        namespace: str,
        upload: FileUpload | None,
        *,
        purpose: Any,
        expires_after: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Check a received upload against the rules and store it as a File, or discard it."""
        try:
            if upload is None:
                raise missing_parameter("file")
            if purpose is None or purpose == "":
                raise missing_parameter("purpose")
            if purpose not in FILE_PURPOSES:
                raise invalid_value("purpose", purpose, list(FILE_PURPOSES))
            now = self.tenants.now(namespace)
            expires_at = expiry_time(now, purpose, expires_after, from_form=True)
            if self.like_live and expires_after is None:
                expires_at = None
            upload.close()
            if purpose == "batch":
                if upload.size > MAX_BATCH_FILE_BYTES:
                    raise batch_error("file_too_large").as_api_error()
                problem = upload.check.result(upload.path)
                if problem is not None:
                    raise problem.as_api_error()
            file_id = ids.file_id()
            obj = wire.file_object(file_id, upload.size, now, upload.filename, purpose, expires_at)
            os.replace(upload.path, self.store.file_path(file_id))
            quota = upload.allowance.quota if upload.allowance is not None else None
            try:
                # the quota once more, exactly, in the transaction that stores the File: another
                # upload of the same key may have been stored since this one began
                if not self.store.insert_file(namespace, obj, quota=quota, now=now):
                    raise storage_quota_exceeded(quota or 0)
            except BaseException:
                self.store.file_path(file_id).unlink(missing_ok=True)
                raise
        except BaseException:
            if upload is not None:
                upload.abort()
            raise
        if upload.allowance is not None:
            upload.allowance.release()
        return obj

    # -- the rest of the Files API ---------------------------------------------------------------

    def find(self, namespace: str, file_id: str) -> dict[str, Any] | None:
        """A namespace's file, or None when there is none (or it has expired)."""
        obj = self.store.get_file(namespace, file_id)
        if obj is None or is_expired(obj, self.tenants.now(namespace)):
            return None
        return obj

    def get(self, namespace: str, file_id: str) -> dict[str, Any]:
        obj = self.find(namespace, file_id)
        if obj is None:
            raise no_such_file(file_id)
        return obj

    def content_path(self, namespace: str, file_id: str) -> Path:
        """Where a file's bytes are (404 when there is no such file, 400 for a purpose that
        cannot be downloaded)."""
        obj = self.get(namespace, file_id)
        if obj["purpose"] in NOT_DOWNLOADABLE:
            raise download_refused(obj["purpose"])
        return self.store.file_path(file_id)

    def open_content(self, namespace: str, file_id: str) -> BinaryIO:
        """A file's bytes, opened, for ``GET /v1/files/{id}/content``: the answer streams from
        this handle, so a delete that comes meanwhile does not cut it (on POSIX the open file
        keeps its bytes; on Windows the delete leaves them until the handle is closed). A file
        deleted before it could be opened is the 404 of a file that does not exist."""
        path = self.content_path(namespace, file_id)
        try:
            return open(path, "rb")  # noqa: SIM115 - closed by the response that streams it
        except FileNotFoundError:
            raise no_such_file(file_id) from None

    def page(
        self, namespace: str, *, purpose: str | None, limit: int, ascending: bool, after: str | None
    ) -> dict[str, Any]:
        now = self.tenants.now(namespace)
        found, more = self.store.list_files(
            namespace, purpose=purpose or None, ascending=ascending, after=after, limit=limit
        )
        return wire.page([f for f in found if not is_expired(f, now)], more)

    def delete(self, namespace: str, file_id: str) -> dict[str, Any]:
        self.get(namespace, file_id)
        self.store.delete_file(namespace, file_id)
        return wire.deleted("file", file_id)
