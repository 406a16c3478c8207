"""Model fields that keep personal information encrypted in the database."""

from __future__ import annotations

from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """Stores ``crypto.encrypt(value)``; Python code always sees the plaintext. Not searchable:
    pair it with a ``blind_index`` column for exact-match lookup."""

    description = "Text encrypted at rest (AES-GCM)"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)
