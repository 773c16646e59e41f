"""What a test reads a response with, and the clients it sends requests through."""

from django.contrib.messages import get_messages
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def flash_messages(response) -> str:
    """The messages the response's request left for the next page, in one line."""
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def token_client(user=None) -> APIClient:
    """A client that sends ``user``'s token, as a script would (no session); with no
    user, an anonymous one."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0]}")
    return client
