"""Fixtures shared across test modules. Keep each one small and clearly named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture
def load_payload():
    """Read a saved provider API answer from tests/payloads/ as it came off the wire."""

    def load(name: str):
        return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))

    return load
