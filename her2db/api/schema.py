"""The OpenAPI schema: each operation's error responses and headers, and how
our own fields and token authentication are described."""

from drf_spectacular import openapi
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS
from rest_framework.validators import UniqueValidator

from .authentication import TokenAuthentication
from .fields import LinkField, SummaryRelatedField
from .filters import NO_NULLS
from .serializers import CHANGE_REASON


class _TokenScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; issue a key with "
            "`python manage.py api_token USERNAME`.",
        }


# Tell the schema generator that a LinkField is a URI.
class _LinkFieldExtension(OpenApiSerializerFieldExtension):
    target_class = LinkField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "uri", "readOnly": True}


class _SummaryFieldExtension(OpenApiSerializerFieldExtension):
    target_class = SummaryRelatedField

    def map_serializer_field(self, auto_schema, direction):
        key = self.target.summary_class.key
        if direction == "request":
            schema = {"type": "string", "description": f"Identifier ({key})."}
        else:
            schema = auto_schema.resolve_serializer(
                self.target.summary_class, direction
            ).ref
        if self.target.allow_null:
            schema = {"oneOf": [schema], "nullable": True}
        return schema


ErrorDetail = inline_serializer(
    "ErrorDetail",
    {"detail": serializers.CharField(help_text="What went wrong.")},
)
ValidationErrors = {
    "type": "object",
    "description": "Each field that is wrong, with what is wrong with it; rules "
    "that span several fields are under `non_field_errors`. For a field that "
    "holds a list of objects, the errors of each wrong item are under its "
    "position in the list (from 0).",
    "additionalProperties": {},
    "example": {"slug": ["agent with this slug already exists."]},
}
Conflict = inline_serializer(
    "DeleteConflict",
    {
        "detail": serializers.CharField(),
        "dependants": inline_serializer(
            "Dependant",
            {
                "resource": serializers.CharField(),
                "identifier": serializers.CharField(),
                "url": serializers.URLField(allow_null=True),
            },
            many=True,
        ),
    },
)

ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="Tag of this representation, for If-None-Match and If-Match.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="An ETag from an earlier response: 304 if it is still current.",
)
REASON = OpenApiParameter(
    CHANGE_REASON,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Why you make this change; kept in the record's history.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you read: the change is refused with 412 if the "
    "record changed since.",
)
IF_MATCH_REQUIRED = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag you read (from a GET). Required: without it the "
    "change is refused with 428; with a stale one, with 412.",
)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, plus each operation's error responses and headers."""

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "GET":
            parameters += [IF_NONE_MATCH, ETAG]
        elif self.method in ("PUT", "PATCH"):
            parameters += [IF_MATCH_REQUIRED, REASON, ETAG]
        elif self.method == "DELETE":
            parameters += [IF_MATCH_REQUIRED, ETAG]
        elif self._is_detail_action():
            parameters += [IF_MATCH, ETAG]
        elif self.method == "POST":
            parameters += [REASON, ETAG]
        return parameters

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        # A field only some readers get (`sometimes_absent`) is not required.
        absent = {
            name
            for name, field in serializer.fields.items()
            if getattr(field, "sometimes_absent", False)
        }
        if absent and "required" in schema:
            schema["required"] = [n for n in schema["required"] if n not in absent]
        if direction == "request":
            for name, field in serializer.fields.items():
                if name in schema.get("properties", {}):
                    checked_as_the_server_checks(schema["properties"][name], field)
        return schema

    def _is_detail_action(self) -> bool:
        return "{" in self.path

    def get_auth(self):
        auth = super().get_auth()
        # Anyone may read: credentials are optional there.
        if self.method in SAFE_METHODS and {} not in auth:
            auth.append({})
        return auth

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        # Formats other than JSON (BibTeX, ...) say what their documents hold.
        for renderer in self.view.get_renderers():
            schema = getattr(renderer, "openapi_schema", None)
            for code, response in responses.items():
                content = response.get("content", {})
                if schema and code.startswith("2") and renderer.media_type in content:
                    content[renderer.media_type] = {"schema": schema}
        errors = {}
        if self.method == "GET":
            errors["304"] = None
            errors["400"] = ValidationErrors  # a bad filter value
            errors["404"] = ErrorDetail  # no such object, or no such page
        else:
            errors.update({"400": ValidationErrors, "401": ErrorDetail})
            errors["403"] = ErrorDetail
            if self._is_detail_action() or self.method != "POST":
                errors.update({"404": ErrorDetail, "412": ErrorDetail})
            if self.method in ("PUT", "PATCH", "DELETE"):
                errors["428"] = ErrorDetail
            if self.method == "DELETE":
                errors["409"] = Conflict
            errors["415"] = ErrorDetail
        errors["406"] = ErrorDetail
        errors["429"] = ErrorDetail
        for code, body in errors.items():
            if code in responses:
                continue
            if body is None:
                responses[code] = {"description": "Not modified: your ETag is current."}
            else:
                responses[code] = self._get_response_for_code(
                    body, code, media_types=["application/json"]
                )
                responses[code]["description"] = ERROR_DESCRIPTIONS[code]
        return responses


def checked_as_the_server_checks(schema: dict, field) -> None:
    """Add to a request field's schema what the server checks that
    drf-spectacular leaves out: text holds no null character, a list that may
    not be empty has an item, and a unique field says so."""
    for variant in schema.get("oneOf", [schema]):
        if variant.get("type") == "string" and not {"pattern", "enum", "format"} & set(
            variant
        ):
            variant["pattern"] = NO_NULLS
        if variant.get("type") == "array":
            items = variant.get("items", {})
            if items.get("type") == "string" and "pattern" not in items:
                items["pattern"] = NO_NULLS
            if not getattr(field, "allow_empty", True):
                variant["minItems"] = max(variant.get("minItems", 0), 1)
    low, high = getattr(field, "min_value", None), getattr(field, "max_value", None)
    if schema.get("format") == "decimal" and None not in (low, high):
        text = schema.get("description", "")
        schema["description"] = f"{text} From {low} to {high}.".strip()
    if any(isinstance(v, UniqueValidator) for v in field.validators):
        model = getattr(getattr(field.parent, "Meta", None), "model", None)
        among = f" among {model._meta.verbose_name_plural}" if model else ""
        text = schema.get("description", "")
        schema["description"] = f"{text} Unique{among}.".strip()


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: the body names each field and what is wrong.",
    "401": "Not authenticated: send `Authorization: Token <key>`.",
    "403": "Authenticated, but without the permission this needs.",
    "404": "No such object (or page).",
    "406": "None of the formats in Accept (or ?format=) is offered.",
    "409": "Still in use: the body lists what uses it.",
    "412": "Stale If-Match: the record changed since you read it.",
    "415": "The request body's media type is not accepted.",
    "428": "If-Match is missing: GET the record and send its ETag as If-Match.",
    "429": "Too many anonymous requests: wait, or use a token.",
}
