"""`python -m ferkit.cli ...` (torchrun runs the CLI this way)."""

from ferkit.cli import app

app()
