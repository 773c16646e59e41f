"""The embedded broker keeps its queue across a restart of the lab: what was queued
when ``make run`` stopped is there when it starts again."""

import redis

from labsite import embedded_redis


def test_a_restarted_embedded_redis_still_holds_what_it_held(tmp_path):
    socket_path = tmp_path / "redis.sock"
    server = embedded_redis.start(socket_path, tmp_path / "redis.log")
    try:
        redis.Redis(unix_socket_path=str(socket_path)).lpush("train", "job 7")
    finally:
        server.terminate()  # as make run stops it: Redis writes its snapshot first
        server.wait(30)
    server = embedded_redis.start(socket_path, tmp_path / "redis.log")
    try:
        assert redis.Redis(unix_socket_path=str(socket_path)).lrange("train", 0, -1) == [b"job 7"]
    finally:
        server.terminate()
        server.wait(30)
