"""The `ferkit` command line: one thin command per step, each calling one function elsewhere."""

import importlib

from ferkit.cli.common import app

# Importing a module registers its commands; this order is the order `ferkit --help` lists them in.
for _group in ("data", "train", "evaluate", "export", "predict", "serve"):
    importlib.import_module(f"ferkit.cli.{_group}_commands")

__all__ = ["app"]
