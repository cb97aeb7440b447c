"""Run the test receiving server of the provincial upload contract in the foreground (for
demos and manual tests; never a province's real system).

    python manage.py province_receiver [--port 8765] [--token T] [--dir DIR] \\
        [--fail-next N] [--timeout-next N --delay S] [--drop-next N --drop-after BYTES]

Uploads land in --dir and are checked with the same verifier as ``verify_package``, against
SIGNING_TRUST_ANCHORS (or --trust-anchor). Point a school at it with PROVINCE_UPLOAD_URL (or its
settings page): the address is printed at start.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from transcripts.packages.receiver import ProvinceReceiver


class Command(BaseCommand):
    help = "Run a test server that receives transcript packages (docs/provincial-upload.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--token", default="demo-token", help="The bearer token to accept")
        parser.add_argument("--dir", type=Path, help="Where uploads are kept (default: a temp dir)")
        parser.add_argument("--trust-anchor", action="append", type=Path, dest="anchors")
        parser.add_argument("--fail-next", type=int, default=0, help="Answer N requests with 503")
        parser.add_argument("--timeout-next", type=int, default=0, help="Stall N requests")
        parser.add_argument("--delay", type=float, default=60.0, help="How long a stall lasts")
        parser.add_argument(
            "--drop-next", type=int, default=0, help="Hang up in the middle of N chunks"
        )
        parser.add_argument("--drop-after", type=int, default=100_000, help="Bytes read first")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = options["dir"] or Path(tempfile.mkdtemp(prefix="province-receiver-"))
        receiver = ProvinceReceiver(
            token=options["token"],
            anchor_paths=options["anchors"] or settings.SIGNING_TRUST_ANCHORS,
            directory=directory,
            host=options["host"],
            port=options["port"],
            echo=lambda line: self.stdout.write(line),
        )
        faults = receiver.faults
        faults.fail_next, faults.timeout_next = options["fail_next"], options["timeout_next"]
        faults.delay = options["delay"]
        faults.drop_next, faults.drop_after = options["drop_next"], options["drop_after"]
        self.stdout.write(f"Receiving packages at {receiver.url} (token {options['token']!r})")
        self.stdout.write(f"Uploads are kept in {directory}; Ctrl-C stops.")
        try:
            receiver.server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            receiver.server.server_close()
        for upload in receiver.uploads.values():
            self.stdout.write(f"{upload.id}: {upload.status} {upload.receipt.get('receiptId', '')}")
