"""Password hashing that a class can log in through all at once.

Django's default, PBKDF2 at 1,000,000 iterations, costs about half a second of a core
per log-in here: fifty students arriving within fifteen seconds need 25 CPU-seconds,
most of what two cores have, and every page waits meanwhile. Argon2id at OWASP's
recommended parameters (19 MiB, two passes, one lane) costs about a sixth of that and
is memory-hard. Hashes made with PBKDF2 still verify, and Django rehashes them with
Argon2id at the next log-in (PBKDF2 stays in PASSWORD_HASHERS for that).
"""

import threading

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

# Hashes a web process computes at once (LAB_PASSWORD_HASHES_AT_ONCE): further log-ins
# wait their turn, so a log-in storm takes at most that many cores from the pages, and
# at most that many times 19 MiB of memory.
_turns = threading.BoundedSemaphore(settings.LAB_PASSWORD_HASHES_AT_ONCE)


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended minimum, a bounded number at a time per process."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

    def encode(self, password, salt):
        with _turns:
            return super().encode(password, salt)

    def verify(self, password, encoded):
        with _turns:
            return super().verify(password, encoded)
