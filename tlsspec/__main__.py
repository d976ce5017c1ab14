"""``python -m tlsspec``: the same as the ``tlsspec`` command."""

import sys

try:
    from tlsspec.cli import main
except KeyboardInterrupt:
    # Ctrl-C while the command line itself loads; main() answers one
    # that comes later (tlsspec/cli.py).
    print("tlsspec: interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
