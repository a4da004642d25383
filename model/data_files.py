"""The project's own data files, ``model/data/*.json``: DUIS facts and assumptions read from
the reference data by ``scripts/``, each row with its source tag."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def read_data(name: str) -> Any:
    """The JSON document ``model/data/<name>``, read from the installed package."""
    text = resources.files("model").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return json.loads(text)
