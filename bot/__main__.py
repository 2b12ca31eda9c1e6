"""`python -m bot` runs the `triage-bot` command."""

from bot.cli import main

if __name__ == "__main__":
    main()
