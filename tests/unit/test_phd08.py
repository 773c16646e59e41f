"""The PHD08 reader and writer: layout, round trips, and the errors bad files get."""

import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.ml.phd08 import (
    PHD08_GROUPS,
    Phd08Error,
    label_from_filename,
    parse_phd08,
    write_phd08,
)
from tests.support.phd08 import make_phd08_bytes, make_phd08_samples, write_phd08_files

REAL_SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "phd08-samples"


def small_file(crlf: bool = False) -> bytes:
    """Two samples whose lines are easy to count.

    Lines: 1 header, 2 size, 3-5 rows of S_0_0_0_0_0 (3 x 4), 6 blank, 7 header,
    8 size, 9-10 rows of G_0_0_0_0_1 (2 x 5), 11 blank.
    """
    return write_phd08(
        [
            ("S_0_0_0_0_0", np.array([[0, 1, 1, 0], [1, 0, 0, 1], [0, 1, 1, 0]])),
            ("G_0_0_0_0_1", np.array([[1, 1, 1, 1, 1], [0, 0, 1, 0, 0]])),
        ],
        crlf=crlf,
    )


def with_line(data: bytes, number: int, line: bytes | None) -> bytes:
    """``data`` with its line ``number`` (1-based) replaced, or removed when None."""
    lines = data.split(b"\n")
    lines[number - 1 : number] = [] if line is None else [line]
    return b"\n".join(lines)


@pytest.mark.parametrize("crlf", [False, True])
def test_phd08_reader_reads_what_the_writer_wrote(crlf):
    samples = make_phd08_samples(n_per_group=3)
    parsed = parse_phd08(write_phd08(samples, crlf=crlf), "가.txt")
    assert parsed.name == "가.txt"
    assert parsed.count == 27
    assert parsed.headers == [header for header, _ in samples]
    assert parsed.groups == [group for group in PHD08_GROUPS for _ in range(3)]
    for (header, bitmap), (want_header, want_bitmap) in zip(
        parsed.iter_samples(), samples, strict=True
    ):
        assert header == want_header
        assert bitmap.dtype == np.uint8
        np.testing.assert_array_equal(bitmap, want_bitmap)


@pytest.mark.parametrize("crlf", [False, True])
def test_phd08_round_trip_is_byte_exact(crlf):
    data = make_phd08_bytes(n_per_group=4, crlf=crlf)
    assert write_phd08(parse_phd08(data, "가.txt").iter_samples(), crlf=crlf) == data


def test_phd08_writer_uses_the_distributed_layout():
    assert small_file() == (
        b"S_0_0_0_0_0\n3 4\n0110\n1001\n0110\n\nG_0_0_0_0_1\n2 5\n11111\n00100\n\n"
    )
    assert small_file(crlf=True) == small_file().replace(b"\n", b"\r\n")


@settings(max_examples=40, deadline=None)
@given(
    shapes=st.lists(st.tuples(st.integers(1, 12), st.integers(1, 12)), min_size=1, max_size=6),
    seed=st.integers(0, 2**32 - 1),
    crlf=st.booleans(),
)
def test_phd08_round_trip_holds_for_any_shapes(shapes, seed, crlf):
    rng = np.random.default_rng(seed)
    samples = [
        (f"{PHD08_GROUPS[n % 9]}_0_1_2_0_{n % 3}", rng.integers(0, 2, size=shape))
        for n, shape in enumerate(shapes)
    ]
    data = write_phd08(samples, crlf=crlf)
    parsed = parse_phd08(data, "가.txt")
    assert write_phd08(parsed.iter_samples(), crlf=crlf) == data


def test_phd08_batches_cover_every_sample_once():
    sizes = ((22, 29), (30, 24), (22, 29), (18, 40), (30, 24))
    parsed = parse_phd08(make_phd08_bytes(n_per_group=5, sizes=sizes), "가.txt")
    indices = np.concatenate([batch.indices for batch in parsed.batches])
    assert sorted(indices.tolist()) == list(range(parsed.count))
    assert {batch.bitmaps.shape[1:] for batch in parsed.batches} == {
        (22, 29),
        (30, 24),
        (18, 40),
    }
    for batch in parsed.batches:
        assert batch.indices.dtype == np.int64
        assert len(batch.indices) == len(batch.bitmaps)
        assert batch.indices.tolist() == sorted(batch.indices.tolist())


def test_phd08_reader_tolerates_blank_lines_and_trailing_whitespace():
    data = small_file()
    padded = b"\n\n" + data.replace(b"\n\nG", b"\n\n \n\t\n\nG") + b"\n\n  \t\n   "
    assert list(parse_phd08(padded, "가.txt").iter_samples())[1][0] == "G_0_0_0_0_1"
    assert parse_phd08(data.rstrip(), "가.txt").count == 2
    assert parse_phd08(small_file(crlf=True).rstrip() + b"   ", "가.txt").count == 2


