"""Time-stamps, long-term validation and revocation (issue 14, items 3 and 5), against the
certomancer test PKI served over a real socket (OCSP, CRLs, RFC 3161 time-stamps): B-LTA on the
sealed PDF, XAdES-T on the XML, a time-stamped manifest seal, a certificate revoked before the
job refused, one revoked after the signature still valid, an expired signer still verifiable
through the archive time-stamps, a tampered DSS rejected, ``extend_signatures`` travelling in
time, and what pdfsig and pyHanko's command line say about the files."""

from __future__ import annotations

import datetime
import io
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.template.loader import render_to_string
from lxml import etree
from pyhanko.pdf_utils.reader import PdfFileReader

from schools.models import ClassGroup
from tests.conftest import add_students
from tests.transcripts.conftest import _require, complete_year, stored, xmlsec_verify
from tests.transcripts.pki_certomancer import (  # noqa: F401 (the fixture)
    ARCH,
    PASSWORD,
    CertomancerPki,
    certomancer_pki,
)
from transcripts import archiving, batches, jobs
from transcripts.background import JobRefused
from transcripts.models import (
    CredentialKind,
    JobStatus,
    JobStep,
    SignerRole,
    SigningCredential,
    State,
    StoredFileDigest,
    Transcript,
)
from transcripts.packages.verify import verify_package
from transcripts.pipeline import sign_version
from transcripts.signing import ltv
from transcripts.signing.certificates import SigningRefused, check_revocation
from transcripts.signing.formats import DS_NS, finish_pdf, prepare_pdf
from transcripts.signing.pdf_validation import check_pdf
from transcripts.signing.signers import Pkcs12Signer, encrypt_at_rest
from transcripts.verification import Verdict, pdf_signatures, verify_pdf, verify_xml
from transcripts.workflow import confirm_ready, transcript_for

