import json
import os


def path_of(name):
    return os.path.join(os.environ.get("UNBLOCK_SCRATCH", "."), name)


def write_config(name, data):
    with open(path_of(name), "w") as f:
        json.dump(data, f)


def load_config(name):
    with open(path_of(name)) as f:
        return json.load(f)


def feed_urls(name):
    return load_config(name)["feeds"]


def open_journal(name):
    return open(path_of(name), "a")
