"""What the user was doing on a screen, in a question's words ("reading", "chatting", "in a call").

A screen's OCR text says what was on it, not what the user did with it; questions such as "what was
I reading Thursday morning?" or "who was I chatting with after lunch?" name the activity. It is
derived from the window's application, title and URL only (never from the screen text, so a page
that mentions a terminal is not a terminal) and indexed beside the text, with a low weight.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# (pattern over the lower-cased application name, activity words); first match wins
_APPS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), words)
    for p, words in (
        (
            r"zoom|meet|jitsi|webex|skype|facetime|teams call|huddle",
            "in a call, video meeting, talking",
        ),
        (
            r"slack|teams|discord|element|signal|telegram|whatsapp|mattermost|zulip|messages|chat",
            "chatting, messaging, chat conversation",
        ),
        (
            r"thunderbird|mail|outlook|evolution|geary|mutt|spark",
            "reading email, mail message, inbox",
        ),
        (
            r"code|vim|emacs|pycharm|intellij|idea|sublime|atom|xcode|zed|kate|gedit|editor",
            "writing code, programming, editing source",
        ),
        (
            r"terminal|konsole|iterm|alacritty|kitty|xterm|tilix|wezterm|shell|powershell|cmd",
            "running commands in the terminal, shell, build",
        ),
        (r"calendar", "calendar, schedule, meetings, appointments"),
        (
            r"document viewer|evince|okular|acrobat|preview|zathura|pdf",
            "reading a document, PDF",
        ),
        (
            r"calc|excel|sheets|numbers|spreadsheet",
            "spreadsheet, table, figures",
        ),
        (r"writer|word|pages|libreoffice|docs", "writing a document"),
        (r"notes|obsidian|joplin|notion|logseq|keep", "notes, writing notes"),
        (
            r"settings|preferences|control panel|system",
            "system settings of this computer, device, laptop",
        ),
    )
)
_BROWSERS = re.compile(r"firefox|chrom|safari|edge|brave|opera|vivaldi|browser|epiphany")

# (pattern over "host/path" of a URL, or over the title when there is no URL; activity words)
_PAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), words)
    for p, words in (
        (r"meet\.|zoom\.|jitsi|webex|/call", "in a call, video meeting"),
        (r"mail\.|/mail|inbox", "reading email, mail message"),
        (r"chat\.|slack|discord|/messages", "chatting, messaging"),
        (r"[/?](search|results)\b|[?&]q=", "searching the web, search results"),
        (r"/(cart|basket|checkout)\b", "shopping, shopping cart"),
        (r"/(order|orders|account/orders)\b", "shopping, online order"),
        (r"/(p|product|products|item|dp)/", "shopping, product page"),
        (r"/(flights?|trips?|booking|manage)\b", "travel booking, flights"),
        (r"/(hotels?|confirmation|reservations?)\b", "travel booking, hotel"),
        (r"/(recipes?|cooking)\b", "reading a recipe, cooking"),
        (r"/(issues?|tickets?|browse|pull|merge_requests)\b|tracker|jira", "issue tracker"),
        (r"/(pipelines?|jobs?|builds?|actions)\b|\bci\.", "build pipeline, CI"),
        (r"/(docs?|documentation|manual|reference|project|wiki)\b", "reading documentation"),
        (r"\.pdf\b", "reading a document, PDF"),
    )
)
# a path that ends in a long hyphenated slug, or holds a year, is usually an article
_ARTICLE = re.compile(r"/(19|20)\d\d/|/[a-z0-9]+(?:-[a-z0-9]+){3,}/?$")


def activity(app: str | None, title: str | None, url: str | None) -> str:
    """Activity words for a screen from its window facts; "" when nothing is known."""
    name = (app or "").lower()
    if not name and not url:
        return ""
    if url or _BROWSERS.search(name):
        return _page_activity(title or "", url or "")
    for pattern, words in _APPS:
        if pattern.search(name):
            if "pdf" not in words and (title or "").lower().endswith(".pdf"):
                return "reading a document, PDF"
            return words
    return ""


def _page_activity(title: str, url: str) -> str:
    parts = urlsplit(url) if "://" in url else urlsplit("//" + url) if url else None
    where = f"{parts.netloc}{parts.path}?{parts.query}".lower() if parts else title.lower()
    words = ["browsing the web"]
    for pattern, found in _PAGES:
        if pattern.search(where):
            words.append(found)
            break
    else:
        if parts is not None and _ARTICLE.search(parts.path.lower()):
            words.append("reading an article")
    return ", ".join(words)
