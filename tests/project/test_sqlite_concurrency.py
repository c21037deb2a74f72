"""Two staff saving at once under `make run` (SQLite, requests served in threads) both get their record saved.

Each thread has its own connection to one SQLite file, opened with the settings' options, as the development
server's threads do; the second write starts while the first one's transaction is still open.
"""

import threading

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper


def _connection(path) -> DatabaseWrapper:
    config = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": dict(settings.SQLITE_OPTIONS),
        "ATOMIC_REQUESTS": False,
        "AUTOCOMMIT": True,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "TIME_ZONE": None,
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "TEST": {},
    }
    return DatabaseWrapper(config, alias=ALIAS)


ALIAS = "concurrency"


def _open(path) -> DatabaseWrapper:
    """This thread's connection to the file, under ALIAS, so that transaction.atomic(using=ALIAS) begins on it."""
    connections[ALIAS] = db = _connection(path)  # connections are per thread
    return db


@pytest.fixture
def unblocked(django_db_blocker):
    """These connections are to a file of the test's own, not to the test database."""
    with django_db_blocker.unblock():
        yield


def test_a_write_that_meets_another_waits_for_it_instead_of_failing(tmp_path, unblocked):
    path = tmp_path / "crm.sqlite3"
    setup = _connection(path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    setup.close()
    first_wrote, errors = threading.Event(), []

    def first():
        db = _open(path)
        try:
            with transaction.atomic(using=ALIAS):
                with db.cursor() as cursor:
                    cursor.execute("INSERT INTO note (body) VALUES ('first')")
                first_wrote.set()
                threading.Event().wait(0.5)  # still in its transaction when the second one starts
        except Exception as error:
            errors.append(error)
        finally:
            db.close()

    def second():
        db = _open(path)
        first_wrote.wait(5)
        try:
            # a service reads, then writes, in one transaction
            with transaction.atomic(using=ALIAS), db.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM note")
                cursor.execute("INSERT INTO note (body) VALUES ('second')")
        except Exception as error:
            errors.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    check = _connection(path)
    with check.cursor() as cursor:
        cursor.execute("SELECT body FROM note ORDER BY id")
        bodies = [row[0] for row in cursor.fetchall()]
    check.close()
    assert errors == []
    assert bodies == ["first", "second"]
