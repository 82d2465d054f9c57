"""The form that asks for a delivery copy."""

from __future__ import annotations

from flask_wtf import FlaskForm


class DeliveryForm(FlaskForm):
    """Only a CSRF token: asking for a delivery copy is a POST, which another site cannot send."""
