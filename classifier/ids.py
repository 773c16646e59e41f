"""Row ids as a request sends them."""


def parse_ids(values) -> list[int]:
    """The values that can be a row's id: plain ASCII digits, short enough for a database
    key. Anything else names no row (int() refuses "²" and thousands of digits; the
    database refuses 20 digits), so it is dropped rather than an error."""
    return [
        int(value)
        for value in map(str, values)
        if value.isascii() and value.isdigit() and len(value) <= 18
    ]