def test_phd08_reader_takes_files_mixing_crlf_and_lf():
    mixed = small_file(crlf=True).replace(b"0110\r\n\r\nG", b"0110\n\nG")
    expected = parse_phd08(small_file(), "가.txt")
    parsed = parse_phd08(mixed, "가.txt")
    assert parsed.headers == expected.headers
    for (_, got), (_, want) in zip(parsed.iter_samples(), expected.iter_samples(), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(not (REAL_SAMPLES / "가.txt").exists(), reason="no shared PHD08 samples")
@pytest.mark.parametrize("char", ["가", "나"])
def test_phd08_reads_the_real_files(char):
    data = (REAL_SAMPLES / f"{char}.txt").read_bytes()
    parsed = parse_phd08(data, f"{char}.txt")
    assert parsed.count == 2187
    assert {group: parsed.groups.count(group) for group in PHD08_GROUPS} == dict.fromkeys(
        PHD08_GROUPS, 243
    )
    assert parsed.headers[0] == "S_0_0_0_0_1"
    assert sum(len(batch.indices) for batch in parsed.batches) == 2187
    assert write_phd08(parsed.iter_samples(), crlf=b"\r\n" in data) == data


def test_phd08_builders_write_one_file_per_character(tmp_path):
    paths = write_phd08_files(tmp_path / "phd08", chars="가나다", per_group=2)
    assert [path.name for path in paths] == ["가.txt", "나.txt", "다.txt"]
    parsed = [parse_phd08(path.read_bytes(), path.name) for path in paths]
    assert [file.count for file in parsed] == [18, 18, 18]
    assert not np.array_equal(parsed[0].batches[0].bitmaps, parsed[1].batches[0].bitmaps)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "t.txt line 1: the file is empty"),
        (b" \r\n\n\t\n", "t.txt line 1: the file is empty"),
        (small_file().replace(b"1001", b"1\xff01"), "t.txt line 4: found the byte 0xff"),
        (
            with_line(small_file(), 7, "G_0_0_0_0_1 가".encode()),
            "t.txt line 7: found the byte 0xea, which is not plain ASCII text",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "t.txt line 1: found the byte 0x89"),
    ],
)
def test_phd08_rejects_empty_and_non_text_files(data, expected):
    with pytest.raises(Phd08Error) as error:
        parse_phd08(data, "t.txt")
    assert str(error.value).startswith(expected)


@pytest.mark.parametrize(
    "header", [b"X_0_0_0_0_1", b"S_0_0_0_0_3", b"S_0_0_0_0", b"S_0_0_0_0_0_0", b"H3_0_0_0_0_0"]
)
def test_phd08_rejects_unknown_headers(header):
    with pytest.raises(Phd08Error) as error:
        parse_phd08(with_line(small_file(), 7, header), "t.txt")
    message = str(error.value)
    assert message.startswith(f"t.txt line 7: unknown or malformed header '{header.decode()}'")
    assert "S, G, M, N, B, D, Y, H1, H2" in message
    assert "such as S_0_0_0_0_1" in message


@pytest.mark.parametrize("size", [b"3", b"3 x", b"three 4", b"-3 4", b"3 4 5", b"3.0 4"])
def test_phd08_rejects_malformed_size_lines(size):
    with pytest.raises(Phd08Error) as error:
        parse_phd08(with_line(small_file(), 2, size), "t.txt")
    assert str(error.value).startswith(
        f"t.txt line 2 (sample S_0_0_0_0_0): expected the size line '<rows> <columns>' "
        f"(two positive whole numbers), found '{size.decode()}'"
    )


@pytest.mark.parametrize(
    "size",
    [b"0 4", b"3 0", b"513 4", b"3 100000", b"9" * 5000 + b" 4", b"3 " + b"0" * 5000 + b"1000"],
)
def test_phd08_rejects_absurd_sizes(size):
    with pytest.raises(Phd08Error) as error:
        parse_phd08(with_line(small_file(), 2, size), "t.txt")
    message = str(error.value)
    assert message.startswith("t.txt line 2 (sample S_0_0_0_0_0): the size ")
    assert "is out of range; rows and columns must each be between 1 and 512." in message


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize(
    ("line", "row", "expected"),
    [
        (4, b"100", "t.txt line 4 (sample S_0_0_0_0_0): row 2 has 3 characters, expected 4."),
        (5, b"01100", "t.txt line 5 (sample S_0_0_0_0_0): row 3 has 5 characters, expected 4."),
        (
            10,
            b"",
            "t.txt line 10 (sample G_0_0_0_0_1): blank line after only 1 of the sample's 2 rows.",
        ),
        (
            9,
            b"11211",
            "t.txt line 9 (sample G_0_0_0_0_1): row 1 has the character '2' at column 3; "
            "only 0 and 1 are allowed.",
        ),
        (3, b"01 0", "t.txt line 3 (sample S_0_0_0_0_0): row 1 has the character ' ' at column 3"),
    ],
)
def test_phd08_rejects_bad_rows(crlf, line, row, expected):
    data = with_line(small_file(), line, row)
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    with pytest.raises(Phd08Error) as error:
        parse_phd08(data, "t.txt")
    assert str(error.value).startswith(expected)


