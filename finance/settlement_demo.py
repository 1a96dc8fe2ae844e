"""Demo settlements (filled below)."""


def seed_settlements(users):
    return None
