"""Checking a delivery copy against the database: whether the fingerprints printed on its pages
are those of the list and the letter now (`flask delivery check FILE`), said in words a recipient's
office can be told."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from petition.delivery import jobs
from petition.delivery.copy import delivery_copy
from petition.delivery.layout import fingerprints_in


@dataclass(frozen=True)
class CopyCheck:
    findings: list[str]  # one sentence per finding: the list, the letter, and the file if the site made it
    matches: bool  # the list and the letter both match


def check_copy(file: Path) -> CopyCheck:
    """Recompute the fingerprints of the list and of the letter and compare them with those printed in
    `file`. Raises ValueError for a file that is not a delivery copy. Only reads."""
    printed = fingerprints_in(file)
    now = delivery_copy(printed.language)
    same_list = printed.list_sha256 == now.list_fingerprint
    same_letter = printed.letter_sha256 == now.letter_fingerprint
    findings = []
    if same_list:
        findings.append(f"List of signatories: match (SHA-256 {now.list_fingerprint}, the list in the database now).")
    else:
        findings.append(
            f"List of signatories: no match. The copy's SHA-256 is {printed.list_sha256}; the list in the "
            f"database now gives {now.list_fingerprint}: names were added, removed or changed since it was made."
        )
    if same_letter:
        findings.append(f"Letter ({printed.language}): match (SHA-256 {now.letter_fingerprint}).")
    else:
        known = jobs.version_with_text(printed.language, printed.letter_sha256)
        was = f"the text of version {known}" if known else "a text recorded as no version"
        findings.append(
            f"Letter ({printed.language}): no match. The copy has {was} (SHA-256 {printed.letter_sha256}); "
            f"the letter now is {now.letter_fingerprint}."
        )
    made = jobs.file_made_as(file.read_bytes())
    if made is not None:
        findings.append(f"{file} is, byte for byte, the copy the site made on {made.made_at:%Y-%m-%d %H:%M} UTC.")
    return CopyCheck(findings, same_list and same_letter)
