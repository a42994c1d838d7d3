"""JSON through orjson, the API's default renderer.

REST_FRAMEWORK in settings names it, so DRF imports it while importing its
own views: it must import nothing from the modules that build on them.
"""

import orjson
from rest_framework import renderers


def dump_json(data) -> bytes:
    # Non-string keys: DRF reports errors in a list under each item's index.
    return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)


class JSONRenderer(renderers.JSONRenderer):
    """JSON through orjson: several times faster than the standard encoder.

    Always compact, whatever `indent` the client asks for, so that the bytes
    (and so the ETag) of a representation do not depend on the request; only
    the browsable API's page shows it indented, for people to read.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if (renderer_context or {}).get("indent"):  # set by the browsable API
            return orjson.dumps(
                data,
                default=str,
                option=orjson.OPT_NON_STR_KEYS | orjson.OPT_INDENT_2,
            )
        return dump_json(data)
