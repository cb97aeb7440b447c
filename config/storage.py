"""The storage of every stored file: write-once, and one error for "the store failed".

Transcript PDFs and XML, the files prepared for signing, export packages and received transfer
packages are stored through Django's ``default`` storage (``STORAGES`` in config/settings.py):
the local file system under MEDIA_ROOT (the embedded default, this module), or an S3-protocol
object store (config/storage_s3.py) when ``OBJECT_STORAGE_BUCKET`` is set.

Both are write-once: a name once stored is never written again. ``save`` never replaces a file
(a taken name gets a free one, as Django's storages do when asked), and a raw write to a stored
name (``open(name, "wb")``, ``_save`` under a taken name) is refused with FileExistsError. Signed
files are addressed by their version and signing stage (transcripts/models.py), so the file a
signature was made over stays what it was.

Whatever goes wrong in the store (unreachable, refused, timed out) is raised as
``StorageUnavailable``, an OSError with a translated message a page can show; a name that is not
there is FileNotFoundError, on both backends.
"""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext_lazy as _


class StorageUnavailable(OSError):
    """The object store could not be reached or refused the request; nothing was stored."""

    message = _(
        "The file store cannot be reached at the moment; nothing was saved. Try again later."
    )

    def __init__(self, detail: str = "") -> None:
        super().__init__(str(self.message))
        self.detail = detail

    def __str__(self) -> str:
        return str(self.message)


WRITE_MODES = frozenset("wax+")


def refuse_write_mode(name: str, mode: str) -> None:
    """Stored files are opened to read; a write goes through ``save`` (a new name)."""
    if WRITE_MODES & set(mode):
        raise FileExistsError(f"{name}: stored files are write-once; save a new name instead")


class WriteOnceFileSystemStorage(FileSystemStorage):
    """MEDIA_ROOT, never overwriting a stored file.

    Django's FileSystemStorage already creates each file with O_EXCL (a race picks another free
    name); this refuses the two ways around it: opening a stored name to write, and an explicit
    ``allow_overwrite``."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["allow_overwrite"] = False
        # Transcripts and packages hold personal data: readable by the application's user only
        # (the application serves them, after its access check; never the web server).
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(*args, **kwargs)

    def _open(self, name, mode="rb"):
        refuse_write_mode(name, mode)
        try:
            return super()._open(name, mode)
        except (FileNotFoundError, PermissionError, IsADirectoryError):
            raise
        except OSError as exc:  # the volume gone, an I/O error: the store failed
            raise StorageUnavailable(str(exc)) from exc

    def _save(self, name, content):
        if self.exists(name):
            raise FileExistsError(f"{name}: stored files are write-once")
        try:
            return super()._save(name, content)
        except (FileExistsError, PermissionError):
            raise
        except OSError as exc:  # disk full, the volume gone: the store failed
            raise StorageUnavailable(str(exc)) from exc
