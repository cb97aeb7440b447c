"""A test PKI that speaks the real protocols: certomancer describes a root CA, a school CA under
it, the signers (the test personas' names, the school seal), an OCSP responder, CRLs and two
time-stamping authorities, and its "animator" (a WSGI application) serves OCSP, CRLs and
RFC 3161 time-stamps over a real socket on 127.0.0.1 for the whole test session.

The URLs written into the certificates (AIA OCSP, CRL distribution points) must name the port the
animator listens on, so the socket is bound first (port 0: an ephemeral port) and the
configuration is generated with its address.

Time travel: :meth:`CertomancerPki.travel` makes the animator answer (OCSP, CRLs, time-stamps)
as of another moment and sets the clock to it; pyHanko is told the same moment (``moment`` /
``now`` arguments).

Timeline, relative to :attr:`CertomancerPki.epoch` (the session's start):

- root CA and school CA: from 2 years before to 30 / 20 years after;
- the signers (homeroom teacher, principal, seal): 30 days before to 1 year after;
- ``revoked``: a signer revoked since the day before (refused at the start of a job);
- ``revoked-later``: a signer revoked 30 days after (a signature made now stays valid);
- TSA ``tsa``: 1 year before to 2 years after; ``tsa2`` (its successor): to 12 years after.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

ARCH = "sodiem-test"
SCHOOL = "Trường THCS Ánh Dương"
PASSWORD = "mat-khau-ky-so"  # the same as conftest.P12_PASSWORD
KEYS = ("root", "school-ca", "ocsp", "tsa", "tsa2", "homeroom", "principal", "seal",
        "revoked", "revoked-later")  # fmt: skip
#: The signing certificates (label → subject); CN = the personas' display names.
SIGNERS = {
    "homeroom": {"common-name": "homeroom"},
    "principal": {"common-name": "principal"},
    "seal": {"common-name": SCHOOL, "organization-name": SCHOOL},
    "revoked": {"common-name": "homeroom"},
    "revoked-later": {"common-name": "principal"},
}


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _key_usage(*params: str) -> dict[str, Any]:
    return {"id": "key_usage", "critical": True,
            "smart-value": {"schema": "key-usage", "params": list(params)}}  # fmt: skip


def _ca(issuer: str, start: datetime.datetime, end: datetime.datetime, crl: str | None):
    extensions: list[dict[str, Any]] = [
        {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
        _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
    ]
    if crl:
        extensions.append(_crl_point(crl))
    return {"issuer": issuer, "validity": {"valid-from": _iso(start), "valid-to": _iso(end)},
            "extensions": extensions}  # fmt: skip


def _crl_point(repo: str) -> dict[str, Any]:
    params = {"crl-repo-names": [repo]}
    return {"id": "crl_distribution_points",
            "smart-value": {"schema": "crl-dist-url", "params": params}}  # fmt: skip


def _ocsp_point(responder: str) -> dict[str, Any]:
    return {"id": "authority_information_access",
            "smart-value": {"schema": "aia-urls",
                            "params": {"ocsp-responder-names": [responder]}}}  # fmt: skip


def config(base_url: str, key_dir: Path, epoch: datetime.datetime) -> dict[str, Any]:
    """The certomancer configuration, its URLs under ``base_url``."""
    day = datetime.timedelta(days=1)
    year = 365 * day
    signer_validity = {"valid-from": _iso(epoch - 30 * day), "valid-to": _iso(epoch + year)}
    signer_extensions = [
        _key_usage("digital_signature", "non_repudiation"),
        _ocsp_point("school-ca"),
        _crl_point("school-ca"),
    ]
    certs: dict[str, Any] = {
        "root": _ca("root", epoch - 2 * year, epoch + 30 * year, None),
        "school-ca": _ca("root", epoch - 2 * year, epoch + 20 * year, "root"),
        "ocsp": {
            "issuer": "school-ca",
            "validity": {"valid-from": _iso(epoch - year), "valid-to": _iso(epoch + 20 * year)},
            "extensions": [
                _key_usage("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                {"id": "ocsp_no_check"},
            ],
        },
    }
    for tsa, years in (("tsa", 2), ("tsa2", 12)):
        certs[tsa] = {
            "issuer": "root",
            "validity": {"valid-from": _iso(epoch - year), "valid-to": _iso(epoch + years * year)},
            "extensions": [
                _key_usage("digital_signature", "non_repudiation"),
                {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                _crl_point("root"),
            ],
        }
    for label in SIGNERS:
        certs[label] = {"issuer": "school-ca", "validity": signer_validity,
                        "extensions": signer_extensions}  # fmt: skip
    certs["revoked"]["revocation"] = {
        "revoked-since": _iso(epoch - day),
        "reason": "key_compromise",
    }
    certs["revoked-later"]["revocation"] = {
        "revoked-since": _iso(epoch + 30 * day),
        "reason": "key_compromise",
    }
    entities = {
        "root": {"common-name": "Sổ điểm TEST Root CA", "organization-name": "Sổ điểm TEST"},
        "school-ca": {"common-name": "Sổ điểm TEST School CA", "organization-name": "Sổ điểm TEST"},
        "ocsp": {"common-name": "Sổ điểm TEST OCSP", "organization-name": "Sổ điểm TEST"},
        "tsa": {"common-name": "Sổ điểm TEST TSA", "organization-name": "Sổ điểm TEST"},
        "tsa2": {"common-name": "Sổ điểm TEST TSA 2", "organization-name": "Sổ điểm TEST"},
        **SIGNERS,
    }
    return {
        "external-url-prefix": base_url,
        "keysets": {
            ARCH: {
                "path-prefix": str(key_dir),
                "keys": {label: {"path": f"{label}.key.pem"} for label in KEYS},
            }
        },
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entities": entities,
                "certs": certs,
                "services": {
                    "ocsp": {
                        "school-ca": {
                            "for-issuer": "school-ca",
                            "responder-cert": "ocsp",
                            "signing-key": "ocsp",
                        }
                    },
                    "crl-repo": {
                        "root": {
                            "for-issuer": "root",
                            "signing-key": "root",
                            "simulated-update-schedule": "P7D",
                        },
                        "school-ca": {
                            "for-issuer": "school-ca",
                            "signing-key": "school-ca",
                            "simulated-update-schedule": "P7D",
                        },
                    },
                    "time-stamping": {
                        "tsa": {"signing-key": "tsa", "signing-cert": "tsa"},
                        "tsa2": {"signing-key": "tsa2", "signing-cert": "tsa2"},
                    },
                },
            }
        },
    }


class _Dispatch:
    """The WSGI application the socket serves; the animator is set once the port is known."""

    app: Any = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclasses.dataclass
class CertomancerPki:
    dir: Path
    base_url: str
    epoch: datetime.datetime
    arch: Any  # certomancer.registry.PKIArchitecture
    animator: Any  # certomancer.integrations.animator.Animator
    root_pem: Path

    def url(self, service: str, label: str) -> str:
        return f"{self.base_url}/{ARCH}/{service}/{label}"

    @property
    def tsa_url(self) -> str:
        return self.url("tsa", "tsa")

    @property
    def tsa2_url(self) -> str:
        return self.url("tsa", "tsa2")

    def cert(self, label: str) -> x509.Certificate:
        from certomancer.registry import CertLabel

        return x509.load_der_x509_certificate(self.arch.get_cert(CertLabel(label)).dump())

    def p12(self, label: str, password: str = PASSWORD) -> bytes:
        """The PKCS#12 of a signer: key, certificate, school CA and root."""
        from certomancer.registry import CertLabel

        data = self.arch.package_pkcs12(CertLabel(label), password=password.encode())
        key, cert, _chain = pkcs12.load_key_and_certificates(data, password.encode())
        assert isinstance(key, rsa.RSAPrivateKey) and cert is not None
        return data

    def at(self, days: float) -> datetime.datetime:
        return self.epoch + datetime.timedelta(days=days)

    @contextlib.contextmanager
    def travel(self, moment: datetime.datetime) -> Iterator[datetime.datetime]:
        """Inside the block it is ``moment``: the animator answers as of then (OCSP, CRLs,
        time-stamps) and the clock says so too (freezegun, ticking), so that pyHanko's
        validation, which reads the clock in places, sees one consistent time."""
        from freezegun import freeze_time

        self.animator.fixed_time = moment
        try:
            with freeze_time(moment, tick=True):
                yield moment
        finally:
            self.animator.fixed_time = None


