"""`engram doctor`, `engram models list|pull|use`, `engram ocr`, `engram transcribe`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from memory.errors import StoreError
from memory.modelhub import (
    BadInput,
    ModelError,
    ModelHub,
    ModelUnavailable,
    catalogue_rows,
    pull_model,
)

GetService = Callable[[argparse.Namespace], Any]
ROLE_CHOICES = ("text_embedding", "ocr", "speech", "clip", "llm")


def register(sub: argparse._SubParsersAction, get_service: GetService | None = None) -> None:
    """Add the model commands; ``get_service(args).models`` must be a ModelHub."""
    get = get_service or _standalone_service
    p = sub.add_parser("doctor", help="check the store, devices and models")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-load", action="store_true", help="only say where weights come from")
    p.set_defaults(func=_guarded(lambda a: cmd_doctor(a, get)))

    m = sub.add_parser("models", help="list, download or choose models")
    msub = m.add_subparsers(dest="models_command", required=True)
    lst = msub.add_parser("list", help="the known models and which are available offline")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=_guarded(lambda a: cmd_models_list(a, get(a))))
    pull = msub.add_parser("pull", help="download a model into the cache")
    pull.add_argument("model_id")
    pull.set_defaults(func=_guarded(lambda a: cmd_models_pull(a, get(a))))
    use = msub.add_parser("use", help="use a catalogue model or a local path for a role")
    use.add_argument("role", choices=ROLE_CHOICES)
    use.add_argument("model", help="a catalogue id or a local path")
    use.set_defaults(func=_guarded(lambda a: cmd_models_use(a, get(a))))

    o = sub.add_parser("ocr", help="read the text in an image")
    o.add_argument("image", type=Path)
    o.add_argument("--json", action="store_true")
    o.set_defaults(func=_guarded(lambda a: cmd_ocr(a, get(a))))
    t = sub.add_parser("transcribe", help="transcribe an audio file")
    t.add_argument("audio", type=Path)
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=_guarded(lambda a: cmd_transcribe(a, get(a))))


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn model errors into one clear line on stderr and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except BadInput as exc:
            print(f"engram: bad input: {exc.reason}", file=sys.stderr)
        except ModelUnavailable as exc:
            print(f"engram: {exc}", file=sys.stderr)
        except ModelError as exc:
            print(f"engram: error: {exc}", file=sys.stderr)
        return 2

    return run


def cmd_doctor(args: argparse.Namespace, get: GetService) -> int:
    """Print the doctor report: the store first (read-only), then devices and models.

    Exit 0 even when optional roles (clip) are unavailable; 3 when a store check fails (the
    models are then not checked if the store cannot be opened).
    """
    from app.cli.cmd_store import capture_checks, format_checks, store_checks
    from models.doctor import format_report

    store = store_checks(args)
    sound = all(c["ok"] for c in store)
    # the models are checked through the store: not when opening it would already repair it
    opens = all(
        c["ok"] for c in store if c["name"] in ("database", "vector index file", "vector index")
    )
    report: dict[str, Any] = {}
    text = format_checks(store)
    if opens:
        try:
            report = dict(get(args).models.doctor(quick_check=not args.no_load))
            text += "\n" + format_report(report)
        except StoreError as exc:  # a damaged vector index: the store checks above say so
            text += f"\nmodels not checked: {exc}"
            sound = False
    report["store"] = store
    capture = capture_checks(args)
    report["capture"] = capture
    text += "\n" + format_checks(capture, "screen capture")
    _emit(args, report, text)
    return 0 if sound else 3


def cmd_models_list(args: argparse.Namespace, service: Any) -> int:
    """Print the catalogue."""
    rows = catalogue_rows(service.models)
    text = "\n".join(
        f"{'*' if r['in_use'] else ' '} {r['role']:15} {r['model_id']:28} "
        f"{'offline' if r['offline_available'] else 'download':9} {r['description']}"
        for r in rows
    )
    _emit(args, rows, text)
    return 0


def cmd_models_pull(args: argparse.Namespace, service: Any) -> int:
    """Download a model with a progress line on stderr."""

    def progress(done: int, total: int | None) -> None:
        of = f" of {total / 1e6:.1f}" if total else ""
        print(f"\r{args.model_id}: {done / 1e6:.1f}{of} MB", end="", file=sys.stderr, flush=True)

    path = pull_model(args.model_id, service.models, progress=progress)
    print(file=sys.stderr)
    print(path)
    return 0


def cmd_models_use(args: argparse.Namespace, service: Any) -> int:
    """Point a role at a model; saved when the service can persist model settings."""
    hub = service.models
    hub.use(args.role, args.model)
    saver = getattr(service, "save_model_config", None)
    if callable(saver):
        saver(hub.config)
        print(f"{args.role} now uses {args.model}")
    else:
        print(f"{args.role} uses {args.model} for this run (this service cannot save settings)")
    return 0


def cmd_ocr(args: argparse.Namespace, service: Any) -> int:
    """Print the text lines of an image."""
    lines = service.models.ocr().read(args.image)
    _emit(args, [asdict(line) for line in lines], "\n".join(line.text for line in lines))
    return 0


def cmd_transcribe(args: argparse.Namespace, service: Any) -> int:
    """Print the transcript of an audio file."""
    result = service.models.speech().transcribe(args.audio)
    data = {
        "language": result.language,
        "duration": result.duration,
        "text": result.text,
        "segments": [asdict(s) for s in result.segments],
    }
    text = "\n".join(f"[{s.start:7.2f} - {s.end:7.2f}] {s.text}" for s in result.segments)
    _emit(args, data, text)
    return 0


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    import json

    if args.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif text:
        print(text)


class _StandaloneService:
    """Just the models, for ``python -m app.cli.cmd_models`` before the CLI is wired."""

    def __init__(self) -> None:
        self.models = ModelHub()


_SERVICE: list[_StandaloneService] = []


def _standalone_service(args: argparse.Namespace) -> _StandaloneService:
    if not _SERVICE:
        _SERVICE.append(_StandaloneService())
    return _SERVICE[0]


def main(argv: list[str] | None = None) -> int:
    """Run only the model commands (until ``app/cli/main.py`` registers them)."""
    parser = argparse.ArgumentParser(prog="engram")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
