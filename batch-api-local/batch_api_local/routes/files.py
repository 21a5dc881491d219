"""The Files API: ``/v1/files`` (upload, list), ``/v1/files/{id}`` (retrieve, delete) and
``/v1/files/{id}/content``.

An upload is read as it streams in and never whole into memory: :class:`UploadReceiver` feeds
the body's chunks to the multipart parser (:mod:`..forms`), whose file part goes to the domain's
:class:`..domain.files.FileUpload`, then stores the File. The route only moves chunks from the
socket to it, in the thread pool.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..constants import MAX_FILE_BYTES, MAX_FORM_OVERHEAD
from ..domain.files import Files, FileUpload
from ..errors import APIError, file_too_large, invalid_value, storage_quota_exceeded
from ..forms import FormReader
from ..http import JSONResponse, OpenFileResponse
from .deps import CallerDep, ServiceDep, int_param

router = APIRouter()


class UploadReceiver:
    """One ``POST /v1/files`` request's form, received chunk by chunk.

    :meth:`feed` each chunk of the body, then :meth:`finish` to store the File (or raise the
    error the API gives). Whatever fails while feeding leaves nothing on disk.
    """

    def __init__(
        self, files: Files, namespace: str, content_type: str, *, quota: bool = True
    ) -> None:
        self._files = files
        self._namespace = namespace
        #: whether the namespace's storage quota applies (not to an instructor's key)
        self._quota = quota
        self._uploads: list[FileUpload] = []
        self._form = FormReader(content_type, self._open_file)

    def _open_file(self, filename: str, fields: dict[str, str]) -> FileUpload:
        quota_of = self._namespace if self._quota else None
        self._uploads.append(
            self._files.begin_upload(filename, fields.get("purpose"), quota_of=quota_of)
        )
        return self._uploads[-1]

    def refuse_declared(self, length: int) -> None:
        """Refuse, before a byte is read, a body that declares more bytes than the quota has
        room for (the file's, with room for the form around it)."""
        room = self._files.room(self._namespace) if self._quota else None
        if room is not None and length > max(room, 0) + MAX_FORM_OVERHEAD:
            assert self._files.quota is not None
            raise storage_quota_exceeded(self._files.quota)

    def feed(self, chunk: bytes) -> None:
        """Parse one chunk; the file's bytes go to disk. Past the size limit (or on any other
        error) this raises, leaving nothing on disk, and the rest of the body need not be read."""
        try:
            self._form.feed(chunk)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Discard what was received (the client went away, or the body was refused)."""
        for upload in self._uploads:
            upload.abort()

    def finish(self) -> dict[str, Any]:
        """The body has ended: store the File it held."""
        try:
            self._form.finish()
        except BaseException:
            self.abort()
            raise
        fields = self._form.fields
        expires_after = None
        if fields.get("expires_after[anchor]") or fields.get("expires_after[seconds]"):
            expires_after = {
                "anchor": fields.get("expires_after[anchor]"),
                "seconds": fields.get("expires_after[seconds]"),
            }
        return self._files.finish_upload(
            self._namespace,
            self._uploads[0] if self._uploads else None,
            purpose=fields.get("purpose"),
            expires_after=expires_after,
        )


@router.post("/v1/files")
async def upload_file(request: Request, who: CallerDep, svc: ServiceDep) -> dict[str, Any]:
    declared = request.headers.get("content-length", "")
    if (
        declared.isascii()
        and declared.isdigit()
        and int(declared) > MAX_FILE_BYTES + MAX_FORM_OVERHEAD
    ):
        refused = file_too_large()  # refused before a byte is read
        refused.close_connection = True
        raise refused
    receiver: UploadReceiver | None = None
    try:
        receiver = UploadReceiver(
            svc.files,
            who.namespace,
            request.headers.get("content-type", ""),
            quota=not who.admin,  # an instructor's uploads count against no quota
        )
        if declared.isdigit():
            await run_in_threadpool(receiver.refuse_declared, int(declared))
        async for chunk in request.stream():
            # the file's bytes go to disk in a worker thread; past the limit this raises and
            # the rest of the body is never read
            await run_in_threadpool(receiver.feed, chunk)
    except BaseException as exc:
        if receiver is not None:
            receiver.abort()
        if isinstance(exc, APIError):  # the body was not read to its end
            exc.close_connection = True
        raise
    return await run_in_threadpool(receiver.finish)


@router.get("/v1/files")
def list_files(request: Request, who: CallerDep, svc: ServiceDep) -> JSONResponse:
    query = request.query_params
    limit = int_param("limit", query.get("limit"), default=10_000, low=1, high=10_000)
    order = query.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise invalid_value("order", order, ["asc", "desc"])
    page = svc.files.page(
        who.namespace,
        purpose=query.get("purpose"),
        limit=limit,
        ascending=order == "asc",
        after=query.get("after"),
    )
    return JSONResponse(page)  # rendered here, in the thread pool (see ..routes.batches)


@router.get("/v1/files/{file_id}")
def retrieve_file(file_id: str, who: CallerDep, svc: ServiceDep) -> JSONResponse:
    return JSONResponse(svc.files.get(who.namespace, file_id))


@router.get("/v1/files/{file_id}/content")
def file_content(file_id: str, who: CallerDep, svc: ServiceDep) -> OpenFileResponse:
    # opened here, before the answer begins: a delete meanwhile cannot cut it (see the class)
    handle = svc.files.open_content(who.namespace, file_id)
    return OpenFileResponse(handle, media_type="application/octet-stream")


@router.delete("/v1/files/{file_id}")
def delete_file(file_id: str, who: CallerDep, svc: ServiceDep) -> JSONResponse:
    return JSONResponse(svc.files.delete(who.namespace, file_id))