pytestmark = pytest.mark.usefixtures("english")
ROLES = {
    SignerRole.HOMEROOM: "homeroom",
    SignerRole.PRINCIPAL: "principal",
    SignerRole.SEAL: "seal",
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def ltv_setup(settings, certomancer_pki: CertomancerPki, tmp_path):  # noqa: F811
    """Signing at B-LTA against the test PKI, revocation required, verification offline."""
    settings.SIGNING_TRUST_ANCHORS = [str(certomancer_pki.root_pem)]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SITE_URL = "https://hocba.example"
    settings.SIGNING_TSA_URL = certomancer_pki.tsa_url
    settings.SIGNING_PADES_LEVEL = ""
    settings.SIGNING_REVOCATION = "require"
    settings.SIGNING_FETCH_TIMEOUT = 5
    settings.SIGNING_VERIFY_ONLINE = False
    return certomancer_pki


def signer(pki: CertomancerPki, label: str) -> Pkcs12Signer:
    return Pkcs12Signer.from_bytes(pki.p12(label), PASSWORD)


def register(school, user, pki: CertomancerPki, label: str) -> None:
    SigningCredential.objects.create(
        school=school,
        user=user,
        kind=CredentialKind.PKCS12,
        pkcs12_encrypted=encrypt_at_rest(pki.p12(label)),
    )


@pytest.fixture
def sealed(ltv_setup, class_a, homeroom, principal):
    """A transcript confirmed, signed and sealed through the pipeline at B-LTA."""
    student = class_a.enrollments.order_by("roll_number").first().student
    complete_year(class_a, student)
    transcript = transcript_for(student=student, class_group=class_a)
    confirm_ready(actor=homeroom, transcript=transcript)
    actors = {SignerRole.HOMEROOM: homeroom, SignerRole.PRINCIPAL: principal,
              SignerRole.SEAL: principal}  # fmt: skip
    for role, actor in actors.items():
        sign_version(
            actor=actor, transcript=transcript, role=role, signer=signer(ltv_setup, ROLES[role])
        )
    transcript.refresh_from_db()
    return transcript


def b_t_pdf(pki: CertomancerPki, label: str, pdf: bytes, level: ltv.PadesLevel) -> bytes:
    """``pdf`` signed by ``label`` through the two phases at ``level``, the only signature."""
    holder = signer(pki, label)
    settings_ = ltv.LtvSettings(level, pki.tsa_url, ltv.Revocation.REQUIRE, 5, (pki.cert("root"),))
    prepared = prepare_pdf(
        pdf, holder, field_name="GVCN", reason="r", location="x", timestamped=True
    )
    return finish_pdf(
        prepared, holder, holder.sign_digest(prepared.digest), ltv=settings_, last=True
    )


@pytest.fixture(scope="module")
def blank_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>Học bạ</p>").write_pdf()


def pdf_structure(pdf: bytes) -> tuple[int, int, bool]:
    """(regular signatures with a signature time-stamp, document time-stamps, has a DSS)."""
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    stamped = sum(
        1
        for sig in reader.embedded_regular_signatures
        if any(extract_tst_data_iter(sig.signer_info, signed=False))
    )
    return stamped, len(reader.embedded_timestamp_signatures), "/DSS" in reader.root


# --- signing -----------------------------------------------------------------------------------


def test_a_sealed_transcript_is_b_lta_and_its_xml_xades_t(sealed, ltv_setup, tmp_path):
    version = sealed.current_version
    pdf, xml = stored(version.pdf_file), stored(version.xml_file)
    assert sealed.state == State.FINAL
    assert pdf_structure(pdf) == (3, 1, True)  # B-T on each, DSS (B-LT), a document time-stamp
    verdict = verify_pdf(pdf)
    assert verdict.outcome == "genuine", verdict.reason
    assert [s.time_status for s in verdict.signers] == [ltv.TIMESTAMPED] * 3
    assert all(s.timestamped for s in verdict.signers)
    # XAdES-T: a SignatureTimeStamp in every signature; xmlsec1 and signxml still verify each.
    root = etree.fromstring(xml)
    assert len(root.findall(f".//{{{ltv.XADES_NS}}}SignatureTimeStamp")) == 3
    for index in (1, 2, 3):
        run = xmlsec_verify(xml, index, ltv_setup.root_pem, tmp_path)
        assert run.returncode == 0 and "SignedInfo References (ok/all): 3/3" in run.stderr
    xml_verdict = verify_xml(xml)
    assert xml_verdict.outcome == "genuine", xml_verdict.reason
    assert all(s.timestamped for s in xml_verdict.signers)


def test_a_changed_signature_value_breaks_its_xades_timestamp(sealed):
    xml = stored(sealed.current_version.xml_file)
    root = etree.fromstring(xml)
    stamp = root.find(f".//{{{ltv.XADES_NS}}}EncapsulatedTimeStamp")
    other = root.findall(f".//{{{ltv.XADES_NS}}}EncapsulatedTimeStamp")[1]
    stamp.text = other.text  # the principal's time-stamp on the homeroom teacher's signature
    with pytest.raises(Exception, match="time-stamp"):
        ltv.xades_timestamp(root.find(f"{{{DS_NS}}}Signature"), [])
    verdict = verify_xml(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert verdict.outcome == "invalid" and "time-stamp" in verdict.reason


def test_b_lt_embeds_the_ocsp_answers_and_crls(ltv_setup, blank_pdf):
    from pyhanko.sign.validation import DocumentSecurityStore

    pdf = b_t_pdf(ltv_setup, "homeroom", blank_pdf, ltv.PadesLevel.B_LT)
    assert pdf_structure(pdf) == (1, 0, True)
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf), strict=False))
    assert len(dss.ocsps) >= 1 and len(dss.crls) >= 1  # the signer's OCSP, the CAs' CRLs
    assert b_t_pdf(ltv_setup, "homeroom", blank_pdf, ltv.PadesLevel.B_T).count(b"/DSS") == 0


def test_the_pades_level_follows_the_settings(settings):
    settings.SIGNING_TSA_URL = ""
    assert ltv.LtvSettings.from_settings().level == ltv.PadesLevel.B_B
    settings.SIGNING_TSA_URL, settings.SIGNING_PADES_LEVEL = "http://tsa.example/", ""
    assert ltv.LtvSettings.from_settings().level == ltv.PadesLevel.B_LTA
    settings.SIGNING_PADES_LEVEL = "B-LT"
    assert ltv.LtvSettings.from_settings().level == ltv.PadesLevel.B_LT


