"""Issue 6: verifying packages offline — with verify_package and with the standard tools of
docs/package-format.md's script — and every kind of tampering detected and named.

One package of two final transcripts (and a single-student package, for its signature) is built
once for the module, in a transaction that is rolled back; the tests change copies of its
bytes.

Issue 14: packages the school itself sealed again (so that the manifest holds) but carrying a
transcript signed with a look-alike certificate (the same names, another CA), or changed after
it was signed, are refused by the script; pdfsig is judged by what it prints, never its exit
status.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from asn1crypto import keys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings
from django.utils import translation
from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from signxml import DigestAlgorithm, SignatureConstructionMethod, SignatureMethod
from signxml.xades import XAdESSigner

from accounts.models import Role
from schools.models import ClassGroup
from tests.conftest import add_students, make_school, make_user
from tests.transcripts.conftest import (
    P12_PASSWORD,
    complete_year,
    export_now,
    finalise,
    make_p12,
    pdfsig,
    pki_make_cert,
    stored,
)
from transcripts.models import CredentialKind, PackageKind, SignerRole, SigningCredential
from transcripts.packages import format as fmt
from transcripts.packages.verify import Limits, verify_package
from transcripts.signing.formats import DS_NS, _to_asn1, sign_cms_detached, sign_pdf, sign_xml
from transcripts.signing.signers import Pkcs12Signer, encrypt_at_rest
from transcripts.workflow import transcript_for

# Every test is marked so that the test database exists for the module fixture (pytest-django
# sets it up only for a session with database tests).
pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "package-format.md"


@dataclasses.dataclass(frozen=True)
class Built:
    zip: bytes
    single: bytes
    ca_pem: Path
    codes: tuple[str, str]


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, tmp_path_factory, pki, role_p12, role_signers):
    directory = tmp_path_factory.mktemp("package")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=str(directory / "media"),
            SIGNING_TRUST_ANCHORS=[str(pki.ca_pem)],
            SITE_URL="https://hocba.example",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        transaction.atomic(),
    ):
        school = make_school("SCHOOLA", "Trường THCS Ánh Dương")
        homeroom = make_user("homeroom", school, Role.TEACHER, totp=True)
        principal = make_user("principal", school, Role.PRINCIPAL, totp=True)
        admin = make_user("admin", school, Role.ADMIN)
        for role, user in ((SignerRole.HOMEROOM, homeroom), (SignerRole.PRINCIPAL, principal),
                           (SignerRole.SEAL, None)):  # fmt: skip
            SigningCredential.objects.create(
                school=school, user=user, kind=CredentialKind.PKCS12,
                pkcs12_encrypted=encrypt_at_rest(role_p12[role]),
            )  # fmt: skip
        class_group = ClassGroup.objects.create(
            year=school.current_year(), name="6A1", grade=6, homeroom_teacher=homeroom
        )
        students = add_students(class_group, [("Nguyễn Văn Bình", "M"), ("Trần Thị An", "F")], 1)
        for student in students:
            complete_year(class_group, student)
            transcript = transcript_for(student=student, class_group=class_group)
            finalise(transcript, homeroom, principal, role_signers)
        full = stored(export_now(admin, school).file)
        single = stored(
            export_now(admin, school, kind=PackageKind.SINGLE, student=students[0]).file
        )
        transaction.set_rollback(True)
    codes = tuple(sorted(s.student_code for s in students))
    return Built(full, single, pki.ca_pem, codes)  # type: ignore[arg-type]


def rewrite(data: bytes, *, change: dict | None = None, add: dict | None = None) -> bytes:
    """A copy of the ZIP with members replaced (None drops one) and others added, each written
    as a proper member (valid CRC): what someone re-zipping a package would produce."""
    change, add = change or {}, add or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = change.get(info.filename, source.read(info))
            if content is not None:
                target.writestr(info, content)
        for name, content in add.items():
            target.writestr(fmt.zip_info(name, compress=True), content)
    return out.getvalue()


def member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def middle_of_largest_stream(pdf: bytes) -> int:
    """A byte in the middle of the PDF's largest stream (a font or the embedded XML): changing
    it leaves the file parseable, so a verifier must notice the signed bytes changed (a byte
    at a fixed offset sometimes hit the file's structure instead: "cannot be checked")."""
    spans = [
        (match.end(), pdf.index(b"endstream", match.end()))
        for match in re.finditer(rb"(?<!end)stream\r?\n", pdf)
    ]
    start, end = max(spans, key=lambda span: span[1] - span[0])
    return (start + end) // 2


def flip(content: bytes, at: int) -> bytes:
    return content[:at] + bytes([content[at] ^ 0x01]) + content[at + 1 :]


def problems(data: bytes, ca_pem: Path, **limits) -> list[tuple[str, str]]:
    with translation.override("en"):
        report = verify_package(
            io.BytesIO(data), anchor_paths=[ca_pem], limits=Limits(**limits) if limits else None
        )
    return [(p.member, p.message) for p in report.problems]


def named(found: list[tuple[str, str]], name: str, fragment: str) -> bool:
    return any(member_ == name and fragment in message for member_, message in found)


# --- verify_package ------------------------------------------------------------------------------


def test_the_package_verifies(built):
    assert problems(built.zip, built.ca_pem) == []


def test_the_command_says_ok_and_exits_zero(built, tmp_path, capsys):
    path = tmp_path / "package.zip"
    path.write_bytes(built.zip)
    with translation.override("en"):
        call_command("verify_package", str(path), trust_anchor=[built.ca_pem])
    out = capsys.readouterr().out
    assert "2 transcripts, 0 withdrawn, 7 files checked" in out
    assert "OK: every check passed." in out


def test_the_command_names_each_problem_and_exits_one(built, tmp_path, capsys):
    xml = f"transcripts/{built.codes[0]}/1.xml"
    path = tmp_path / "tampered.zip"
    path.write_bytes(rewrite(built.zip, change={xml: None}))
    with translation.override("en"), pytest.raises(CommandError) as error:
        call_command("verify_package", str(path), trust_anchor=[built.ca_pem])
    assert error.value.returncode == 1
    assert f"FAILED {xml}: The manifest lists this file but the package lacks it." in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("which", "expected_member", "fragment"),
    [
        ("schema/hocba-v1.xsd", "schema/hocba-v1.xsd", "SHA-256 differs"),
        ("xml", "xml", "SHA-256 differs"),
        ("pdf", "pdf", "SHA-256 differs"),
        (fmt.MANIFEST, fmt.SIGNATURE, "does not match manifest.xml"),
        (fmt.SIGNATURE, fmt.SIGNATURE, "manifest signature"),
    ],
)
def test_a_changed_byte_in_any_member_is_named(built, which, expected_member, fragment):
    paths = {"xml": f"transcripts/{built.codes[0]}/1.xml",
             "pdf": f"transcripts/{built.codes[0]}/1.pdf"}  # fmt: skip
    name = paths.get(which, which)
    content = member(built.zip, name)
    if name == fmt.MANIFEST:  # a digit of the package id: still a valid id, so still valid XML
        start = content.index(b"<maGoi>") + len(b"<maGoi>")
        at = next(i for i in range(start, start + 36) if content[i : i + 1].isdigit())
    elif name == fmt.SIGNATURE:
        at = len(content) - 10  # inside the RSA signature value
    elif which == "pdf":  # inside the largest stream: the PDF still parses, its bytes differ
        at = middle_of_largest_stream(content)
    else:
        at = len(content) // 2
    found = problems(rewrite(built.zip, change={name: flip(content, at)}), built.ca_pem)
    assert named(found, paths.get(expected_member, expected_member), fragment), found


