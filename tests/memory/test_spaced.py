"""Spaces OCR lost are put back for a reader; names and identifiers stay as they were read."""

from __future__ import annotations

import pytest

from memory.agents.passage import deglue
from memory.pipeline.joined import spaced


@pytest.mark.parametrize(
    "read, shown",
    [
        (
            "4.1ThisAgreementrenewsautomaticallyon7October2026",
            "4.1 This Agreement renews automatically on 7 October 2026",
        ),
        (
            "unlesseitherpartygives60 days'writtennotice.",
            "unless either party gives 60 days'written notice.",
        ),
        ("5.1Feesareinvoicedquarterlyinadvance", "5.1 Fees are invoiced quarterly in advance"),
        ("MASTERSERVICESAGREEMENT-VANTAGECRM", "MASTER SERVICES AGREEMENT-VANTAGECRM"),
        ("NoahAcheampong09:42", "Noah Acheampong 09:42"),  # a name is not cut into "A cheam pong"
        ("Kowalczykowski internationalization", "Kowalczykowski internationalization"),
        ("PyIndex kubectl", "PyIndex kubectl"),  # short runs are left alone
    ],
)
def test_run_together_words_are_spaced_and_names_kept(read, shown):
    assert spaced(read) == shown


def test_the_assistant_reads_the_spaced_words_and_the_date():
    item = "4.Termandrenewal 4.1ThisAgreementrenewsautomaticallyon7October2026unless"
    assert "Agreement renews automatically on 7 October 2026 unless" in deglue(item)