# --- revocation -------------------------------------------------------------------------------


def test_a_certificate_revoked_before_the_job_is_refused(ltv_setup, school_a, homeroom):
    register(school_a, homeroom, ltv_setup, "revoked")
    with pytest.raises(JobRefused, match=r"revoked on \d\d/\d\d/\d{4}") as refused:
        batches.open_source(school=school_a, user=homeroom, step=JobStep.HOMEROOM, secret=PASSWORD)
    revoked_on = ltv_setup.at(-1).astimezone(datetime.timezone(datetime.timedelta(hours=7)))
    assert revoked_on.strftime("%d/%m/%Y") in refused.value.message


def test_require_refuses_a_certificate_whose_status_cannot_be_checked(ltv_setup, pki):
    # The other test CA names no OCSP responder and no CRL: nothing can say it is not revoked.
    with pytest.raises(SigningRefused, match="cannot be checked"):
        check_revocation(pki.person, chain=[pki.ca], trust_anchors=[pki.ca], mode="require")
    check_revocation(pki.person, chain=[pki.ca], trust_anchors=[pki.ca], mode="if-available")


def test_a_signature_made_before_the_revocation_stays_valid(ltv_setup, blank_pdf):
    pdf = b_t_pdf(ltv_setup, "revoked-later", blank_pdf, ltv.PadesLevel.B_LTA)
    later = ltv_setup.at(60)  # revoked on day 30
    with ltv_setup.travel(later):
        [check] = check_pdf(pdf, anchors=[ltv_setup.cert("root")], online=True, moment=later)
    assert check.status == ltv.TIMESTAMPED
    assert check.revoked_at == ltv_setup.at(30)
    assert check.signed_at < check.revoked_at
    with ltv_setup.travel(later):
        [info] = pdf_signatures(pdf, [ltv_setup.cert("root")], online=True, moment=later)
    page = render_to_string(
        "transcripts/verify.html", {"verdict": Verdict("unknown_document", "pdf", signers=[info])}
    )
    assert "signed while the certificate was valid (time-stamped)" in page
    assert f"revoked on {ltv_setup.at(30).astimezone(_vn()).strftime('%d/%m/%Y')}" in page


def _vn() -> datetime.timezone:
    return datetime.timezone(datetime.timedelta(hours=7))


def test_a_signature_made_after_the_revocation_is_not_valid(ltv_setup, blank_pdf):
    # Signed without the check of a job (the key was stolen): the validation finds the revocation.
    holder = signer(ltv_setup, "revoked")
    prepared = prepare_pdf(blank_pdf, holder, field_name="GVCN", reason="r", location="x")
    pdf = finish_pdf(prepared, holder, holder.sign_digest(prepared.digest))
    with ltv_setup.travel(ltv_setup.at(1)):
        [check] = check_pdf(pdf, anchors=[ltv_setup.cert("root")], online=True)
        assert check.status == ltv.REVOKED
        verdict_reason = _reason(pdf, online=True)
    assert "revoked before the document was signed" in verdict_reason


def _reason(pdf: bytes, *, online: bool) -> str:
    from transcripts.verification import InvalidDocument

    try:
        pdf_signatures(pdf, [], online=online)
    except InvalidDocument as exc:  # no anchors: untrusted
        assert "trusted" in exc.reason
    from django.conf import settings

    settings.SIGNING_VERIFY_ONLINE = online
    return verify_pdf(pdf).reason


# --- long-term: expired certificates, a tampered DSS -------------------------------------------


def test_an_expired_signer_with_b_lta_is_still_verifiable(sealed, ltv_setup):
    pdf = stored(sealed.current_version.pdf_file)
    after_expiry = ltv_setup.at(500)  # the signers' certificates expired on day 365
    anchors = [ltv_setup.cert("root")]
    with ltv_setup.travel(after_expiry):
        offline = check_pdf(pdf, anchors=anchors, moment=after_expiry)
        online = check_pdf(pdf, anchors=anchors, online=True, moment=after_expiry)
    assert [c.status for c in offline] == [ltv.TIMESTAMPED] * 3
    assert [c.status for c in online] == [ltv.TIMESTAMPED] * 3
    signed = [s.signed_at for s in verify_pdf(pdf).signers]  # today's verdict, same times
    assert [c.signed_at for c in offline] == signed
    # Once the time-stamping authority's own certificate has expired (day 730) too, only an
    # archive time-stamp taken before keeps it verifiable (test_extend_signatures_...).
    with ltv_setup.travel(ltv_setup.at(800)):
        late = check_pdf(pdf, anchors=anchors, moment=ltv_setup.at(800))
    assert [c.status for c in late] == [ltv.INDETERMINATE] * 3


