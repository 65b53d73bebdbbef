"""`python -m bot ...`: the same commands as `iom-bot ...`."""

from bot.cli import main

raise SystemExit(main())
