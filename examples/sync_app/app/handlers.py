from app import load_config
from . import feeds
from .config import feed_urls, open_journal, path_of, write_config


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
    journal = open_journal("journal.log")
    journal.write("refreshed\n")
    journal.close()
    print("journal", sum(1 for _ in open(path_of("journal.log"))))
    import feedparser

    print("direct", feedparser.parse("c")["entries"][0]["title"])
