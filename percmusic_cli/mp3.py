"""An MP3's true length, for the one case libsndfile gets silently wrong.

libsndfile (mpg123) takes an MP3's length from the Xing/Info/VBRI header in its first
frame. Without one, it estimates the length from the file size and the first frame's
bitrate, and then stops reading at that estimate: a variable-bitrate file loses its end
without any error (benchmarks/mp3.py: 396,081 of 661,500 samples; librosa.load too).
Walking the frame headers (no decoding, about a millisecond for a 30 s clip) gives the
true count, so `audio.decode` can refuse such a file with a one-line reason.
"""

from __future__ import annotations

from pathlib import Path

_BITRATES = {  # kbit/s by (MPEG-1?, layer), index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_BITRATES[(False, 3)] = _BITRATES[(False, 2)]
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_LENGTH_TAGS = (b"Xing", b"Info", b"VBRI")


def _frame(data: bytes, pos: int) -> tuple[int, int] | None:
    """(frame bytes, samples) of the frame header at `pos`, or None if there is none."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (data[pos + 1] >> 3) & 3, (data[pos + 1] >> 1) & 3
    rate_index, bitrate_index = (data[pos + 2] >> 2) & 3, data[pos + 2] >> 4
    if version == 1 or layer_bits == 0 or rate_index == 3 or bitrate_index in (0, 15):
        return None
    layer, mpeg1 = 4 - layer_bits, version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index - 1] * 1000
    rate = _RATES[version][rate_index]
    padding = (data[pos + 2] >> 1) & 1
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4, 384
    per_frame = 1152 if (layer == 2 or mpeg1) else 576
    return per_frame // 8 * bitrate // rate + padding, per_frame


def _audio_start(data: bytes) -> int:
    """Past an ID3v2 tag, if the file starts with one."""
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return 10 + size + (10 if data[5] & 0x10 else 0)


def unlisted_length(path: Path) -> int | None:
    """Samples per channel of an MP3 with no length header in its first frame, counted
    from its frame headers; None when the file has such a header (then it is trusted)."""
    data = Path(path).read_bytes()
    pos = data.find(b"\xff", _audio_start(data))
    while pos >= 0 and _frame(data, pos) is None:
        pos = data.find(b"\xff", pos + 1)
    if pos < 0:
        return None
    first = _frame(data, pos)
    if first is None or any(tag in data[pos : pos + min(first[0], 200)] for tag in _LENGTH_TAGS):
        return None
    samples = 0
    while (frame := _frame(data, pos)) is not None and frame[0] > 0:
        samples += frame[1]
        pos += frame[0]
    return samples
