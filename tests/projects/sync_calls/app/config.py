"""Sync functions that block, directly and through each other."""
import json
import time


def load_config(path):
    with open(path) as f:
        return json.load(f)


def _read(path):
    return open(path).read()


def load_settings(path):
    return _read(path).strip()


def ping(n):
    # Mutual recursion; only `pong` blocks.
    return pong(n - 1) if n else 0


def pong(n):
    time.sleep(0.01)
    return ping(n)


def spin(n):
    # Recursion that never blocks.
    return spin(n - 1) if n else 0


def double(x):
    return x * 2


def rebound(path):
    return open(path).read()


# The name now means something else: calling it does not open anything.
rebound = double


def traced(path, debug=False):
    # Blocking only as a debugging aid.
    if debug:
        print(open(path).read())
    return path
