"""The frame parser on its own: any chunking of a stream gives the same frames."""

from __future__ import annotations

import random

import pytest

from parley.doors.jsonrpc.framing import FrameError, FrameParser, Framing, encode

BODIES = [b'{"a":1}', '{"t":"Grüße ☃"}'.encode(), b"{}", b'{"x":"' + b"y" * 5000 + b'"}']


def parse(stream: bytes, chunks: list[int], max_frame: int = 1 << 20) -> list[object]:
    parser = FrameParser(max_frame=max_frame)
    frames: list[object] = []
    pos = 0
    for size in chunks:
        frames += parser.feed(stream[pos : pos + size])
        pos += size
    frames += parser.feed(stream[pos:])
    return frames + parser.end()


def splits(stream: bytes, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    out = [[1] * len(stream), [len(stream)], [7] * (len(stream) // 7)]
    for _ in range(20):
        out.append([rng.randint(1, 300) for _ in range(len(stream) // 50 + 1)])
    return out


@pytest.mark.parametrize("framing", list(Framing))
def test_every_chunking_yields_the_same_frames(framing: Framing) -> None:
    stream = b"".join(encode(b, framing) for b in BODIES)
    for chunks in splits(stream, 1):
        assert parse(stream, chunks) == BODIES


def test_header_variants_and_garbage_resynchronise() -> None:
    body = b'{"id":1}'
    stream = (
        b"\r\n"  # blank lines between frames are harmless
        b"content-length: %d\nContent-Type: application/json\n\n%s"
        % (len(body), body)
        + b"Content-Length: abc\r\n\r\n"
        + b"Garbage-Line\r\n"
        + b"junk Content-Length: %d\r\n\r\n%s" % (len(body), body)
        + b"X-Other: 1\r\n\r\n"
    )
    expected = [
        body,
        FrameError("invalid Content-Length b'abc'"),
        FrameError("expected a Content-Length header; skipped a line"),
        body,  # the junk before the header is dropped, the frame is fine
        FrameError("expected a Content-Length header; skipped a line"),
    ]
    for chunks in splits(stream, 2):
        assert parse(stream, chunks) == expected


def test_an_oversized_line_is_skipped_and_reported() -> None:
    big = b"{" + b" " * 100 + b"}"
    small = b'{"ok":1}'
    stream = encode(big, Framing.NDJSON) + encode(small, Framing.NDJSON)
    for chunks in splits(stream, 3):
        frames = parse(stream, chunks, max_frame=50)
        assert len(frames) == 2
        assert isinstance(frames[0], FrameError)
        assert "larger than 50" in frames[0].message
        assert frames[1] == small


def test_a_content_length_beyond_the_limit_is_reported_and_ends_the_stream() -> None:
    """Nothing after a body that cannot be read can be trusted (10**12 bytes would swallow the
    connection): the parser says so once and reads no more."""
    small = b'{"ok":1}'
    for length in (51, 10**12):
        stream = b"Content-Length: %d\r\n\r\n" % length + encode(small, Framing.HEADERS)
        for chunks in splits(stream, 3):
            frames = parse(stream, chunks, max_frame=50)
            assert len(frames) == 1
            assert isinstance(frames[0], FrameError)
            assert "connection is closed" in frames[0].message


def test_garbage_before_the_first_frame_is_reported_without_fixing_the_framing() -> None:
    """A byte order mark is ignored; a stray line or NUL is reported and skipped, and the first
    real frame still decides the framing."""
    ndjson = b'{"a":1}\n'
    headers = encode(b'{"a":1}', Framing.HEADERS)
    for prefix, errors in ((b"\xef\xbb\xbf", 0), (b"hello\n", 1), (b"\x00\x00\n\n", 1)):
        for body, framing in ((ndjson, Framing.NDJSON), (headers, Framing.HEADERS)):
            stream = prefix + body
            for chunks in splits(stream, 3):
                frames = parse(stream, chunks)
                assert frames[-1] == b'{"a":1}'
                assert sum(isinstance(f, FrameError) for f in frames) == errors
            parser = FrameParser()
            parser.feed(stream)
            assert parser.framing is framing


def test_the_stream_ending_mid_frame_is_reported() -> None:
    parser = FrameParser()
    assert parser.feed(b"Content-Length: 10\r\n\r\n{}") == []
    assert parser.end() == [FrameError("stream ended inside a frame body of 10 bytes")]
    parser = FrameParser()
    assert parser.feed(b"Content-Length: 10\r\n") == []
    assert parser.end() == [FrameError("stream ended inside a header block")]


def test_a_last_ndjson_line_without_a_newline_still_counts() -> None:
    parser = FrameParser()
    assert parser.feed(b'\n  {"a":1}\n\n{"b":') == [b'{"a":1}']
    assert parser.framing is Framing.NDJSON
    assert parser.feed(b"2}") == []
    assert parser.end() == [b'{"b":2}']


def test_framing_is_detected_from_the_first_non_blank_byte() -> None:
    for first, framing in ((b"{", Framing.NDJSON), (b"[", Framing.NDJSON), (b"C", Framing.HEADERS)):
        parser = FrameParser()
        assert parser.feed(b" \r\n") == []
        assert parser.framing is None
        parser.feed(first)
        assert parser.framing is framing


def test_a_header_after_an_oversized_line_is_not_taken_mid_skip() -> None:
    pieces = [
        b"Xaaaaaaaaaaaaaaaaaaaaaa",
        b"Content-Length: 2\r\n\r\n{}\r\n",
        b"Content-Length: 2\r\n\r\n[]",
    ]
    whole = parse(b"".join(pieces), [], max_frame=10)
    parser = FrameParser(max_frame=10)
    pieced = [frame for piece in pieces for frame in parser.feed(piece)] + parser.end()
    assert pieced == whole
    assert pieced[-1] == b"[]"
    # The header inside the oversized line is never used: its body is not read as a body.
    assert pieced[0] == FrameError("frame larger than 10 bytes skipped")
