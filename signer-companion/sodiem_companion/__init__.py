"""Sổ điểm signing companion.

A small HTTP service on 127.0.0.1 that the school's web site asks to sign a batch of SHA-256
digests with a key on a USB token (PKCS#11). The person at this computer sees what is about to
be signed and types the token PIN once, here; the PIN never leaves this computer. No Django.
"""

__version__ = "0.1.0"
APP_NAME = "sodiem-companion"
