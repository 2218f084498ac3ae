"""The hot path's case validator: jsonschema-rs over the published ``case.schema.json``.

Same schema, same verdicts as the reference validator in ``validate.py`` (a property
test holds them together), in microseconds; it gives no messages — a case it rejects
goes to the reference validator, which names every failing path in Chinese.  Kept in
its own module so that deciding a valid case never imports the Python jsonschema.
"""

from __future__ import annotations

from .privacy import gb11643_valid


def fast_validator(schema: dict):
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema, formats={"gb11643": gb11643_valid}, validate_formats=True)
