"""Django's Redis cache, made to fail fast while Redis is down.

Callers already treat a cache error as "no cache" (the KPI pages read the snapshots, rate limits let the
request through). What this adds is speed: a dead or hung Redis costs one short socket timeout, after
which the cache stops asking it for `down_retry_seconds` (per process) and every call fails at once.
"""

import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

DEFAULT_DOWN_RETRY_SECONDS = 5.0


class CacheUnavailable(RedisConnectionError):
    """Redis failed a moment ago; the cache does not try again yet."""


class _Breaker:
    """When Redis at one location last failed, shared by every thread of the process."""

    _down_until: dict[str, float] = {}
    _lock = threading.Lock()

    def __init__(self, location: str, retry_seconds: float):
        self.location, self.retry_seconds = location, retry_seconds

    def check(self) -> None:
        if time.monotonic() < self._down_until.get(self.location, 0.0):
            raise CacheUnavailable(f"Redis at {self.location} is down; not asked again yet.")

    def trip(self, error: Exception) -> None:
        with self._lock:
            already = time.monotonic() < self._down_until.get(self.location, 0.0)
            self._down_until[self.location] = time.monotonic() + self.retry_seconds
        if not already:
            logger.warning(
                "Redis cache at %s unreachable (%s); skipped for %s s", self.location, error, self.retry_seconds
            )


class _GuardedClient:
    """Django's Redis cache client, each call going through the breaker."""

    def __init__(self, client, breaker: _Breaker):
        self._client, self._breaker = client, breaker

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def guarded(*args, **kwargs):
            self._breaker.check()
            try:
                return attribute(*args, **kwargs)
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                self._breaker.trip(error)
                raise

        return guarded


class _ReusingClient(RedisCacheClient):
    """Django's Redis cache client, keeping one redis.Redis per connection pool: Django builds a new one for
    every call, which copies all of redis-py's response callbacks (a good part of a cache read's CPU)."""

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    """RedisCache with OPTIONS["down_retry_seconds"]: how long to stop asking Redis after it failed."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS", {}))
        retry_seconds = float(options.pop("down_retry_seconds", DEFAULT_DOWN_RETRY_SECONDS))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _ReusingClient
        self._breaker = _Breaker(",".join(self._servers), retry_seconds)

    @property
    def _cache(self):
        client = self.__dict__.get("_guarded_client")
        if client is None:
            client = _GuardedClient(self._class(self._servers, **self._options), self._breaker)
            self.__dict__["_guarded_client"] = client
        return client
