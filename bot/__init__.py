"""Everything a person talks to: the answering core and its adapters (command line, console, Discord)."""
