"""URL converters. `<id:signature_id>` takes only numbers a row can have (a 32-bit integer, as on
PostgreSQL), so /organisers/signatures/99999999999999999999 is a 404, not an overflow in the driver."""

from werkzeug.routing import IntegerConverter

ID_MAX = 2**31 - 1


class RowIdConverter(IntegerConverter):
    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=ID_MAX)


def register(app):
    app.url_map.converters["id"] = RowIdConverter
