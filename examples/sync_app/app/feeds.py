import feedparser


def latest_titles(url):
    return [entry["title"] for entry in feedparser.parse(url)["entries"]]