def _write_keys(key_dir: Path) -> None:
    key_dir.mkdir(parents=True, exist_ok=True)
    for label in KEYS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (key_dir / f"{label}.key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[CertomancerPki]:
    """Generate the keys and the configuration, and serve the animator on 127.0.0.1 (an
    ephemeral port) in a background thread until the block ends."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig
    from werkzeug.serving import make_server

    dispatch = _Dispatch()
    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    epoch = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    _write_keys(directory / "keys")
    cfg = CertomancerConfig(
        config(base_url, directory / "keys", epoch), key_search_dir=str(directory)
    )
    arch = cfg.get_pki_arch(ArchLabel(ARCH))
    animator = Animator(AnimatorArchStore(cfg.pki_archs), with_web_ui=False)
    dispatch.app = animator
    root_pem = directory / "root.pem"
    root_pem.write_bytes(
        x509.load_der_x509_certificate(arch.get_cert(CertLabel("root")).dump()).public_bytes(
            serialization.Encoding.PEM
        )
    )
    thread = threading.Thread(target=server.serve_forever, name="certomancer", daemon=True)
    thread.start()
    try:
        yield CertomancerPki(directory, base_url, epoch, arch, animator, root_pem)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture(scope="session")
def certomancer_pki(tmp_path_factory) -> Iterator[CertomancerPki]:
    """The certomancer test PKI, served for the session (see the module docstring)."""
    with serve(tmp_path_factory.mktemp("certomancer")) as pki:
        yield pki
