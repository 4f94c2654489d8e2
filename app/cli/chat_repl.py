"""`engram chat`: the interactive loop, its slash commands and line editing with history (#13)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HELP = """commands:
  /help      this list
  /new       start a new conversation (the assistant forgets the earlier turns)
  /sources   what the last answer was drawn from: every retrieved item with its time and source
  /quit      leave (also /exit, quit, exit, or Ctrl-D)
anything else is a question; an empty line does nothing; Ctrl-C stops an answer."""
QUIT = frozenset({"/quit", "/exit", "/q", "quit", "exit"})
HISTORY_FILE = "chat_history"
HISTORY_LENGTH = 1000


class LineReader:
    """Reads questions: with readline editing and a history file (0600) on a terminal, plain
    lines from a pipe. Returns None at the end of input (Ctrl-D)."""

    def __init__(self, history: Path | None, interactive: bool) -> None:
        self.interactive = interactive
        self.history = history
        self._readline: Any = None
        if interactive:
            try:
                import readline
            except ImportError:  # Windows without pyreadline: plain input()
                return
            self._readline = readline
            readline.set_history_length(HISTORY_LENGTH)
            if history is not None and history.is_file():
                readline.read_history_file(str(history))

    def read(self, prompt: str) -> str | None:
        """One line without its newline, or None at the end of input."""
        if not self.interactive:
            line = sys.stdin.readline()
            return None if not line else line.rstrip("\n")
        try:
            return input(prompt)
        except EOFError:
            sys.stdout.write("\n")
            return None

    def save(self) -> None:
        """Write the history file, private to the user (created 0600, kept 0600)."""
        if self._readline is None or self.history is None:
            return
        fd = os.open(self.history, os.O_WRONLY | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        os.close(fd)
        self._readline.write_history_file(str(self.history))


class ChatLoop:
    """Questions in, streamed answers out; slash commands handled here, never sent to the model.

    Args:
        ask: ``ask(question, history, session_id)`` returning an answer stream (iterable of text
            pieces, ``.result`` the Answer afterwards).
        reader: where lines come from.
        print_citations: prints an answer's citations.
    """

    def __init__(
        self,
        ask: Callable[[str, list[dict[str, str]], int | None], Any],
        reader: LineReader,
        print_citations: Callable[[list[dict[str, Any]]], None],
    ) -> None:
        self.ask = ask
        self.reader = reader
        self.print_citations = print_citations
        self.history: list[dict[str, str]] = []
        self.session: int | None = None
        self.last: Any = None

    def run(self) -> int:
        """Loop until /quit or the end of input; returns the exit code."""
        if self.reader.interactive:
            print("Ask your memory anything. /help lists the commands; Ctrl-D leaves.")
        try:
            while True:
                try:
                    line = self.reader.read("you> ")
                except KeyboardInterrupt:  # Ctrl-C at the prompt: a fresh line
                    sys.stdout.write("\n")
                    continue
                if line is None:
                    return 0
                text = line.strip()
                if not text:
                    continue
                if text.lower() in QUIT:
                    return 0
                if text.startswith("/"):
                    self.command(text)
                    continue
                self.answer(text)
        finally:
            self.reader.save()

    def command(self, text: str) -> None:
        """Run a slash command (an unknown one says so; nothing is sent to the model)."""
        name = text.split()[0].lower()
        if name in ("/help", "/?"):
            print(HELP)
        elif name == "/new":
            self.history, self.session, self.last = [], None, None
            print("new conversation")
        elif name == "/sources":
            self.sources()
        else:
            print(f"unknown command {name}: /help lists the commands")

    def answer(self, question: str) -> None:
        """Stream the answer to one question; Ctrl-C stops it."""
        stream = self.ask(question, self.history, self.session)
        sys.stdout.write("engram> ")
        try:
            for piece in stream:
                sys.stdout.write(piece)
                sys.stdout.flush()
        except KeyboardInterrupt:
            sys.stdout.write(" [stopped]\n")
            return
        sys.stdout.write("\n")
        answer = stream.result
        self.print_citations(answer.citations)
        self.last = answer
        self.session = answer.session_id
        self.history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]

    def sources(self) -> None:
        """Every item the last answer was drawn from."""
        if self.last is None:
            print("no answer yet: ask something first")
            return
        from app.cli.render import when

        if not self.last.retrieved:
            print("the last answer found nothing in memory")
        for n, hit in enumerate(self.last.retrieved, 1):
            kind = hit.obs_kind or hit.kind
            where = ", ".join(
                s.frame_path or s.message_id or f"observation {s.observation_id}"
                for s in hit.sources[:3]
            )
            print(
                f"  [{n}] {kind}: {hit.title}  ·  {when(hit.ts)}"
                + (f"  ·  {where}" if where else "")
            )