def test_phd08_reports_the_first_bad_row_of_many_samples():
    data = make_phd08_bytes(n_per_group=20)
    lines = data.split(b"\n")
    header_line = lines.index(b"G_0_0_0_0_0") + 1
    bad = header_line + 2 + 5  # row 6 of that sample
    broken = with_line(data, bad, lines[bad - 1][:-1] + b"7")
    with pytest.raises(Phd08Error) as error:
        parse_phd08(broken, "가.txt")
    assert str(error.value) == (
        f"가.txt line {bad} (sample G_0_0_0_0_0): row 6 has the character '7' at column 29; "
        "only 0 and 1 are allowed."
    )


def test_phd08_rejects_a_truncated_last_sample():
    data = small_file()
    truncated = data[: data.index(b"11111\n") + len(b"11111\n")]
    with pytest.raises(Phd08Error) as error:
        parse_phd08(truncated, "t.txt")
    assert str(error.value) == (
        "t.txt line 9 (sample G_0_0_0_0_1): the file ends after 1 of the sample's 2 rows "
        "(is it truncated?)."
    )
    with pytest.raises(Phd08Error, match=r"line 7 \(sample G_0_0_0_0_1\): the file ends right"):
        parse_phd08(data[: data.index(b"2 5")], "t.txt")


def test_phd08_rejects_more_rows_than_the_size_line_gives():
    data = with_line(small_file(), 6, b"0110")
    with pytest.raises(Phd08Error) as error:
        parse_phd08(data, "t.txt")
    assert str(error.value) == (
        "t.txt line 6 (sample S_0_0_0_0_0): the sample has more rows than the 3 its size "
        "line gives; expected a blank line here."
    )


def test_phd08_rejects_a_missing_blank_line():
    data = with_line(small_file(), 6, None)
    with pytest.raises(Phd08Error) as error:
        parse_phd08(data, "t.txt")
    assert str(error.value) == (
        "t.txt line 6 (sample S_0_0_0_0_0): expected a blank line after the sample's 3 rows, "
        "found 'G_0_0_0_0_1'."
    )


@settings(max_examples=300, deadline=None)
@given(
    crlf=st.booleans(),
    edits=st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.integers(0, 3),
            st.sampled_from([b"0", b"1", b"\n", b"\r", b"\r\n", b" ", b"2", b"_", b"S", b"\n\n"]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_phd08_corrupted_files_parse_or_raise_phd08error(crlf, edits):
    data = bytearray(small_file(crlf))
    for position, removed, inserted in edits:
        at = position % (len(data) + 1)
        data[at : at + removed] = inserted
    try:
        parsed = parse_phd08(bytes(data), "t.txt")
    except Phd08Error as error:
        assert str(error).startswith("t.txt line ")
    else:
        assert parsed.count == sum(len(batch.indices) for batch in parsed.batches)


def test_phd08_writer_refuses_what_the_reader_would_reject():
    with pytest.raises(ValueError, match="not a PHD08 header"):
        write_phd08([("Q_0_0_0_0_0", np.zeros((2, 2)))])
    with pytest.raises(ValueError, match="only hold 0 and 1"):
        write_phd08([("S_0_0_0_0_0", np.full((2, 2), 2))])
    with pytest.raises(ValueError, match="must be 2-D"):
        write_phd08([("S_0_0_0_0_0", np.zeros((2, 2, 2)))])


@pytest.mark.parametrize(
    "name",
    [
        "가.txt",
        unicodedata.normalize("NFD", "가.txt"),
        "phd08/가.txt",
        unicodedata.normalize("NFD", "폴더/가.txt"),
        "C:\\data\\가.txt",
    ],
)
def test_label_from_filename_reads_the_syllable(name):
    assert label_from_filename(name) == "가"


def test_label_from_filename_takes_any_precomposed_syllable():
    assert label_from_filename("\uac00.txt") == "\uac00"
    assert label_from_filename("\ud7a3.txt") == "\ud7a3"


@pytest.mark.parametrize("name", ["ab.txt", "가나.txt", "가.csv", "ㄱ.txt", "가.TXT", ".txt", "가"])
def test_label_from_filename_rejects_other_names(name):
    with pytest.raises(Phd08Error) as error:
        label_from_filename(f"some/folder/{name}")
    assert str(error.value) == (
        f"{name} is not a PHD08 character file name: expected one Hangul syllable followed "
        "by .txt, such as 가.txt."
    )
