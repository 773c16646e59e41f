"""The REST API (Django REST Framework): the pages' services, forms and permissions,
spoken in JSON, with token or session authentication. Served under ``/api/``; its
OpenAPI schema is ``/api/schema/`` and its docs ``/api/docs/``."""
