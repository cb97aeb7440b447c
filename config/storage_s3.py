"""The S3-protocol object store (AWS S3, MinIO, Ceph, …) for every stored file, write-once.

``STORAGES["default"]`` when ``OBJECT_STORAGE_BUCKET`` is set (config/settings.py). On top of
django-storages' S3Storage:

- **Write-once.** Every upload is conditional (``If-None-Match: *``, on the single PUT and on
  the multipart upload's completion): a name that exists is refused by the store itself, so two
  machines racing for one name cannot replace each other's file. ``save`` then picks a free
  name; ``_save`` under a taken name and ``open(name, "wb")`` raise FileExistsError.
- **Streaming.** Reading streams the object's body (nothing spooled whole in memory or on
  disk); writing sends pieces of ``PART_BYTES`` (a multipart upload beyond one piece), aborted
  on failure so no half-written object is left.
- **One error.** An unreachable, slow or refusing store is ``StorageUnavailable`` (an OSError
  with a message for pages) after ``attempts`` tries of ``timeout`` seconds each; a missing
  name is FileNotFoundError.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
from typing import IO, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import File
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from config.storage import StorageUnavailable, refuse_write_mode

#: Size of one uploaded piece (S3's smallest multipart part is 5 MiB) and of one read.
PART_BYTES = 8 * 1024 * 1024
READ_BYTES = 1024 * 1024


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _missing(error: ClientError) -> bool:
    return _status(error) == 404 or _code(error) in {"NoSuchKey", "404", "NotFound"}


def _taken(error: ClientError) -> bool:
    return _status(error) == 412 or _code(error) in {
        "PreconditionFailed",
        "ConditionalRequestConflict",
    }


def unavailable(error: Exception) -> StorageUnavailable:
    failure = StorageUnavailable(f"{type(error).__name__}: {error}")
    failure.__cause__ = error
    return failure


class _ObjectReader(io.RawIOBase):
    """An object's body from ``start`` as a raw binary stream; a failure while reading is
    StorageUnavailable. ``body`` None: nothing left (``start`` is the end)."""

    def __init__(self, body, start: int = 0) -> None:
        self._body = body
        self._position = start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._body is None:
            return 0
        try:
            data = self._body.read(len(buffer))
        except StorageUnavailable:
            raise
        except (BotoCoreError, OSError, ValueError) as exc:
            raise unavailable(exc) from exc
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if not self.closed and self._body is not None:
            self._body.close()
        super().close()


class StoredObject(File):
    """A stored object opened to read, streamed. Seeking is lazy: the next read asks the store
    for the rest of the object from there (a ranged GET), so looking up the size by seeking to
    the end costs nothing and resuming an upload at an offset reads only what is left."""

    def __init__(self, storage: WriteOnceS3Storage, name: str) -> None:
        self._storage = storage
        self._key = storage._key(name)
        self._pending: int | None = None
        super().__init__(None, name)
        self._fetch(0)

    def _fetch(self, start: int) -> None:
        if start and start >= self.size:
            self.file = io.BufferedReader(_ObjectReader(None, start), READ_BYTES)
            return
        extra = {"Range": f"bytes={start}-"} if start else {}
        response = self._storage._call(
            self._storage.connection.meta.client.get_object,
            Bucket=self._storage.bucket_name,
            Key=self._key,
            **extra,
        )
        if not start:
            self.size = response["ContentLength"]
        self.file = io.BufferedReader(_ObjectReader(response["Body"], start), READ_BYTES)

    def open(self, mode=None, *args, **kwargs):
        if mode:
            refuse_write_mode(self._key, mode)
        if self.file is not None and not self.file.closed:
            self.file.close()
        self._pending = None
        self._fetch(0)
        return self

    def seekable(self) -> bool:
        return True

    def _body(self) -> IO[Any]:
        assert self.file is not None  # opened by _fetch in __init__ and open()
        return self.file

    def tell(self) -> int:
        return self._body().tell() if self._pending is None else self._pending

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self.tell()
        elif whence == io.SEEK_END:
            offset += self.size
        if offset < 0:
            raise ValueError(f"negative seek position {offset}")
        self._pending = None if offset == self._body().tell() else offset
        return offset

    def read(self, size: int = -1) -> bytes:
        if self._pending is not None:
            self._body().close()
            self._fetch(self._pending)
            self._pending = None
        return self._body().read(size)


class WriteOnceS3Storage(S3Storage):
    def __init__(self, *, timeout: int = 10, attempts: int = 3, **settings) -> None:
        settings.setdefault("file_overwrite", False)
        settings.setdefault("default_acl", None)  # the bucket's own policy: private
        settings.setdefault("querystring_expire", 300)
        settings["client_config"] = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": attempts, "mode": "standard"},
            s3={"addressing_style": settings.pop("addressing_style", None) or "auto"},
            signature_version="s3v4",
        )
        if settings.get("file_overwrite"):
            raise ValueError("stored files are write-once: file_overwrite must stay False")
        super().__init__(**settings)

    # --- helpers ---------------------------------------------------------------------------------

    def _key(self, name: str) -> str:
        return self._normalize_name(clean_name(name))

    def _call(self, method, **params):
        """One request; a missing key is FileNotFoundError, a taken one FileExistsError, any other
        failure of the store StorageUnavailable."""
        try:
            return method(**params)
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(f"{params.get('Key', '')}: not in the store") from exc
            if _taken(exc):
                key = params.get("Key", "")
                raise FileExistsError(f"{key}: stored files are write-once") from exc
            raise unavailable(exc) from exc
        except BotoCoreError as exc:
            raise unavailable(exc) from exc

    # --- Storage API -----------------------------------------------------------------------------

    def _open(self, name, mode="rb"):
        refuse_write_mode(name, mode)
        return StoredObject(self, clean_name(name))

    def save(self, name, content, max_length=None):
        """Save under ``name`` or, when it is taken (even by a racing machine), a free name."""
        for _attempt in range(5):
            try:
                return super().save(name, content, max_length=max_length)
            except FileExistsError:
                continue
        raise FileExistsError(f"{name}: no free name found")

    def _save(self, name, content):
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        client = self.connection.meta.client
        params = self._get_write_parameters(key, content)
        if hasattr(content, "seek") and (not hasattr(content, "seekable") or content.seekable()):
            content.seek(0)
        first = _read_piece(content)
        if len(first) < PART_BYTES:
            self._call(
                client.put_object, Bucket=self.bucket_name, Key=key, Body=first, IfNoneMatch="*",
                **params,
            )  # fmt: skip
            return cleaned
        upload = self._call(
            client.create_multipart_upload, Bucket=self.bucket_name, Key=key, **params
        )["UploadId"]
        try:
            parts = []
            piece, number = first, 1
            while piece:
                etag = self._call(
                    client.upload_part, Bucket=self.bucket_name, Key=key, UploadId=upload,
                    PartNumber=number, Body=piece,
                )["ETag"]  # fmt: skip
                parts.append({"ETag": etag, "PartNumber": number})
                piece, number = _read_piece(content), number + 1
            self._call(
                client.complete_multipart_upload, Bucket=self.bucket_name, Key=key,
                UploadId=upload, MultipartUpload={"Parts": parts}, IfNoneMatch="*",
            )  # fmt: skip
        except BaseException:
            # The store may be gone: then its lifecycle rule removes the parts.
            with contextlib.suppress(BotoCoreError, ClientError):
                client.abort_multipart_upload(Bucket=self.bucket_name, Key=key, UploadId=upload)
            raise
        return cleaned

    def _head(self, name):
        client = self.connection.meta.client
        return self._call(client.head_object, Bucket=self.bucket_name, Key=self._key(name))

    def delete(self, name):
        client = self.connection.meta.client
        with contextlib.suppress(FileNotFoundError):
            self._call(client.delete_object, Bucket=self.bucket_name, Key=self._key(name))

    def exists(self, name):
        try:
            self._head(name)
        except FileNotFoundError:
            return False
        return True

    def size(self, name):
        return self._head(name)["ContentLength"]

    def listdir(self, name):
        try:
            return super().listdir(name)
        except ClientError as exc:
            raise unavailable(exc) from exc
        except BotoCoreError as exc:
            raise unavailable(exc) from exc

    def get_available_name(self, name, max_length=None):
        # Never the overwriting variant, whatever the settings say.
        return super(S3Storage, self).get_available_name(clean_name(name), max_length)

    def path(self, name):
        raise NotImplementedError(f"{posixpath.basename(name)} is in the object store, not on disk")


def _read_piece(content) -> bytes:
    """Up to PART_BYTES from ``content`` (a File, or any binary file object)."""
    chunks, size = [], 0
    while size < PART_BYTES:
        data = content.read(PART_BYTES - size)
        if not data:
            break
        if isinstance(data, str):
            data = data.encode()
        chunks.append(data)
        size += len(data)
    return b"".join(chunks)
