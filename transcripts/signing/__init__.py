"""Digital signatures for transcripts: signer backends, formats and certificate checks.

See docs/signing.md. Public API::

    from transcripts.signing.signers import Pkcs12Signer, Pkcs11Signer, CscSigner
    from transcripts.signing.formats import sign_pdf, sign_pdfs, sign_xml, sign_cms_detached
    from transcripts.signing.certificates import check_signing_certificate, SigningRefused
"""
