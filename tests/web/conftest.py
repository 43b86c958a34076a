"""Web fixtures: Flask apps over real indexes built on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from web import create_app

#: A facet value of the sample corpus for each facet, shared by the page and API tests.
FACET_VALUES = [
    ("source", "Valley Tribune"),
    ("author", "Helen Garside"),
    ("category", "politics"),
    ("year", "2024"),
]


@pytest.fixture(scope="session")
def app(sample_index: Path) -> Flask:
    """The app serving the sample corpus (read-only, shared by the session)."""
    return create_app({"INDEX_DIR": str(sample_index), "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the sample-corpus app."""
    return app.test_client()


@pytest.fixture
def missing_client(tmp_path: Path) -> FlaskClient:
    """A test client of an app whose index has not been built."""
    return create_app({"INDEX_DIR": str(tmp_path / "nothing"), "TESTING": True}).test_client()
