"""The providers lo-sync knows, by name: `PROVIDERS["coursera"]` is a `Provider`.

Adding a provider means one module here with one `Provider` subclass, one line
below, and one subclass of the contract tests in tests/providers/. No provider
module imports this package: they import `base`, `fields` and `records`.
"""

from __future__ import annotations

from lo_sync.providers.base import Provider
from lo_sync.providers.coursera import Coursera
from lo_sync.providers.openclassrooms import OpenClassrooms
from lo_sync.providers.records import NEW_FIELD, NEW_VALUE, NOT_READ, Notes, RecordError

PROVIDERS: dict[str, Provider] = {
    provider.name: provider for provider in (Coursera(), OpenClassrooms())
}

__all__ = ["NEW_FIELD", "NEW_VALUE", "NOT_READ", "PROVIDERS", "Notes", "Provider", "RecordError"]