def test_without_archive_timestamp_an_expired_signer_cannot_be_established(ltv_setup, blank_pdf):
    pdf = b_t_pdf(ltv_setup, "homeroom", blank_pdf, ltv.PadesLevel.B_T)
    with ltv_setup.travel(ltv_setup.at(500)):
        [check] = check_pdf(pdf, anchors=[ltv_setup.cert("root")], moment=ltv_setup.at(500))
    # The time-stamp says when, but the certificate's status then cannot be shown offline: its
    # OCSP answer in the DSS expired long ago and no document time-stamp vouches for it.
    assert check.status == ltv.INDETERMINATE


def test_a_tampered_dss_is_rejected(sealed):
    pdf = bytearray(stored(sealed.current_version.pdf_file))
    reader = PdfFileReader(io.BytesIO(bytes(pdf)), strict=False)
    start, length = (int(n) for n in list(reader.embedded_regular_signatures[-1].byte_range)[2:])
    seal_end = start + length  # the seal's signature covers the file up to here
    stamp_start = int(list(reader.embedded_timestamp_signatures[0].byte_range)[1])
    dss_revision = bytes(pdf[seal_end:stamp_start])  # the DSS update, under the time-stamp
    stream = dss_revision.index(b"stream") + 40  # inside the first DSS stream (an OCSP answer)
    pdf[seal_end + stream] ^= 0x01
    verdict = verify_pdf(bytes(pdf))
    assert verdict.outcome == "invalid"
    assert verdict.reason == "The document was changed after it was signed."


# --- independent tools --------------------------------------------------------------------------