def test_a_damaged_zip_member_is_named(built):
    name = f"transcripts/{built.codes[1]}/1.pdf"  # stored: its bytes are in the file as is
    with zipfile.ZipFile(io.BytesIO(built.zip)) as archive:
        info = archive.getinfo(name)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 100
    found = problems(flip(built.zip, start), built.ca_pem)
    assert named(found, name, "The member is damaged"), found


@pytest.mark.parametrize("which", ["xml", "pdf", "schema/hocbaso-v1.xsd"])
def test_a_dropped_member_is_named(built, which):
    name = f"transcripts/{built.codes[1]}/1.{which}" if which in ("xml", "pdf") else which
    found = problems(rewrite(built.zip, change={name: None}), built.ca_pem)
    assert found == [(name, "The manifest lists this file but the package lacks it.")]


def test_a_dropped_manifest_or_signature_is_named(built):
    assert named(
        problems(rewrite(built.zip, change={fmt.SIGNATURE: None}), built.ca_pem),
        fmt.SIGNATURE,
        "no manifest signature",
    )
    assert problems(rewrite(built.zip, change={fmt.MANIFEST: None}), built.ca_pem) == [
        (fmt.MANIFEST, "The package has no readable manifest.")
    ]


def test_an_added_member_is_named(built):
    name = f"transcripts/{built.codes[0]}/ghi-chu.txt"
    found = problems(rewrite(built.zip, add={name: b"extra"}), built.ca_pem)
    assert found == [(name, "This file is in the package but not in the manifest.")]


