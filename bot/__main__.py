"""`python -m bot ...`: the same commands as `iom-bot ...`."""

from bot.cli import main

# Guarded: a child process started with "spawn" (the index build) imports this module as __mp_main__.
if __name__ == "__main__":
    raise SystemExit(main())
