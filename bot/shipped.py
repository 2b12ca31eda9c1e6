"""Where the knowledge base shipped inside the package lives (light: no settings machinery)."""

from __future__ import annotations

from pathlib import Path

# bot/knowledge_base links to the repository's knowledge/ folder; a wheel carries a copy, so
# `triage-bot classify` finds the shipped knowledge base from any folder and any install.
DEFAULT_KNOWLEDGE_DIR = Path(__file__).resolve().parent / "knowledge_base"
