"""What a package check found: its problems and notes, what it says of the package, and how far
the check went (kept as JSON for a background job's result page)."""

from __future__ import annotations

import dataclasses
import datetime

from transcripts.packages import format as fmt


@dataclasses.dataclass(frozen=True)
class Problem:
    member: str  # "" for the package as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.member}: {self.message}" if self.member else self.message


@dataclasses.dataclass(frozen=True)
class Summary:
    """What a report says of the package (never a student's name: members are named by the
    student code in their path)."""

    school_name: str
    school_code: str
    school_year: str
    transcripts: int
    withdrawn: int


@dataclasses.dataclass
class PackageReport:
    problems: list[Problem] = dataclasses.field(default_factory=list)
    manifest: fmt.Manifest | None = None
    summary: Summary | None = None
    #: The cheap checks (ZIP, manifest, seal, every digest) passed.
    files_verified: bool = False
    #: Every transcript's signatures were checked (the time limit did not stop the check).
    transcripts_verified: bool = False
    #: The organisation (or name) of the certificate that signed the manifest, once verified.
    sealed_by: str = ""
    files_checked: int = 0
    transcripts_checked: int = 0
    #: The time proven by the manifest signature's time-stamp (CAdES-T), when it has one.
    sealed_at: datetime.datetime | None = None
    #: PDF signatures proven by a time-stamp / in all.
    timestamped_signatures: int = 0
    pdf_signatures: int = 0
    #: What the report says without failing the package (signature times not established).
    notes: list[Problem] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, member: str, message: str) -> None:
        self.problems.append(Problem(member, message))

    def as_json(self) -> dict[str, object]:
        """The report as kept for a background job's result page (the manifest left out)."""
        return {
            "problems": [[p.member, p.message] for p in self.problems],
            "notes": [[p.member, p.message] for p in self.notes],
            "summary": dataclasses.asdict(self.summary) if self.summary else None,
            "files_verified": self.files_verified,
            "transcripts_verified": self.transcripts_verified,
            "sealed_by": self.sealed_by,
            "sealed_at": self.sealed_at.isoformat() if self.sealed_at else None,
            "files_checked": self.files_checked,
            "transcripts_checked": self.transcripts_checked,
            "timestamped_signatures": self.timestamped_signatures,
            "pdf_signatures": self.pdf_signatures,
        }

    @classmethod
    def from_json(cls, data: dict) -> PackageReport:
        sealed_at = data.get("sealed_at")
        return cls(
            problems=[Problem(*p) for p in data.get("problems", [])],
            notes=[Problem(*p) for p in data.get("notes", [])],
            summary=Summary(**data["summary"]) if data.get("summary") else None,
            files_verified=bool(data.get("files_verified")),
            transcripts_verified=bool(data.get("transcripts_verified")),
            sealed_by=data.get("sealed_by", ""),
            sealed_at=datetime.datetime.fromisoformat(sealed_at) if sealed_at else None,
            files_checked=data.get("files_checked", 0),
            transcripts_checked=data.get("transcripts_checked", 0),
            timestamped_signatures=data.get("timestamped_signatures", 0),
            pdf_signatures=data.get("pdf_signatures", 0),
        )
