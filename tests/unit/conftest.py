"""The permission matrix's world (users in every role, data sets, jobs, a course with an
assignment, predictions) for the unit tests that need one: the API's among them."""

from tests.unit.test_permissions import other_instructor, world  # noqa: F401
