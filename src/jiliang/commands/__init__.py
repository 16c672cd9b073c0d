"""Sub-commands of the CLI, one module per capability, each a Typer app that cli.py adds; the helpers they
share with cli.py live in ``common.py``, so no command imports ``jiliang.cli``."""
