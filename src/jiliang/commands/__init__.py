"""Sub-commands of the CLI, one module per capability, each a Typer app added at the end of cli.py."""
