"""Transcripts (học bạ): one per student per school year, with immutable versions.

A version is a snapshot of everything printed (canonical JSON + SHA-256). States of a
transcript: draft → ready (homeroom teacher confirmed) → signed by the homeroom teacher →
signed by the principal → final (sealed with the school's certificate). After final, the
underlying marks cannot change until the principal reopens the transcript with a reason; the
next version then goes through signing again and the old one stays, marked superseded.
"""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Subquery
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    READY = "ready", _("Ready: confirmed by the homeroom teacher")
    SIGNED_HOMEROOM = "signed_homeroom", _("Signed by the homeroom teacher")
    SIGNED_PRINCIPAL = "signed_principal", _("Signed by the principal")
    FINAL = "final", _("Final: sealed by the school")


#: Verification codes avoid letters and digits that are easy to confuse (0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))


class Transcript(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey("schools.SchoolYear", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        "schools.Student", on_delete=models.PROTECT, related_name="transcripts"
    )
    class_group = models.ForeignKey(
        "schools.ClassGroup", on_delete=models.PROTECT, related_name="transcripts"
    )
    #: The transcript's own identifier, distinct from the student code
    #: (docs/regulations.md#identifiers-and-personal-data).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    returned_comment = models.TextField(blank=True)
    reopened_reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("transcript")
        verbose_name_plural = _("transcripts")
        constraints = [
            models.UniqueConstraint(fields=["student", "year"], name="transcript_one_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.year}"

    @property
    def current_version(self) -> TranscriptVersion | None:
        return self._current_versions().first()

    def is_signed_as(self, role: str) -> bool:
        """Whether the current version carries ``role``'s signature (one query)."""
        current = self._current_versions().values("pk")[:1]
        return TranscriptSignature.objects.filter(version=Subquery(current), role=role).exists()

    def _current_versions(self) -> models.QuerySet[TranscriptVersion]:
        return self.versions.filter(superseded_at__isnull=True).order_by("-number")


def version_upload_path(version: TranscriptVersion, filename: str) -> str:
    transcript = version.transcript
    return f"transcripts/{transcript.school_id}/{transcript.public_id}/v{version.number}/{filename}"


class TranscriptVersion(models.Model):
    """An immutable snapshot of a transcript page; rendered and signed files come later."""

    transcript = models.ForeignKey(Transcript, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    snapshot_sha256 = models.CharField(max_length=64)
    verification_code = models.CharField(
        max_length=16, unique=True, default=new_verification_code, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_reason = models.TextField(blank=True)
    #: The rendered files, rendered once per version and re-written only by signing (each
    #: signature is an incremental update / an added ds:Signature). Never re-rendered to serve.
    pdf_file = models.FileField(upload_to=version_upload_path, blank=True)
    xml_file = models.FileField(upload_to=version_upload_path, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    xml_sha256 = models.CharField(max_length=64, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("transcript version")
        verbose_name_plural = _("transcript versions")
        ordering = ["transcript", "number"]
        constraints = [
            models.UniqueConstraint(fields=["transcript", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.transcript} v{self.number}"


class SignerRole(models.TextChoices):
    HOMEROOM = "homeroom", _("Homeroom teacher")
    PRINCIPAL = "principal", _("Principal")
    SEAL = "seal", _("School seal")


class TranscriptSignature(models.Model):
    """One signature on one version; at most one per role, so re-running never double-signs."""

    version = models.ForeignKey(
        TranscriptVersion, on_delete=models.PROTECT, related_name="signatures"
    )
    role = models.CharField(max_length=12, choices=SignerRole.choices)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(auto_now_add=True)
    certificate_subject = models.CharField(max_length=500, blank=True)
    certificate_serial = models.CharField(max_length=80, blank=True)

    class Meta:
        verbose_name = _("transcript signature")
        verbose_name_plural = _("transcript signatures")
        constraints = [
            models.UniqueConstraint(fields=["version", "role"], name="one_signature_per_role")
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.role}"


class TranscriptEvent(models.Model):
    """The state history of a transcript: who moved it from what to what, and why."""

    transcript = models.ForeignKey(Transcript, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(max_length=20, choices=State.choices)
    to_state = models.CharField(max_length=20, choices=State.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)

    class Meta:
        verbose_name = _("transcript event")
        verbose_name_plural = _("transcript events")
        ordering = ["transcript", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.transcript}: {self.from_state}→{self.to_state}"


class CredentialKind(models.TextChoices):
    """How a signer's key is reached (docs/signing.md)."""

    PKCS12 = "pkcs12", _("Certificate file (PKCS#12), password asked at signing")
    PKCS11 = "pkcs11", _("Token or HSM attached to the server (PKCS#11)")
    REMOTE = "remote", _("Remote signing service")
    COMPANION = "companion", _("USB token on your own computer (signing companion)")


class SigningCredential(models.Model):
    """How a person (or, with no person, the school seal) signs. A PKCS#12 file is stored
    encrypted at rest and is useless without its password, which is never stored."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="signing_credentials",
        help_text=_("Empty for the school's organisational certificate (the seal)."),
    )
    kind = models.CharField(max_length=10, choices=CredentialKind.choices)
    pkcs12_encrypted = models.BinaryField(blank=True, default=b"")
    #: PKCS#11: {"lib", "token", "key"}; remote: {"service", <the account's plain fields>}.
    config = models.JSONField(blank=True, default=dict)
    #: Remote: the secret fields of the signer's account at the service (e.g. a CSC login),
    #: JSON encrypted at rest like the PKCS#12 files. Never what is typed when signing.
    secrets_encrypted = models.BinaryField(blank=True, default=b"", editable=False)
    certificate_pem = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("signing credential")
        verbose_name_plural = _("signing credentials")

    def __str__(self) -> str:
        return f"{self.user or 'seal'} · {self.kind}"


class VerificationLookup(models.Model):
    """Every public verification is logged (the draft national rules log every copy issued)."""

    at = models.DateTimeField(auto_now_add=True)
    code = models.CharField(max_length=32, blank=True)
    method = models.CharField(max_length=10)  # "code" | "pdf" | "xml" | "package"
    version = models.ForeignKey(
        TranscriptVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: genuine, superseded, not_final, unknown, unknown_document, invalid or rate_limited
    outcome = models.CharField(max_length=20)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("verification lookup")
        verbose_name_plural = _("verification lookups")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.method} {self.outcome}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Running")
    WAITING = "waiting", _("Waiting for the signer")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")
    #: Its worker stopped mid-run (no heartbeat for JOB_HEARTBEAT_STALE_SECONDS): resumable.
    INTERRUPTED = "interrupted", _("Interrupted: the worker stopped")


class JobStep(models.TextChoices):
    CONFIRM = "confirm", _("Confirm the data (homeroom teacher)")
    HOMEROOM = SignerRole.HOMEROOM, _("Sign as homeroom teacher")
    PRINCIPAL = SignerRole.PRINCIPAL, _("Sign as principal")
    SEAL = SignerRole.SEAL, _("Apply the school seal")


class BackgroundJob(models.Model):
    """What every background job records for its progress bar: status, counts, per-item
    failures, and the secrets handed to the worker (encrypted, wiped when it picks the job up).
    """

    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    sealed_secrets = models.BinaryField(blank=True, default=b"", editable=False)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    #: [{"transcript_id", "student", "class_name", "message", …}], one per failed student
    failures = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    #: The runs so far: each pick-up starts the next; a run writes to the row only while the
    #: row is still its own (running, this number), so a worker thought dead that is still
    #: alive cannot touch the run that resumed the job.
    attempts = models.PositiveIntegerField(default=0)
    #: Written by the running worker at the pick-up and at least once per item or chunk; a
    #: running job without one for JOB_HEARTBEAT_STALE_SECONDS is interrupted.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def percent(self) -> int:
        return round(100 * self.processed / self.total) if self.total else 100

    @property
    def is_active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.WAITING)


class TranscriptJob(BackgroundJob):
    """A batch over some transcripts (confirm, sign, seal), run by a background worker.

    The scope (transcript ids) and the steps are fixed when the job is started. Progress and
    per-student failures are written here as the worker goes, for the progress bar. A signing
    job needs the signers' passwords / PINs: they are handed to the worker encrypted (AES-GCM
    under a key derived from SECRET_KEY) in ``sealed_secrets``, which the worker wipes when it
    picks the job up; a job not picked up within SIGNING_HANDOFF_SECONDS fails unread.
    """

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey("schools.SchoolYear", on_delete=models.PROTECT, related_name="+")
    class_group = models.ForeignKey(
        "schools.ClassGroup", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    steps = models.JSONField()
    transcript_ids = models.JSONField()
    retry_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries"
    )
    done = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    #: The step being run (an index into ``steps``); processed/done/skipped count that step.
    step_index = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("transcript job")
        verbose_name_plural = _("transcript jobs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"job {self.pk} {'+'.join(self.steps)} ({self.status})"

    def step_labels(self) -> list[StrOrPromise]:
        return [JobStep(step).label for step in self.steps]

    @property
    def current_step_label(self) -> StrOrPromise:
        return JobStep(self.steps[min(self.step_index, len(self.steps) - 1)]).label

    @property
    def percent(self) -> int:
        """Across the steps: each step goes over every transcript of the job."""
        if not self.total or not self.steps:
            return 100
        done = self.step_index * self.total + self.processed
        return min(100, round(100 * done / (len(self.steps) * self.total)))


class BatchStatus(models.TextChoices):
    PREPARING = "preparing", _("Preparing the documents")
    WAITING = "waiting", _("Waiting for the signer")
    SIGNED = "signed", _("Signature values received")
    DONE = "done", _("Signed")
    FAILED = "failed", _("Failed: nothing was signed")
    REJECTED = "rejected", _("Rejected by the signer: nothing was signed")
    EXPIRED = "expired", _("Expired: nothing was signed")
    CANCELLED = "cancelled", _("Cancelled: nothing was signed")


#: A batch in one of these states signs nothing more; its prepared files are gone.
BATCH_ENDED = frozenset(
    {
        BatchStatus.DONE,
        BatchStatus.FAILED,
        BatchStatus.REJECTED,
        BatchStatus.EXPIRED,
        BatchStatus.CANCELLED,
    }
)


class SigningBatch(models.Model):
    """One signer's part of a job: every document of the job prepared for their signature, the
    digests asked for in one request (one password, PIN or phone confirmation), the values
    received, then each document finished (docs/signing.md, "Two-phase signing").

    Persisted so that a batch can wait minutes for the signer and be finished by any worker;
    a batch never completed expires and leaves every transcript as it was.
    """

    #: The job whose transcripts are signed, or the package whose manifest is sealed.
    job = models.ForeignKey(
        TranscriptJob, on_delete=models.CASCADE, null=True, blank=True, related_name="batches"
    )
    package = models.ForeignKey(
        "TranscriptPackage",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="seal_batches",
    )
    role = models.CharField(max_length=12, choices=SignerRole.choices)
    credential = models.ForeignKey(SigningCredential, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=CredentialKind.choices)
    status = models.CharField(
        max_length=10, choices=BatchStatus.choices, default=BatchStatus.PREPARING
    )
    #: The signer's certificate and chain (PEM) the documents were prepared for.
    certificate_pem = models.TextField()
    #: Identifies the request at the signing service (a repeated submission is the same one).
    request_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    #: What the signature source needs to poll the request (e.g. the service's request id).
    request_state = models.JSONField(default=dict, blank=True)
    #: What the signer is shown (transcripts.signing.sources.BatchSummary).
    summary = models.JSONField(default=dict, blank=True)
    #: Documents other than transcripts (a package's manifest): [{"digest": hex, "state": {…},
    #: "value": base64 or None}], signed after the transcripts' digests, in this order.
    documents = models.JSONField(default=list, blank=True)
    authorisations = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        verbose_name = _("signing batch")
        verbose_name_plural = _("signing batches")
        ordering = ["job", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "role"], name="one_batch_per_job_role"),
            models.CheckConstraint(
                condition=models.Q(job__isnull=True) ^ models.Q(package__isnull=True),
                name="batch_of_a_job_or_a_package",
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} {self.role} ({self.status})"

    @property
    def started_by_id(self) -> int | None:
        """Who asked for the signatures (and alone may hand over the USB token's values)."""
        owner = self.job if self.job_id else self.package
        return owner.created_by_id if owner is not None else None

    @property
    def is_waiting(self) -> bool:
        return self.status == BatchStatus.WAITING


def prepared_upload_path(item: PreparedSignature, filename: str) -> str:
    job = item.batch.job
    if job is None:  # only a job's batches prepare transcripts (a package's seals its manifest)
        raise ValueError(f"batch {item.batch_id} prepares no transcript files")
    return f"signing/{job.school_id}/{item.batch_id}/{filename}"


class PreparedSignature(models.Model):
    """One transcript of a batch: its PDF and XML prepared for the signature (stored files, the
    digests to sign), then the values received, until the documents are finished."""

    batch = models.ForeignKey(SigningBatch, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    transcript = models.ForeignKey(Transcript, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(TranscriptVersion, on_delete=models.PROTECT, related_name="+")
    #: The stored files the preparation started from: finishing refuses if they changed.
    source_pdf_sha256 = models.CharField(max_length=64)
    source_xml_sha256 = models.CharField(max_length=64)
    pdf_file = models.FileField(upload_to=prepared_upload_path, blank=True)
    xml_file = models.FileField(upload_to=prepared_upload_path, blank=True)
    #: transcripts.signing.formats.PreparedPdf.state(): the byte range digest, the reserved
    #: region and the signed attributes.
    pdf_state = models.JSONField(default=dict)
    pdf_digest = models.CharField(max_length=64)
    xml_digest = models.CharField(max_length=64)
    pdf_value = models.BinaryField(null=True, blank=True)
    xml_value = models.BinaryField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("prepared signature")
        verbose_name_plural = _("prepared signatures")
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "transcript"], name="one_prepared_signature_per_transcript"
            )
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.transcript_id}"


# --- Packages for the provincial system ----------------------------------------------------------


class PackageKind(models.TextChoices):
    FULL = "full", _("Full: every final transcript of the year")
    INCREMENTAL = "incremental", _("Incremental: what changed since the last accepted upload")
    SINGLE = "single", _("One student (e.g. a transfer to another school)")


class UploadStatus(models.TextChoices):
    NONE = "", _("Not uploaded")
    QUEUED = "queued", _("Waiting to upload")
    UPLOADING = "uploading", _("Uploading")
    ACCEPTED = "accepted", _("Accepted by the Department")
    REJECTED = "rejected", _("Refused by the Department")
    FAILED = "failed", _("Upload failed")
    #: Its worker stopped mid-upload (no heartbeat for JOB_HEARTBEAT_STALE_SECONDS).
    INTERRUPTED = "interrupted", _("Upload interrupted: the worker stopped")


def package_upload_path(package: TranscriptPackage, filename: str) -> str:
    return f"packages/{package.school_id}/{filename}"


class TranscriptPackage(BackgroundJob):
    """One export of signed transcripts for the provincial system (docs/package-format.md): the
    background job that builds it, the ZIP it produced, and its upload to the Department.

    The scope (which versions, which withdrawals) is worked out when the job runs and recorded
    as :class:`PackageEntry` rows. A retry runs the same row again; the package id is derived
    from the content, so the same final versions always give the same id.
    """

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey("schools.SchoolYear", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=PackageKind.choices)
    student = models.ForeignKey(
        "schools.Student", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    only_final = models.BooleanField(
        default=False, help_text=_("Export the final transcripts even if others are not final.")
    )
    #: Empty for an export started from the command line.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: The manifest's package id (maGoi): a UUID derived from the content.
    package_id = models.UUIDField(null=True, blank=True, editable=False)
    file = models.FileField(upload_to=package_upload_path, blank=True)
    #: While the seal's signature over the manifest is awaited (a phone confirmation, the USB
    #: token): the package written but for that signature.
    unsealed_file = models.FileField(upload_to=package_upload_path, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    final_count = models.PositiveIntegerField(default=0)
    withdrawn_count = models.PositiveIntegerField(default=0)
    #: Students of the scope left out because their transcript is not final (with only_final).
    left_out_count = models.PositiveIntegerField(default=0)
    #: Sent as Idempotency-Key on every upload request of this package.
    upload_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    upload_status = models.CharField(
        max_length=12, choices=UploadStatus.choices, default=UploadStatus.NONE, blank=True
    )
    #: The upload's runs so far (as ``attempts`` for the export; the heartbeat is shared: the
    #: upload starts once the export has finished).
    upload_runs = models.PositiveIntegerField(default=0)
    upload_task_id = models.CharField(max_length=64, blank=True)
    upload_message = models.TextField(blank=True)
    receipt_id = models.CharField(max_length=200, blank=True)
    receipt = models.JSONField(default=dict, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("transcript package")
        verbose_name_plural = _("transcript packages")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"package {self.pk} {self.kind} {self.year} ({self.status})"

    @property
    def is_uploading(self) -> bool:
        return self.upload_status in (UploadStatus.QUEUED, UploadStatus.UPLOADING)

    @property
    def download_name(self) -> str:
        return f"hocba-{self.school.code}-{self.year.name}-{self.kind}-{self.pk}.zip"


class EntryStatus(models.TextChoices):
    FINAL = "final", _("Final")
    WITHDRAWN = "withdrawn", _("Withdrawn (superseded)")


class PackageEntry(models.Model):
    """A transcript version in a package: its files (final) or its withdrawal (superseded)."""

    package = models.ForeignKey(TranscriptPackage, on_delete=models.CASCADE, related_name="entries")
    version = models.ForeignKey(TranscriptVersion, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=EntryStatus.choices)

    class Meta:
        verbose_name = _("package entry")
        verbose_name_plural = _("package entries")
        constraints = [
            models.UniqueConstraint(fields=["package", "version"], name="package_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.package_id}: {self.version} {self.status}"


class UploadAttempt(models.Model):
    """One attempt at sending a package to the provincial endpoint, with what happened."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Refused by the server")
        ERROR = "error", _("Network or server error (retried)")

    package = models.ForeignKey(
        TranscriptPackage, on_delete=models.CASCADE, related_name="upload_attempts"
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    #: Where this attempt started in the file (the server's offset) and how much it sent.
    offset = models.PositiveBigIntegerField(default=0)
    bytes_sent = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("upload attempt")
        verbose_name_plural = _("upload attempts")
        ordering = ["package", "number"]

    def __str__(self) -> str:
        return f"{self.package_id} #{self.number} {self.outcome}"


class ProvincialEndpoint(models.Model):
    """Where a school uploads its packages, when it differs from the deployment's settings
    (PROVINCE_UPLOAD_URL / PROVINCE_UPLOAD_TOKEN). The token is stored encrypted."""

    school = models.OneToOneField(
        "schools.School", on_delete=models.CASCADE, related_name="provincial_endpoint"
    )
    url = models.URLField(_("upload address"), max_length=500)
    token_encrypted = models.BinaryField(blank=True, default=b"", editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("provincial endpoint")
        verbose_name_plural = _("provincial endpoints")

    def __str__(self) -> str:
        return f"{self.school} → {self.url}"


class EndpointChange(models.Model):
    """One save of a school's upload settings: who changed the address or the token, and when
    (the settings page lists them; a row is never changed or deleted)."""

    class Token(models.TextChoices):
        KEPT = "kept", _("token unchanged")
        SET = "set", _("new token")
        CLEARED = "cleared", _("token removed")

    school = models.ForeignKey(
        "schools.School", on_delete=models.CASCADE, related_name="endpoint_changes"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    old_url = models.URLField(max_length=500, blank=True)
    new_url = models.URLField(max_length=500)
    token = models.CharField(max_length=10, choices=Token.choices)

    class Meta:
        verbose_name = _("upload settings change")
        verbose_name_plural = _("upload settings changes")
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.school_id}: {self.old_url} → {self.new_url} ({self.token})"


class StoredFileDigest(models.Model):
    """A file a version was stored as before it was replaced by an extended one (an archive
    time-stamp added by ``manage.py extend_signatures``): the older file stays in storage and
    its SHA-256 keeps identifying the version, so copies handed out before (downloads, packages
    exported before) are still recognised by the verification page."""

    version = models.ForeignKey(
        TranscriptVersion, on_delete=models.PROTECT, related_name="earlier_files"
    )
    kind = models.CharField(max_length=3, choices=[("pdf", "PDF"), ("xml", "XML")])
    sha256 = models.CharField(max_length=64, db_index=True)
    file_name = models.CharField(max_length=300)
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("earlier stored file")
        verbose_name_plural = _("earlier stored files")
        constraints = [
            models.UniqueConstraint(fields=["version", "kind", "sha256"], name="earlier_file_once")
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.kind} {self.sha256[:12]}"


# --- Packages checked on the public verification page ---------------------------------------


def new_verification_token() -> str:
    """The id of a package check in its result page's address: 256 random bits, unrelated to
    the row's primary key (the page needs no login, so knowing the address is the access)."""
    return secrets.token_urlsafe(32)


class PackageVerification(BackgroundJob):
    """A package uploaded to the public verification page whose transcripts' signatures a
    background worker checks (more than VERIFY_PACKAGE_INLINE_TRANSCRIPTS of them). The cheap
    checks passed on the page; ``report`` holds their result, then the job's. The upload is
    kept under MEDIA_ROOT/private/ (``file_name``) until the job ends; the row and its result
    until ``expires_at``. Nothing names a student: the report names members by student code."""

    token = models.CharField(
        max_length=64, unique=True, default=new_verification_token, editable=False
    )
    file_name = models.CharField(max_length=200, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    #: The visitor's language: the worker writes the report's problems in it.
    language = models.CharField(max_length=10, blank=True)
    expires_at = models.DateTimeField(db_index=True)
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("package verification")
        verbose_name_plural = _("package verifications")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"package verification {self.pk} ({self.status})"


# --- Transfers: years of a học bạ signed by another school ----------------------------------


def received_upload_path(received: ReceivedPackage | ReceivedDocument, filename: str) -> str:
    """``received/<school>/<student>/<random>/<name>``: a fresh folder per upload, so that a
    stored file is never overwritten (signed files are write-once)."""
    return f"received/{received.school_id}/{received.student_id}/{secrets.token_hex(8)}/{filename}"


class ReceivedPackage(models.Model):
    """A transfer package another school exported for one student, uploaded by this school's
    admin and accepted by the package verifier (seal, signatures, digests) before anything was
    stored. Kept as it arrived, with the verifier's report; never changed."""

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        "schools.Student", on_delete=models.PROTECT, related_name="received_packages"
    )
    source_school_code = models.CharField(max_length=20)
    source_school_name = models.CharField(max_length=200)
    package_id = models.CharField(max_length=36, blank=True)
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=received_upload_path)
    verified_at = models.DateTimeField()
    report = models.JSONField(default=dict)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("received package")
        verbose_name_plural = _("received packages")
        constraints = [
            models.UniqueConstraint(fields=["student", "sha256"], name="received_package_once")
        ]

    def __str__(self) -> str:
        return f"{self.source_school_code} → {self.student_id} ({self.sha256[:12]})"


class ReceivedDocument(models.Model):
    """One year of the student's học bạ from a received package: the sending school's signed
    PDF and XML exactly as they were in the package (never re-signed, never editable), and
    what the learning history table needs, read from the verified XML."""

    package = models.ForeignKey(ReceivedPackage, on_delete=models.PROTECT, related_name="documents")
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        "schools.Student", on_delete=models.PROTECT, related_name="received_documents"
    )
    source_school_code = models.CharField(max_length=20)
    source_school_name = models.CharField(max_length=200)
    year_label = models.CharField(max_length=9)  # "2025-2026"
    grade = models.PositiveSmallIntegerField()
    class_name = models.CharField(max_length=20)
    #: The sending school's transcript id and version (as in its manifest).
    transcript_id = models.UUIDField()
    version = models.PositiveIntegerField()
    verification_code = models.CharField(max_length=32)
    #: Who signed, in order: [role, name, certificate subject] (from the sealed manifest).
    signers = models.JSONField(default=list)
    #: The year's results as printed: {"learning": ..., "conduct": ..., "promotion": ...}.
    results = models.JSONField(default=dict)
    pdf_file = models.FileField(upload_to=received_upload_path)
    xml_file = models.FileField(upload_to=received_upload_path)
    pdf_sha256 = models.CharField(max_length=64)
    xml_sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("received transcript")
        verbose_name_plural = _("received transcripts")
        ordering = ["grade", "year_label", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "transcript_id", "version"], name="received_document_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year_label} {self.class_name} ({self.source_school_code})"
