from app import load_config
from . import feeds
from .config import feed_urls, write_config


class Reader:
    def __init__(self, config):
        self.config = config

    def titles(self):
        return [t for url in feed_urls(self.config) for t in feeds.latest_titles(url)]

    async def refresh(self):
        return self.titles()


async def main():
    write_config("feeds.json", {"feeds": ["a", "b"], "name": "demo"})
    print("config", load_config("feeds.json"))
    print("titles", await Reader("feeds.json").refresh())
    import feedparser

    print("direct", feedparser.parse("c")["entries"][0]["title"])
