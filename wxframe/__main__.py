"""``python -m wxframe``: the command line."""

from wxframe.cli import main

raise SystemExit(main())
