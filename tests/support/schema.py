"""What the API schema promises, checked against real answers."""

import json
import re

import jsonschema


class SchemaCheck:
    """The API's OpenAPI document, able to say whether an answer keeps its promises.

    ``check(method, path, response)`` finds the operation ``path`` matches, and fails
    unless the schema documents the answer's status and its JSON body fits the schema
    documented for it. ``seen`` collects the operations checked, so a test can tell
    that every operation was tried.
    """

    def __init__(self, document: dict):
        self.document = document
        self.seen: set[tuple[str, str]] = set()
        self._routes = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$"), template)
            for template in document["paths"]
        ]

    @property
    def operations(self) -> set[tuple[str, str]]:
        return {
            (method.upper(), template)
            for template, operations in self.document["paths"].items()
            for method in operations
        }

    def check(self, method: str, path: str, response) -> None:
        template = self._template(path.split("?")[0])
        operation = self.document["paths"][template][method.lower()]
        self.seen.add((method.upper(), template))
        documented = operation["responses"]
        status = str(response.status_code)
        body = response.content if not getattr(response, "streaming", False) else b""
        assert status in documented, (
            f"{method} {template} answered {status}, which the schema does not document "
            f"(it documents {sorted(documented)}): {body[:300]!r}"
        )
        content = documented[status].get("content", {})
        if "application/json" in content and response.get("Content-Type", "").startswith(
            "application/json"
        ):
            schema = self._inline(content["application/json"]["schema"])
            jsonschema.validate(json.loads(body), schema)

    def _template(self, path: str) -> str:
        for pattern, template in self._routes:
            if pattern.match(path):
                return template
        raise AssertionError(f"{path} is not in the schema")

    def _inline(self, node):
        """The OpenAPI 3.0 schema ``node`` as plain JSON Schema: references resolved,
        ``nullable`` as a type that admits null."""
        if isinstance(node, list):
            return [self._inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return self._inline(self.document["components"]["schemas"][name])
        out = {key: self._inline(value) for key, value in node.items() if key != "nullable"}
        if node.get("nullable"):
            if "type" in out:
                out["type"] = [out["type"], "null"]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        return out
