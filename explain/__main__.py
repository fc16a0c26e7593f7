"""``python -m explain`` runs the command line."""

from explain.cli import main

raise SystemExit(main())
