"""Reading chat JSONL files: one message a line, validated before anything is written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from memory.errors import BadQuery, ImportFailed
from memory.timeutil import parse_ts

MAX_MESSAGE_CHARS = 2_000_000


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One valid chat message from an import file."""

    line: int
    id: str
    ts: float
    speaker: str
    text: str
    session: str | None = None
    image_caption: str | None = None

    @property
    def full_text(self) -> str:
        """The message text, with a shared image's caption when there is one."""
        if self.image_caption:
            return f"{self.text} [shares an image: {self.image_caption}]".strip()
        return self.text


def json_reason(exc: json.JSONDecodeError) -> str:
    """A JSON error in words: "not valid JSON: Unterminated string starting at column 31"."""
    joint = " " if exc.msg.endswith(" at") else " at "
    return f"not valid JSON: {exc.msg}{joint}column {exc.colno}"


def _field(obj: dict, key: str, kind: type, required: bool = True) -> object:
    if key not in obj or obj[key] is None:
        if required:
            raise ValueError(f'missing field "{key}"')
        return None
    value = obj[key]
    if (
        kind is str
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and key == "id"
    ):
        value = str(value)
    if not isinstance(value, kind):
        raise ValueError(f'field "{key}" must be {kind.__name__}, not {type(value).__name__}')
    return value


def parse_line(raw: bytes, number: int) -> ChatLine:
    """Parse one line.

    Raises:
        ValueError: with a reason naming what is wrong.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from exc
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(json_reason(exc)) from exc
    except RecursionError as exc:  # "[[[[..." 200,000 deep: a hostile line, not a crash (#12)
        raise ValueError("the JSON is nested too deeply to be a chat message") from exc
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    try:  # "\\udcff" in JSON decodes to a lone surrogate, which no UTF-8 store can hold
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("the line holds an invalid \\u escape (a lone surrogate)") from exc
    msg = _field(obj, "text", str)
    assert isinstance(msg, str)
    if len(msg) > MAX_MESSAGE_CHARS:
        raise ValueError(f"the message is {len(msg)} characters; the limit is {MAX_MESSAGE_CHARS}")
    try:
        ts = parse_ts(_field(obj, "ts", str))  # type: ignore[arg-type]
    except BadQuery as exc:
        raise ValueError(str(exc)) from exc
    msg_id = str(_field(obj, "id", str))
    if not msg_id.strip():
        raise ValueError('field "id" is empty')
    return ChatLine(
        number,
        msg_id,
        ts,
        str(_field(obj, "speaker", str)),
        msg,
        _field(obj, "session", str, False),
        _field(obj, "image_caption", str, False),
    )  # type: ignore[arg-type]


def read_chat_jsonl(
    path: Path, *, skip_bad: bool = False
) -> tuple[list[ChatLine], list[tuple[int, str]]]:
    """Read a whole file: (messages, skipped (line, reason)).

    Raises:
        ImportFailed: every bad line when ``skip_bad`` is False, or an unreadable file.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFailed(str(path), None, f"cannot read the file: {exc.strerror or exc}") from exc
    lines: list[ChatLine] = []
    bad: list[tuple[int, str]] = []
    seen: set[str] = set()
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = parse_line(raw, number)
            if item.id in seen:
                raise ValueError(f'duplicate id "{item.id}" in this file')
            seen.add(item.id)
            lines.append(item)
        except ValueError as exc:
            bad.append((number, str(exc)))
    if bad and not skip_bad:
        raise ImportFailed.lines(str(path), bad)
    return lines, bad
