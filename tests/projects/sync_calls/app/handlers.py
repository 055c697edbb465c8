"""Coroutines that call the project's blocking sync functions."""
import asyncio

from app import load_config
import app.config as cfg
from . import util
from .config import load_settings as settings
from .logs import open_log
from .config import double, load_settings, ping, rebound, spin, traced
from .store import Store


def local_total(paths):
    return sum(len(open(p).read()) for p in paths)


async def show(path):
    print(f"config: {load_config(path)}")
    print(load_settings(path), double(2), spin(3))
    print(settings(path), cfg.load_config(path))
    print(rebound(2), traced(path))


async def sizes(paths):
    total = local_total(paths)
    store = Store(paths[0])
    return total, ping(2), store


async def fetch_all(urls):
    pages = [util.fetch(u) for u in urls]
    cached = util.cached_fetch(urls[0])
    return pages, cached


async def streamed(path):
    for line in util.lines(path):
        print(line)


async def reload(path):
    text = util.schedule_reload(path)
    other = util.wrapped(path)
    done = await asyncio.to_thread(load_config, path)
    return text, other, done


async def note(path, text):
    # The factory's file is written on the loop too: the whole block moves.
    log = open_log(path)
    log.write(text)
    log.close()
    await asyncio.sleep(0)


async def guarded(path):
    try:
        await asyncio.sleep(0)
    except Exception:
        util.report_failure(path)