def test_pdfsig_and_pyhanko_on_the_b_lta_file(sealed, ltv_setup, tmp_path):
    """pdfsig (poppler 22.12) checks each signature's bytes but not document time-stamps, and
    reports "Unknown issue with Certificate" for certificates that name an OCSP responder, so
    only the signatures' integrity is asserted; pyHanko's AdES validation (``pyhanko sign
    adesverify``: pyhanko-cli 0.6 has no ``validate --ltv-profile``) checks everything."""
    path = tmp_path / "hocba.pdf"
    path.write_bytes(stored(sealed.current_version.pdf_file))
    pdfsig = _require("pdfsig", "poppler-utils")
    report = subprocess.run([pdfsig, str(path)], capture_output=True, text=True).stdout
    assert len(re.findall(r"^Signature #\d+:", report, re.M)) == 4
    assert report.count("Signature is Valid.") == 3
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Signature has not yet been verified." in report  # the document time-stamp
    cli = Path(sys.executable).with_name("pyhanko")
    if not cli.exists():
        pytest.fail("pyhanko-cli is missing: pip install -e '.[test]' (pyhanko-cli)")
    run = subprocess.run(
        [str(cli), "sign", "adesverify", "--trust", str(ltv_setup.root_pem), "--trust-replace",
         "--no-revocation-check", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert len(lines) == 3 and all("INTACT:TRUSTED" in line for line in lines), run.stdout
    assert all("TIMESTAMP_TOKEN<INTACT:TRUSTED>" in line for line in lines)
    assert "EXTENDED_WITH_LTA_UPDATES" in lines[-1]


# --- archive time-stamps (extend_signatures), travelling in time -------------------------------


def test_extend_signatures_adds_an_archive_timestamp_when_due(sealed, ltv_setup, settings):
    version = sealed.current_version
    first = stored(version.pdf_file)
    # TSA "tsa" certificate expires on day 730: not due on day 100 (630 days left), due on 400.
    soon = ltv_setup.at(100)
    with ltv_setup.travel(soon):
        assert archiving.extend_due_versions(now=soon).extended == []
    settings.SIGNING_TSA_URL = ltv_setup.tsa2_url  # the authority renewed its certificate
    due = ltv_setup.at(400)
    with ltv_setup.travel(due):
        result = archiving.extend_due_versions(now=due, batch=1)
        assert (result.extended, result.failed) == ([version.pk], [])
        again = archiving.extend_due_versions(now=due)  # idempotent
        assert (again.extended, again.skipped) == ([], 1)
    version.refresh_from_db()
    extended = stored(version.pdf_file)
    assert extended.startswith(first) and pdf_structure(extended)[1] == 2
    assert "4-archive" in version.pdf_file.name
    earlier = StoredFileDigest.objects.get(version=version)
    assert earlier.sha256 == ltv.hashlib.sha256(first).hexdigest()
    # Both files are recognised: the one handed out before, and the extended one.
    assert verify_pdf(first).outcome == verify_pdf(extended).outcome == "genuine"
    # Years later, both authorities' first certificate and the signers' long expired.
    far = ltv_setup.at(1000)
    with ltv_setup.travel(far):
        checks = check_pdf(extended, anchors=[ltv_setup.cert("root")], online=True, moment=far)
    assert [c.status for c in checks] == [ltv.TIMESTAMPED] * 3


def test_the_command_reports_and_skips_what_is_not_due(sealed, capsys):
    call_command("extend_signatures", "--days", "30")
    assert "0 extended, 1 not due, 0 failed." in capsys.readouterr().out


def test_the_command_hands_the_run_to_a_worker(sealed, capsys, settings):
    """--enqueue queues the task by its name; the worker (here the immediate backend) runs it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    call_command("extend_signatures", "--days", "30", "--enqueue")
    assert "Enqueued: " in capsys.readouterr().out


# --- the job path, with the time-stamping authority and OCSP on --------------------------------


def confirmed_class(pki, school, homeroom, principal, names) -> list[Transcript]:
    """Complete students ``names`` of class 6A9, confirmed, and the certomancer PKI's PKCS#12
    files registered as the homeroom teacher's, the principal's and the school seal's."""
    class_group = ClassGroup.objects.create(
        year=school.current_year(), name="6A9", grade=6, homeroom_teacher=homeroom
    )
    transcripts = []
    for student in add_students(class_group, names, 200):
        complete_year(class_group, student)
        transcript = transcript_for(student=student, class_group=class_group)
        confirm_ready(actor=homeroom, transcript=transcript)
        transcripts.append(transcript)
    register(school, homeroom, pki, "homeroom")
    register(school, principal, pki, "principal")
    register(school, None, pki, "seal")
    return transcripts


@pytest.fixture
def ltv_class(ltv_setup, school_a, homeroom, principal):
    """Two complete students of class 6A9, confirmed, and the certomancer PKI's PKCS#12 files
    registered as the homeroom teacher's, the principal's and the school seal's."""
    names = [("Đặng Thu Hà", "F"), ("Vũ Đức Anh", "M")]
    return confirmed_class(ltv_setup, school_a, homeroom, principal, names)


def run(actor, transcripts, steps, django_capture_on_commit_callbacks) -> None:
    job = jobs.start_job(
        actor=actor,
        school=transcripts[0].school,
        year=transcripts[0].year,
        transcripts=transcripts,
        steps=steps,
        secrets={step: PASSWORD for step in steps},
        class_group=transcripts[0].class_group,
        in_background=False,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.run_job(job.pk)["status"] == JobStatus.FINISHED
    job.refresh_from_db()
    assert (job.done, job.failures) == (len(transcripts), [])


def test_a_class_signed_and_sealed_through_jobs_is_b_lta(
    ltv_class, ltv_setup, homeroom, principal, tmp_path, django_capture_on_commit_callbacks
):
    run(homeroom, ltv_class, [JobStep.HOMEROOM], django_capture_on_commit_callbacks)
    run(principal, ltv_class, [JobStep.PRINCIPAL, JobStep.SEAL], django_capture_on_commit_callbacks)
    for transcript in ltv_class:
        version = Transcript.objects.get(pk=transcript.pk).current_version
        pdf = stored(version.pdf_file)
        assert pdf_structure(pdf) == (3, 1, True)
        assert [s.time_status for s in verify_pdf(pdf).signers] == [ltv.TIMESTAMPED] * 3
        xml = stored(version.xml_file)
        assert etree.fromstring(xml).findall(f".//{{{ltv.XADES_NS}}}SignatureTimeStamp")


def test_an_exported_package_has_a_timestamped_seal(
    ltv_class, ltv_setup, admin, homeroom, principal, django_capture_on_commit_callbacks, tmp_path
):
    from tests.transcripts.conftest import export_now

    run(homeroom, ltv_class, [JobStep.HOMEROOM], django_capture_on_commit_callbacks)
    run(principal, ltv_class, [JobStep.PRINCIPAL, JobStep.SEAL], django_capture_on_commit_callbacks)
    package = export_now(admin, ltv_class[0].school)
    assert package.status == JobStatus.FINISHED, package.message
    with package.file.open("rb") as handle:
        report = verify_package(io.BytesIO(handle.read()))
    assert report.ok, report.problems
    assert report.sealed_at is not None
    assert (report.timestamped_signatures, report.pdf_signatures) == (6, 6)
    assert report.notes == []
    # The documented standard-tools script accepts it too: certificates that name an OCSP
    # responder (pdfsig alone cannot judge their trust) and B-LTA document time-stamps.
    from tests.transcripts.test_package_verify import run_script

    with package.file.open("rb") as handle:
        script = run_script(handle.read(), ltv_setup.root_pem, tmp_path)
    assert script.returncode == 0, script.stderr
    assert "OK: 2 transcripts, every check passed" in script.stdout


# --- a batch shares its time-stamping client and revocation data (ltv.LtvSession) ------------


@pytest.fixture
def animator_requests(ltv_setup, monkeypatch):
    """Every request the certomancer animator answers, as (phase, path): the phase is the role
    of the batch being finished (``batches.finish_batch``), "" outside one."""
    from transcripts import batches

    seen: list[tuple[str, str]] = []
    phase = [""]
    dispatch = ltv_setup.animator.dispatch

    def counting(request):
        seen.append((phase[0], request.path))
        return dispatch(request)

    finish = batches.finish_batch

    def finishing(**kwargs):
        phase[0] = kwargs["batch"].role
        try:
            return finish(**kwargs)
        finally:
            phase[0] = ""

    monkeypatch.setattr(ltv_setup.animator, "dispatch", counting)
    monkeypatch.setattr(batches, "finish_batch", finishing)
    return seen


def _revocation(paths: Counter) -> dict[str, int]:
    return {path: n for path, n in paths.items() if "/ocsp/" in path or "/crls/" in path}


def test_a_batch_fetches_its_chains_revocation_data_once(
    ltv_setup,
    school_a,
    homeroom,
    principal,
    animator_requests,
    django_capture_on_commit_callbacks,
):
    names = [("Đặng Thu Hà", "F"), ("Vũ Đức Anh", "M"), ("Lê Minh Châu", "F")]
    transcripts = confirmed_class(ltv_setup, school_a, homeroom, principal, names)
    run(homeroom, transcripts, [JobStep.HOMEROOM], django_capture_on_commit_callbacks)
    run(
        principal,
        transcripts,
        [JobStep.PRINCIPAL, JobStep.SEAL],
        django_capture_on_commit_callbacks,
    )
    tsa = f"/{ARCH}/tsa/tsa"
    for role in (SignerRole.HOMEROOM, SignerRole.PRINCIPAL, SignerRole.SEAL):
        paths = Counter(path for phase, path in animator_requests if phase == role)
        # The signer's OCSP answer and the CAs' CRLs once for the three transcripts, not thrice.
        revocation = _revocation(paths)
        assert any("/ocsp/" in path for path in revocation), paths
        assert any("/crls/" in path for path in revocation), paths
        assert set(revocation.values()) == {1}, paths
        # Time-stamps stay one per signature: the PDF's and the XML's; the seal's documents
        # also get their document time-stamp (the size of the authority's answer measured once).
        assert paths[tsa] == (3 * 3 + 1 if role == SignerRole.SEAL else 3 * 2), paths
    for transcript in transcripts:  # each file carries what its validation needs
        pdf = stored(Transcript.objects.get(pk=transcript.pk).current_version.pdf_file)
        assert pdf_structure(pdf) == (3, 1, True)
        assert [s.time_status for s in verify_pdf(pdf).signers] == [ltv.TIMESTAMPED] * 3
        with ltv_setup.travel(ltv_setup.at(500)):  # every signer's certificate expired
            checks = check_pdf(pdf, anchors=[ltv_setup.cert("root")], moment=ltv_setup.at(500))
        assert [c.status for c in checks] == [ltv.TIMESTAMPED] * 3


def test_sign_batch_fetches_the_revocation_data_once_per_chunk(
    ltv_setup, school_a, homeroom, principal, animator_requests
):
    from transcripts.pipeline import sign_batch

    names = [("Đặng Thu Hà", "F"), ("Vũ Đức Anh", "M"), ("Lê Minh Châu", "F")]
    transcripts = confirmed_class(ltv_setup, school_a, homeroom, principal, names)
    result = sign_batch(
        actor=homeroom,
        transcripts=transcripts,
        role=SignerRole.HOMEROOM,
        signer=signer(ltv_setup, "homeroom"),
        chunk_size=2,
    )
    assert (result.done, result.failed) == (3, [])
    revocation = _revocation(Counter(path for _phase, path in animator_requests))
    assert revocation and set(revocation.values()) == {2}, revocation  # two chunks


def _signed(pki: CertomancerPki, pdf: bytes, session: ltv.LtvSession) -> bytes:
    holder = signer(pki, "homeroom")
    prepared = prepare_pdf(
        pdf, holder, field_name="GVCN", reason="r", location="x", timestamped=True
    )
    return finish_pdf(prepared, holder, holder.sign_digest(prepared.digest), ltv=session)


def _dss_ocsps(pdf: bytes) -> int:
    from pyhanko.sign.validation import DocumentSecurityStore

    return len(DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf), strict=False)).ocsps)


