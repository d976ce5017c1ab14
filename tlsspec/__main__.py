"""``python -m tlsspec``: the same as the ``tlsspec`` command."""

from tlsspec.cli import main

raise SystemExit(main())
