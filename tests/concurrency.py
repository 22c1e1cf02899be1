"""One function run on several threads at the same moment, for tests of what
happens when people (or servers) act at once. Such tests run on PostgreSQL: the
SQLite test database cannot hold row locks across threads."""

import threading

from django.db import connection


def at_once(fn, times: int) -> tuple[list, list]:
    """Call ``fn`` on ``times`` threads released together; returns what the calls
    returned and what they raised."""
    start = threading.Barrier(times)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            results.append(fn())
        except Exception as exc:  # collected for the test to assert
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