def test_a_pdf_changed_after_signing_is_named_even_when_the_manifest_is_sealed_again(
    built, role_signers
):
    """A failed digest stops the check (issue 18): the transcript's own signature is what
    tells a package sealed again over a changed PDF."""
    pdf = f"transcripts/{built.codes[0]}/1.pdf"
    content = member(built.zip, pdf)
    changed = flip(content, middle_of_largest_stream(content))
    found = problems(resealed(built, role_signers[SignerRole.SEAL], {pdf: changed}), built.ca_pem)
    assert named(found, pdf, "changed after it was signed"), found


def test_another_students_pdf_in_place_of_one_is_named(built, role_signers):
    mine, theirs = (f"transcripts/{code}/1.pdf" for code in built.codes)
    tampered = rewrite(built.zip, change={mine: member(built.zip, theirs)})
    assert problems(tampered, built.ca_pem) == [
        (mine, "The file's size or SHA-256 differs from the manifest.")
    ]
    resealed_ = resealed(built, role_signers[SignerRole.SEAL], {mine: member(built.zip, theirs)})
    found = problems(resealed_, built.ca_pem)
    assert named(found, mine, "The XML embedded in the PDF is not this transcript's XML data")


def test_the_signature_of_another_package_is_named(built):
    other = member(built.single, fmt.SIGNATURE)
    found = problems(rewrite(built.zip, change={fmt.SIGNATURE: other}), built.ca_pem)
    assert found == [(fmt.SIGNATURE, "The manifest signature does not match manifest.xml.")]


def test_a_manifest_resigned_by_an_untrusted_or_another_school_is_named(built, pki):
    from tests.transcripts.conftest import pki_make_cert

    manifest = member(built.zip, fmt.MANIFEST)
    key, cert = pki_make_cert(
        common_name="Trường THCS Ánh Dương", organisation="Trường THCS Ánh Dương"
    )
    untrusted = sign_cms_detached(manifest, Pkcs12Signer(key, cert))
    found = problems(rewrite(built.zip, change={fmt.SIGNATURE: untrusted}), built.ca_pem)
    assert found == [
        (fmt.SIGNATURE, "The manifest is not signed by a certificate of a trusted certification "
         "authority.")
    ]  # fmt: skip
    other_school = make_p12(pki, common_name="Trường Khác", organisation="Trường Khác")
    signer = Pkcs12Signer.from_bytes(other_school, P12_PASSWORD)
    resigned = sign_cms_detached(manifest, signer)
    found = problems(rewrite(built.zip, change={fmt.SIGNATURE: resigned}), built.ca_pem)
    assert found == [
        (fmt.SIGNATURE, "The manifest is signed by “Trường Khác”, not by the school "
         "“Trường THCS Ánh Dương”.")
    ]  # fmt: skip


