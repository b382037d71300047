"""``python -m anncompiler``: see :mod:`anncompiler.cli`."""
from anncompiler.cli import main

raise SystemExit(main())
