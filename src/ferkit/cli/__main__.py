"""`python -m ferkit.cli ...` (torchrun runs the CLI this way)."""

from ferkit.cli import app

# Guarded: a process the GPU job spawns imports this module again (as __mp_main__) and must not rerun the CLI.
if __name__ == "__main__":
    app()
