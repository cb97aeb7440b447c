"""Public verification: everyone, including anonymous visitors, gets 200. An unknown code is a
200 page saying "unknown code" (not a 404): the QR target answers with a verdict either way."""

from tests.matrix import Row, everyone

ROWS = [
    Row("transcripts:verify_home", lambda w: {}, everyone(200, anonymous=200)),
    Row(
        "transcripts:verify_code",
        lambda w: {"code": "ZZZZZZZZZZ"},
        everyone(200, anonymous=200),
        label="unknown code",
    ),
]
