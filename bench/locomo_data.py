"""Reading the LoCoMo development split (from ../shared/bench-data; never copied into the repo)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

# ../shared/bench-data beside the main checkout; a worktree under /work/wt finds it one level up
_SPLIT = Path("shared") / "bench-data" / "locomo-dev" / "locomo-dev.json"
DEFAULT = next(
    (p / _SPLIT for p in Path(__file__).resolve().parents[1:4] if (p / _SPLIT).is_file()),
    Path(__file__).resolve().parents[2] / _SPLIT,
)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
_EVIDENCE = re.compile(r"D\s*:?\s*(\d+)\s*:\s*(\d+)")


@dataclass(frozen=True)
class Question:
    """One LoCoMo question with repaired evidence ids."""

    question: str
    answer: str
    category: int
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Conversation:
    """One LoCoMo conversation as chat lines and questions."""

    sample_id: str
    lines: list[dict]
    questions: list[Question]
    unrepairable: int


def session_time(text: str) -> datetime:
    """Parse LoCoMo's "1:56 pm on 8 May, 2023"."""
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")


def repair_evidence(raw: list[str], known: set[str]) -> tuple[list[str], int]:
    """Normalise evidence ids ("D8:6; D9:17", "D:11:26", "D30:05"); count ids that stay unknown."""
    out, bad = [], 0
    for item in raw:
        for m in _EVIDENCE.finditer(str(item)):
            did = f"D{int(m.group(1))}:{int(m.group(2))}"
            if did in known:
                out.append(did)
            else:
                bad += 1
        if not _EVIDENCE.search(str(item)):
            bad += 1
    return out, bad


def load(path: Path = DEFAULT) -> list[Conversation]:
    """All conversations of the split."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    convs = []
    for sample in data:
        conv = sample["conversation"]
        lines: list[dict] = []
        n = 1
        while f"session_{n}" in conv:
            start = session_time(conv[f"session_{n}_date_time"])
            for i, turn in enumerate(conv[f"session_{n}"]):
                line = {
                    "id": turn["dia_id"],
                    "ts": (start + timedelta(seconds=i)).isoformat(),
                    "speaker": turn["speaker"],
                    "text": turn["text"],
                    "session": f"session_{n}",
                }
                if turn.get("blip_caption"):
                    line["image_caption"] = turn["blip_caption"]
                lines.append(line)
            n += 1
        known = {ln["id"] for ln in lines}
        questions, bad = [], 0
        for qa in sample["qa"]:
            ev, b = repair_evidence(qa.get("evidence", []), known)
            bad += b
            questions.append(
                Question(
                    qa["question"],
                    str(qa.get("answer", qa.get("adversarial_answer", ""))),
                    int(qa["category"]),
                    tuple(dict.fromkeys(ev)),
                )
            )
        convs.append(Conversation(sample["sample_id"], lines, questions, bad))
    return convs