def test_a_session_fetches_again_once_the_answers_expire(ltv_setup, blank_pdf, animator_requests):
    settings_ = ltv.LtvSettings(
        ltv.PadesLevel.B_LT, ltv_setup.tsa_url, ltv.Revocation.REQUIRE, 5, (ltv_setup.cert("root"),)
    )

    def ocsp_requests() -> int:
        return sum(1 for _phase, path in animator_requests if "/ocsp/" in path)

    with ltv.LtvSession(settings_) as session:
        first, second = (_signed(ltv_setup, blank_pdf, session) for _ in range(2))
        assert ocsp_requests() == 1
        # The test responder's answers are valid for 10 minutes: 9 minutes later they are
        # fetched again (REUSE_MARGIN before their end).
        later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=9)
        with ltv_setup.travel(later):
            third = _signed(ltv_setup, blank_pdf, session)
        assert ocsp_requests() == 2
    assert session.fetcher_generations == 2
    for pdf in (first, second, third):
        assert pdf_structure(pdf) == (1, 0, True) and _dss_ocsps(pdf) == 1


def test_a_failed_fetch_is_not_reused(ltv_setup, blank_pdf, animator_requests, monkeypatch):
    from werkzeug.wrappers import Response

    settings_ = ltv.LtvSettings(
        ltv.PadesLevel.B_LT,
        ltv_setup.tsa_url,
        ltv.Revocation.IF_AVAILABLE,
        5,
        (ltv_setup.cert("root"),),
    )
    dispatch = ltv_setup.animator.dispatch  # the counting one
    refused = []

    def responder_down_once(request):
        if "/ocsp/" in request.path and not refused:
            refused.append(request.path)
            return Response("down", status=503)
        return dispatch(request)

    monkeypatch.setattr(ltv_setup.animator, "dispatch", responder_down_once)
    with ltv.LtvSession(settings_) as session:
        first = _signed(ltv_setup, blank_pdf, session)  # if-available: signed without it
        second = _signed(ltv_setup, blank_pdf, session)  # asked again, not the failure reused
        third = _signed(ltv_setup, blank_pdf, session)  # the answer of the second reused
    assert refused and (_dss_ocsps(first), _dss_ocsps(second), _dss_ocsps(third)) == (0, 1, 1)
    assert sum(1 for _phase, path in animator_requests if "/ocsp/" in path) == 1  # the second's