def raw_zip(*entries: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in entries:
            archive.writestr(info, content)
    return out.getvalue()


def test_unsafe_paths_and_links_are_refused_without_being_read(built):
    link = zipfile.ZipInfo("transcripts/link")
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    data = raw_zip(("../evil.txt", b"x"), ("/etc/passwd", b"x"), ("a/./b", b"x"), (link, b"/etc"))
    found = problems(data, built.ca_pem)
    assert named(found, "../evil.txt", "leaves the package")
    assert named(found, "/etc/passwd", "absolute")
    assert named(found, "a/./b", "leaves the package")
    assert named(found, "transcripts/link", "Symbolic links are not allowed")
    assert not named(found, fmt.MANIFEST, "no readable manifest")  # the check stops at the ZIP


def test_a_zip_bomb_is_refused(built):
    data = raw_zip(("transcripts/x/1.xml", bytes(5_000_000)))
    assert named(problems(data, built.ca_pem), "transcripts/x/1.xml", "compressed suspiciously")
    assert named(
        problems(data, built.ca_pem, max_member_bytes=1000), "transcripts/x/1.xml", "too large"
    )


def test_a_file_that_is_not_a_zip_is_refused(built):
    assert problems(b"%PDF-1.7 not a zip", built.ca_pem) == [("", "The file is not a ZIP package.")]


def test_a_package_needs_a_trust_anchor(built):
    with translation.override("en"):
        report = verify_package(io.BytesIO(built.zip), anchor_paths=[])
    assert [p.message for p in report.problems] == [
        "No trusted certification authority is configured."
    ]


# --- the standard tools: the script of docs/package-format.md, run as it is ---------------------


def doc_script() -> str:
    match = re.search(
        r"<!-- verify-script:start -->\n```sh\n(.*?)```\n<!-- verify-script:end -->",
        DOC.read_text(),
        re.S,
    )
    assert match, "docs/package-format.md lost its verify script"
    return match.group(1)


def run_script(
    data: bytes, ca_pem: Path, tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess:
    tools = {"unzip": "unzip", "xmllint": "libxml2-utils", "xmlsec1": "xmlsec1",
             "pdfsig": "poppler-utils", "pdfdetach": "poppler-utils"}  # fmt: skip
    for tool, package in tools.items():
        if shutil.which(tool) is None:
            pytest.fail(
                f"{tool} is missing: run `sudo scripts/system-deps.sh` (apt-get install {package})"
            )
    script = tmp_path / "verify-package.sh"
    script.write_text(doc_script())
    package = tmp_path / "package.zip"
    package.write_bytes(data)
    return subprocess.run(
        ["sh", str(script), str(package), str(ca_pem), *extra],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_documented_standard_tools_accept_the_package(built, tmp_path):
    run = run_script(built.zip, built.ca_pem, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "subject=O=Trường THCS Ánh Dương, CN=Trường THCS Ánh Dương" in run.stdout
    assert "OK: 2 transcripts, every check passed" in run.stdout


def test_the_documented_standard_tools_accept_the_package_against_our_schemas(built, tmp_path):
    schemas = Path(__file__).resolve().parents[2] / "transcripts" / "schema"
    run = run_script(built.zip, built.ca_pem, tmp_path, str(schemas))
    assert run.returncode == 0, run.stderr
    assert "OK: 2 transcripts, every check passed" in run.stdout


def tampered_copies(built) -> dict[str, tuple[bytes, str]]:
    xml, pdf = (f"transcripts/{built.codes[0]}/1.{ext}" for ext in ("xml", "pdf"))
    other_pdf = f"transcripts/{built.codes[1]}/1.pdf"
    content = member(built.zip, pdf)
    return {
        "changed byte": (
            rewrite(built.zip, change={pdf: flip(content, len(content) // 3)}),
            "a file's SHA-256 differs",
        ),
        "dropped member": (rewrite(built.zip, change={xml: None}), "the ZIP's members differ"),
        "added member": (
            rewrite(built.zip, add={"transcripts/x.txt": b"x"}),
            "the ZIP's members differ",
        ),
        "another student's PDF": (
            rewrite(built.zip, change={pdf: member(built.zip, other_pdf)}),
            "a file's SHA-256 differs",
        ),
        "swapped signature": (
            rewrite(built.zip, change={fmt.SIGNATURE: member(built.single, fmt.SIGNATURE)}),
            "manifest.p7s does not verify",
        ),
    }


@pytest.mark.parametrize(
    "case",
    ["changed byte", "dropped member", "added member", "another student's PDF",
     "swapped signature"],
)  # fmt: skip
def test_the_documented_standard_tools_reject_a_tampered_package(built, tmp_path, case):
    data, reason = tampered_copies(built)[case]
    run = run_script(data, built.ca_pem, tmp_path)
    assert run.returncode != 0
    assert f"FAILED: {reason}" in run.stderr, run.stderr


# --- what only the transcripts' own signatures can reveal -----------------------------------------
# The school itself seals these packages (the manifest lists the files as they are, and its
# signature is genuine): a transcript signed with a look-alike certificate, or changed after it
# was signed, must still be refused.


def look_alike(
    pki, certificate, *, organisation: str | None = None
) -> tuple[rsa.RSAPrivateKey, Pkcs12Signer]:
    """A key, and its signer whose certificate bears ``certificate``'s common name (and
    organisation, or ``organisation``), issued by another CA that bears the test CA's name."""
    (ca_name,) = pki.ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    ca_key, ca = pki_make_cert(common_name=str(ca_name.value), ca=True)
    (name,) = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    given = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    key, forged = pki_make_cert(
        common_name=str(name.value),
        organisation=organisation or (str(given[0].value) if given else None),
        issuer=(ca_key, ca),
    )
    return key, Pkcs12Signer(key, forged, [ca])


def paths(built) -> tuple[str, str]:
    return (f"transcripts/{built.codes[0]}/1.xml", f"transcripts/{built.codes[0]}/1.pdf")


def resealed(built, seal: Pkcs12Signer, change: dict[str, bytes]) -> bytes:
    """The package with members replaced, the manifest's size and SHA-256 of each updated and
    the manifest signed again by ``seal``."""
    manifest = member(built.zip, fmt.MANIFEST).decode()
    for name, content in change.items():
        entry = rf'<tep duongDan="{re.escape(name)}" kichThuoc="\d+" sha256="[0-9a-f]{{64}}"/>'
        replacement = (
            f'<tep duongDan="{name}" kichThuoc="{len(content)}" '
            f'sha256="{hashlib.sha256(content).hexdigest()}"/>'
        )
        manifest, count = re.subn(entry, replacement, manifest)
        assert count == 1, name
    data = manifest.encode()
    signature = sign_cms_detached(data, seal)
    return rewrite(built.zip, change={**change, fmt.MANIFEST: data, fmt.SIGNATURE: signature})


def signed_after_the_homeroom_teacher(
    built, principal, seal, *, bare_key: rsa.RSAPrivateKey | None = None
) -> tuple[bytes, bytes]:
    """The first transcript's XML and PDF as the homeroom teacher left them (the later
    signatures taken off; the PDF's revision that the first signature covers), then signed by
    ``principal`` and ``seal``. With ``bare_key`` (the principal's key), the principal's XML
    signature is made as signxml makes it by default: a bare KeyValue next to the chain."""
    xml_name, pdf_name = paths(built)
    root = etree.fromstring(member(built.zip, xml_name))
    for signature in root.findall(f"{{{DS_NS}}}Signature")[1:]:
        root.remove(signature)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    pdf = member(built.zip, pdf_name)
    first = re.search(rb"/ByteRange\s*\[\s*0\s+\d+\s+(\d+)\s+(\d+)\s*\]", pdf)
    pdf = pdf[: int(first[1]) + int(first[2])]
    for signer, field in ((principal, "HieuTruong"), (seal, "DauTruong")):
        if bare_key is not None and signer is principal:
            xml = with_key_value(xml, bare_key, [signer.certificate, *signer.chain])
        else:
            xml = sign_xml(xml, signer, reference_id="data")
        pdf = sign_pdf(pdf, signer, field_name=field, reason="Học bạ", location="Trường")
    return xml, pdf


def with_key_value(xml: bytes, key: rsa.RSAPrivateKey, chain: list) -> bytes:
    root = etree.fromstring(xml)
    signer = XAdESSigner(
        method=SignatureConstructionMethod.detached,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
    )
    root.append(signer.sign(root, key=key, cert=chain, reference_uri="#data"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_the_documented_standard_tools_accept_a_package_signed_again_genuinely(
    built, role_signers, tmp_path
):
    seal = role_signers[SignerRole.SEAL]
    xml, pdf = signed_after_the_homeroom_teacher(built, role_signers[SignerRole.PRINCIPAL], seal)
    xml_name, pdf_name = paths(built)
    run = run_script(resealed(built, seal, {xml_name: xml, pdf_name: pdf}), built.ca_pem, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "OK: 2 transcripts, every check passed" in run.stdout


@pytest.mark.parametrize(
    ("forged", "organisation", "reason"),
    [
        ("xml", None, "1.xml: XML signature 2 does not verify"),
        # pdfsig finds it valid (the mathematics holds); openssl finds the chain foreign
        ("pdf", None, "1.pdf: signature 2 does not verify or is not by a certificate of the CA"),
        # pdfsig prints the subject too: its words in a name must not count as a verdict
        ("pdf", "Certificate is Trusted.", "1.pdf: signature 2 does not verify or is not by a"),
    ],
    ids=["xml", "pdf", "pdf, a name with pdfsig's words"],
)
def test_the_documented_standard_tools_reject_a_look_alike_principal(
    built, pki, role_signers, tmp_path, forged, organisation, reason
):
    seal, principal = role_signers[SignerRole.SEAL], role_signers[SignerRole.PRINCIPAL]
    key, forger = look_alike(pki, principal.certificate, organisation=organisation)
    common_name = x509.NameOID.COMMON_NAME
    assert forger.certificate.subject.get_attributes_for_oid(common_name) == (
        principal.certificate.subject.get_attributes_for_oid(common_name)
    )
    xml_name, pdf_name = paths(built)
    xml, pdf = signed_after_the_homeroom_teacher(built, forger, seal, bare_key=key)
    assert xml.count(b"<ds:KeyValue>") == 1  # the forger's, as their tool writes it
    change = {xml_name: xml, pdf_name: member(built.zip, pdf_name)}
    if forged == "pdf":
        change = {xml_name: member(built.zip, xml_name), pdf_name: pdf}
    run = run_script(resealed(built, seal, change), built.ca_pem, tmp_path)
    assert run.returncode != 0
    assert f"FAILED: transcripts/{built.codes[0]}/{reason}" in run.stderr, run.stderr


def test_the_documented_standard_tools_reject_a_manifest_sealed_by_a_look_alike(
    built, pki, role_signers, tmp_path
):
    _, forger = look_alike(pki, role_signers[SignerRole.SEAL].certificate)
    run = run_script(resealed(built, forger, {}), built.ca_pem, tmp_path)
    assert run.returncode != 0
    assert "FAILED: manifest.p7s does not verify" in run.stderr


def test_the_documented_standard_tools_judge_pdfsig_by_what_it_prints(
    built, role_signers, tmp_path
):
    _, pdf_name = paths(built)
    content = member(built.zip, pdf_name)
    changed = flip(content, middle_of_largest_stream(content))
    run = run_script(resealed(built, role_signers[SignerRole.SEAL], {pdf_name: changed}),
                     built.ca_pem, tmp_path)  # fmt: skip
    assert run.returncode != 0
    assert f"FAILED: {pdf_name}: a signature is invalid" in run.stderr


def test_the_documented_standard_tools_validate_the_xml_against_its_schema(
    built, role_signers, tmp_path
):
    xml_name, _ = paths(built)
    changed = member(built.zip, xml_name).replace(b"<hocBaSo>", b'<hocBaSo khac="1">', 1)
    run = run_script(resealed(built, role_signers[SignerRole.SEAL], {xml_name: changed}),
                     built.ca_pem, tmp_path)  # fmt: skip
    assert run.returncode != 0
    assert f"FAILED: {xml_name} is not valid against hocbaso-v1.xsd" in run.stderr


def with_document_time_stamp(pdf: bytes, pki) -> bytes:
    """``pdf`` with a document time-stamp after its signatures (PAdES B-LTA's archive
    time-stamp). The token is made in-process: only the file's shape matters here."""
    key, certificate = pki.issue(common_name="TSA")
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stamper = DummyTimeStamper(_to_asn1(certificate), keys.PrivateKeyInfo.load(der))
    output = io.BytesIO()
    PdfTimeStamper(stamper).timestamp_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)), "sha256", output=output
    )
    return output.getvalue()


def test_the_documented_standard_tools_do_not_count_a_document_time_stamp(
    built, pki, pki_nssdb, role_signers, tmp_path
):
    _, pdf_name = paths(built)
    stamped = with_document_time_stamp(member(built.zip, pdf_name), pki)
    report = pdfsig(stamped, pki_nssdb, tmp_path)
    assert report.count("Signature #") == 4  # pdfsig lists it, but cannot check it
    assert "  - Signature Type: unknown" in report
    run = run_script(resealed(built, role_signers[SignerRole.SEAL], {pdf_name: stamped}),
                     built.ca_pem, tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "OK: 2 transcripts, every check passed" in run.stdout
