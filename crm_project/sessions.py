"""Sessions kept in the database and read from the cache: no query per request while Redis is up.

Django's `cached_db` engine, made safe for a Redis that is down: the database stays the record (written
first, read whenever the cache cannot answer), and a cache error never fails the request. A session is
cached for a few minutes at most, so one deleted (a logout) while Redis was unreachable cannot outlive
that in the cache once Redis is back.
"""

import logging

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore
from django.contrib.sessions.backends.db import SessionStore as DbStore

logger = logging.getLogger(__name__)

CACHE_SECONDS = 10 * 60


class SessionStore(CachedDbStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if stored is None:
            return {}
        data = self.decode(stored.session_data)
        self._cache_set(data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def exists(self, session_key):
        # Asked only when a new session key is made: the database answers, whatever the cache's state.
        return DbStore.exists(self, session_key)

    def save(self, must_create=False):
        DbStore.save(self, must_create)
        self._cache_set(self._session, self.get_expiry_age())

    def delete(self, session_key=None):
        DbStore.delete(self, session_key)
        session_key = session_key or self.session_key
        if session_key is None:
            return
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:
            logger.warning("Session cache unreachable; the cached copy expires on its own", exc_info=True)

    def _cache_set(self, data, expiry_age: int) -> None:
        try:
            self._cache.set(self.cache_key, data, min(expiry_age, CACHE_SECONDS))
        except Exception:
            logger.warning("Session cache unreachable; the session is read from the database", exc_info=True)
