"""``python -m ganlens``: the command line."""

from .cli import main

raise SystemExit(main())
