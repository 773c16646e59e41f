"""Password hashing for a class logging in at once: Argon2id at OWASP's parameters, old
PBKDF2 hashes upgraded at log-in, a bounded number of hashes at a time per process."""

import threading
import time

import pytest
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    PBKDF2PasswordHasher,
    identify_hasher,
    make_password,
)
from django.contrib.auth.models import User
from django.urls import reverse

from labsite.passwords import Argon2idHasher

pytestmark = pytest.mark.django_db

LAB_HASHERS = [
    "labsite.passwords.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


@pytest.fixture
def lab_hashers(settings):
    """The lab's real hashers (the other tests use a quick one)."""
    settings.PASSWORD_HASHERS = LAB_HASHERS


def test_the_lab_hashes_with_argon2id_at_owasps_parameters(lab_hashers):
    encoded = make_password("a-long-pass-phrase-7")
    assert encoded.startswith("argon2$argon2id$")
    decoded = identify_hasher(encoded).decode(encoded)
    assert (decoded["memory_cost"], decoded["time_cost"], decoded["parallelism"]) == (19456, 2, 1)


def test_the_settings_list_argon2id_first_and_pbkdf2_for_old_hashes():
    from labsite import settings as lab_settings

    assert lab_settings.PASSWORD_HASHERS == LAB_HASHERS


def test_a_pbkdf2_hash_logs_in_and_is_upgraded_to_argon2id(client, lab_hashers):
    old = PBKDF2PasswordHasher()
    user = User.objects.create(
        username="mina", password=old.encode("pw-mina-1234", old.salt(), iterations=1000)
    )
    answer = client.post(reverse("login"), {"username": "mina", "password": "pw-mina-1234"})
    assert answer.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("pw-mina-1234")


def test_a_process_hashes_one_password_at_a_time(monkeypatch):
    """Log-ins arriving together wait their turn instead of taking every core."""
    inside, most = 0, 0
    lock = threading.Lock()

    def slow_hash(self, password, salt):
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.05)
        with lock:
            inside -= 1
        return "argon2$stub"

    monkeypatch.setattr(Argon2PasswordHasher, "encode", slow_hash)
    hasher = Argon2idHasher()
    threads = [threading.Thread(target=hasher.encode, args=("pw", "salt")) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert most == 1
