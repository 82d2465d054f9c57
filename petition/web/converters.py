"""URL converters. `<id:signature_id>` takes only numbers a row can have (a 32-bit integer, as on
PostgreSQL), so /organisers/signatures/99999999999999999999 is a 404, not an overflow in the driver."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.routing import IntegerConverter

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.routing import Map

ID_MAX = 2**31 - 1


class RowIdConverter(IntegerConverter):
    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=ID_MAX)


def register(app: Flask) -> None:
    app.url_map.converters["id"] = RowIdConverter
