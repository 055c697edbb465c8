"""A stand-in for the `feedparser` library: `parse` fetches and parses a feed, blocking."""

import time


def parse(url):
    time.sleep(0.01)
    return {"entries": [{"title": f"{url} #{n}"} for n in range(2)]}
