"""The provenance section as plain values, for the report template and the web result page."""

from __future__ import annotations

from fakelens.types import CredentialState, Provenance, TraceSignal

SHOWN_FIELDS = 30  # metadata fields listed; the JSON result has them all

STATE_LABEL = {
    CredentialState.NONE: ("No content credentials", "neutral"),
    CredentialState.VALID: ("Valid, trusted signer", "good"),
    CredentialState.UNTRUSTED_SIGNER: ("Valid signature, untrusted signer", "info"),
    CredentialState.INVALID_SIGNATURE: ("Signature invalid", "bad"),
    CredentialState.TAMPERED: ("Content changed after signing", "bad"),
    CredentialState.REMOTE: ("Stored online, not fetched", "neutral"),
    CredentialState.UNREADABLE: ("Damaged manifest", "bad"),
    CredentialState.UNSUPPORTED: ("Not defined for this format", "neutral"),
}
SIGNAL_LABEL = {
    TraceSignal.AI_GENERATED: ("AI generation", "bad"),
    TraceSignal.EDITED: ("editing", "warn"),
    TraceSignal.PROCESSED: ("processing", "info"),
    TraceSignal.CAPTURED: ("capture", "good"),
    TraceSignal.INCONSISTENT: ("inconsistency", "warn"),
    TraceSignal.NO_METADATA: ("no metadata", "neutral"),
}
MEANING = ("Content credentials (C2PA) are signed statements about how a file was made and "
           "edited; a valid signature proves who signed them and that the file has not changed "
           "since, not that the statements are true. Metadata can be removed or written by "
           "anyone: each trace below says what it suggests and what it does not prove. None "
           "of this changes the detectors' score or verdict.")


def provenance_view(p: Provenance) -> dict:
    c = p.credentials
    label, tone = STATE_LABEL[c.state]
    if c.ai_generated:
        label += " · declares AI generation"
        tone = "bad" if tone != "good" else "warn"
    rows = []
    if c.signer:
        rows.append(("Signer", f"{c.signer} ({'' if c.signer_trusted else 'un'}trusted)"))
    if c.signed_at:
        rows.append(("Signed", c.signed_at))
    if c.claim_generator:
        rows.append(("Made with", c.claim_generator))
    if c.title:
        rows.append(("Title", c.title))
    if c.state not in (CredentialState.NONE, CredentialState.UNSUPPORTED):
        declared = sorted({a.digital_source_type for a in c.actions if a.digital_source_type})
        rows.append(("AI generation declared", ("yes" if c.ai_generated else "no")
                     + (f" (digital source type: {', '.join(declared)})" if declared else "")))
    if c.remote_url:
        rows.append(("Stored at", c.remote_url))
    findings = []
    for f in p.findings:
        word, ftone = SIGNAL_LABEL[f.signal]
        findings.append({"kind": word, "tone": ftone, "title": f.title, "evidence": f.evidence,
                         "suggests": f.suggests, "does_not_prove": f.does_not_prove})
    return {
        "label": label, "tone": tone, "summary": c.summary, "overview": p.summary,
        "rows": rows,
        "actions": [a.words[0].upper() + a.words[1:] + (f" ({a.software})" if a.software else "")
                    for a in c.actions],
        "ingredients": [f"{i.title or 'untitled'}"
                        + (f" ({i.relationship})" if i.relationship else "")
                        + (", with its own credentials" if i.has_credentials else "")
                        for i in c.ingredients],
        "failures": c.problems,
        "findings": findings,
        "metadata": [(m.source, m.name, m.value) for m in p.metadata[:SHOWN_FIELDS]],
        "more_metadata": max(0, len(p.metadata) - SHOWN_FIELDS),
        "problems": [f"{x.part}: {x.message}" for x in p.problems],
        "meaning": MEANING,
        "source": source_view(p.source) if p.source else None,
    }


def item_words(item: int, items: int | None) -> str | None:
    """Which video of a link was analysed: "video 2 of 4 behind this link"; None for the
    only one."""
    if items and items > 1:
        return f"video {item} of {items} behind this link"
    if item > 1:
        return f"video {item} behind this link"
    return None


def source_view(src) -> dict:
    """The link a fetched file came from and what its site says about it."""
    rows = [("Site", src.site if src.platform == "generic" else f"{src.platform} ({src.site})")]
    if src.page_url and src.page_url != src.url:
        rows.append(("Page", src.page_url))
    for label, value in (("Title", src.title), ("Uploader", src.uploader),
                         ("Channel", src.channel if src.channel != src.uploader else None),
                         ("Upload date", src.upload_date),
                         ("Views", f"{src.view_count:,}" if src.view_count is not None
                          else None),
                         ("Likes", f"{src.like_count:,}" if src.like_count is not None
                          else None),
                         ("Description", src.description)):
        if value:
            rows.append((label, value))
    which = item_words(src.item, src.items)
    if which:
        rows.append(("Which video", which))
    if len(src.entries) > 1:
        listed = " · ".join(f"{i}. {name}" for i, name in enumerate(src.entries, 1))
        more = (src.items or 0) - len(src.entries)
        rows.append(("Videos behind this link", listed + (f" · and {more} more" if more > 0
                                                             else "")))
    rows.append(("Downloaded file", f"sha256 {src.sha256}, {src.size_bytes:,} bytes, "
                 f"fetched {src.fetched_at}"))
    return {"url": src.url, "rows": rows, "note": src.note}
