"""The whole truth in the API schema: every answer a client can get, not only success.

drf-spectacular describes what each view returns when all goes well. This hook adds what
DRF and the lab answer otherwise, to every operation it can happen to: 400 with the
fields' errors (a request body the forms refuse, or a refusal with its reason; a body
that is not JSON says so in ``detail``), 409 when the state of what a deletion or a
cancel acts on forbids it (a record a course keeps, a job that has ended), 401
without credentials, 403 when the caller may not (or a session request lacks its CSRF
token), 404 for an id the caller cannot see and for a page past the last ("Invalid
page."), and 429 past the rate limits, with ``Retry-After``. It also says that ids and
pages count from 1.
"""

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What went wrong, in words."}},
    "required": ["detail"],
}
VALIDATION_ERRORS = {
    "type": "object",
    "description": "Per field, what is wrong with it; ``non_field_errors`` for the request "
    "as a whole (a refusal's reason among them).",
    "properties": {
        "detail": {"type": "string", "description": "A body that could not be read, in words."}
    },
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


def _answer(description: str, schema_name: str, *, retry_after=False) -> dict:
    reference = {"$ref": f"#/components/schemas/{schema_name}"}
    answer = {"description": description, "content": {"application/json": {"schema": reference}}}
    if retry_after:
        answer["headers"] = {
            "Retry-After": {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before trying again.",
            }
        }
    return answer


def document_errors(result, generator, request, public):
    """``POSTPROCESSING_HOOKS`` entry: add the error answers and the counting rules."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(
        {"Error": ERROR, "ValidationErrors": VALIDATION_ERRORS}
    )
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            answers = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            for parameter in parameters:
                if parameter["in"] == "path" and parameter["name"] == "id":
                    parameter["schema"]["minimum"] = 1
                if parameter["in"] == "query" and parameter["name"] == "page":
                    parameter["schema"]["minimum"] = 1
            is_token = path.endswith("/token/")
            if method in ("post", "put", "patch", "delete") or is_token:
                answers.setdefault(
                    "400",
                    _answer("The request is refused; the reasons, per field.", "ValidationErrors"),
                )
            if method == "delete" or path.endswith("/cancel/"):
                answers.setdefault(
                    "409", _answer("The state of what it acts on forbids it; the reason.", "Error")
                )
            if not is_token:
                answers.setdefault("401", _answer("No credentials, or wrong ones.", "Error"))
                answers.setdefault(
                    "403",
                    _answer(
                        "The caller may not do this (or a session request lacks its CSRF token).",
                        "Error",
                    ),
                )
            if any(p["in"] in ("path", "query") for p in parameters):
                answers.setdefault(
                    "404", _answer("No such row for this caller, or a page past the last.", "Error")
                )
            answers.setdefault(
                "429", _answer("Too many requests; wait and try again.", "Error", retry_after=True)
            )
    return result
