"""`python -m sodiem_companion`: start the signing companion."""

import sys

from sodiem_companion.cli import main

sys.exit(main())
