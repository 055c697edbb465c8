"""A small sync factory that returns an open file."""


def open_log(path):
    log = open(path, "a")
    return log
