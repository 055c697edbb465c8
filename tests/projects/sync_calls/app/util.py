"""Helpers: a blocking fetch, a blocking generator, loop-bound and decorated functions."""
import asyncio
import functools
import traceback

import requests


def fetch(url):
    return requests.get(url, timeout=5).text


@functools.lru_cache
def cached_fetch(url):
    return fetch(url)


def lines(path):
    with open(path) as f:
        yield from f


def schedule_reload(path):
    loop = asyncio.get_event_loop()
    loop.call_soon(print, "reloading")
    return open(path).read()


def retried(fn):
    return fn


@retried
def wrapped(path):
    return open(path).read()


def report_failure(path):
    # Reads the exception being handled: a worker thread has none.
    traceback.print_exc()
    with open(path, "a") as log:
        log.write("failed\n")
