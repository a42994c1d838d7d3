"""Conditional requests: ETags, If-None-Match (304) and If-Match (412)."""

import hashlib

from django.utils.cache import patch_vary_headers
from rest_framework import exceptions, renderers
from rest_framework import status as http
from rest_framework.response import Response

from . import answers
from .renderers import JSONRenderer, dump_json

# Writes that honour If-Match (POST: an action on one object).
CONDITIONAL_WRITES = ("PUT", "PATCH", "DELETE", "POST")
# Writes that must send it: without it, two clients that read the same record
# would each overwrite the other's change (RFC 6585, 428).
IF_MATCH_REQUIRED = ("PUT", "PATCH", "DELETE")


class PreconditionFailed(exceptions.APIException):
    status_code = http.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The record changed since you read it (If-Match does not match its "
        "current ETag). Read it again, then repeat your change."
    )
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = http.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "Send the record's ETag in an If-Match header: PUT, PATCH and DELETE "
        "are refused without it, so that no change overwrites another unseen. "
        "GET the record, then repeat your change with If-Match set to its ETag."
    )
    default_code = "precondition_required"


def etag_of(body: bytes, media_type: str = "application/json") -> str:
    digest = hashlib.blake2b(digest_size=16)
    if media_type != "application/json":
        digest.update(media_type.encode() + b"\0")
    digest.update(body)
    return f'"{digest.hexdigest()}"'


def parse_etags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def representation_etag(response) -> str:
    """The ETag of a response's representation, from the bytes clients receive.

    JSON and the browsable API share it (both show the same JSON); any other
    format (BibTeX, RIS, CSL-JSON) has its own.
    """
    renderer = response.accepted_renderer
    if isinstance(renderer, renderers.BrowsableAPIRenderer):
        return etag_of(dump_json(response.data))
    response.render()
    if isinstance(renderer, JSONRenderer):
        return etag_of(response.content)
    return etag_of(response.content, renderer.media_type)


class Kept(Exception):
    """Raised by `initial()` to answer with a kept answer (see answers.py)."""

    def __init__(self, response):
        self.response = response


class ConditionalGetMixin:
    """ETag on every 200 or 201, from the representation; 304 for a current
    If-None-Match. For any API view (a read-only one such as a change feed
    too), so that what the schema promises for every GET holds.

    A repeat GET is answered from the cache (answers.py) once the request is
    authenticated, throttled and its format negotiated, before anything is
    built: a 304 or, for an anonymous reader, the whole kept answer.
    """

    answer_key = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.answer_key = answers.key_for(request)
        if self.answer_key is not None:
            response = answers.kept_answer(request, self.answer_key)
            if response is not None:
                raise Kept(response)

    def handle_exception(self, exc):
        if isinstance(exc, Kept):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            response.status_code not in (200, 201)
            or request.method == "OPTIONS"
            or not isinstance(response, Response)
            or response.exception
        ):
            return response
        tag = representation_etag(response)
        response["ETag"] = tag
        if request.method not in ("GET", "HEAD"):
            patch_vary_headers(response, ["Authorization", "Cookie"])
            return response
        if self.answer_key is not None and request.method == "GET":
            answers.keep(request, self.answer_key, response, tag)
        if answers.wanted(request, tag):
            return answers.not_modified(request, tag)
        answers.mark(request, response)
        return response
