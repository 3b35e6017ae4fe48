"""The provenance step: content credentials and metadata traces of one file, their findings,
and the plain words a result shows (summary, and the note for the result's reason)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fakelens.errors import ManifestError
from fakelens.media.files import check_readable
from fakelens.provenance.consistency import combination_findings, date_findings
from fakelens.provenance.credentials import read_credentials, summary_of
from fakelens.provenance.findings import single_findings
from fakelens.provenance.traces import read_traces
from fakelens.types import (
    ContentCredentials,
    CredentialState,
    Provenance,
    ProvenanceFinding,
    ProvenanceProblem,
    TraceSignal,
)

SIGNED = (CredentialState.VALID, CredentialState.UNTRUSTED_SIGNER)
HEADLINE = {
    CredentialState.NONE: "No content credentials",
    CredentialState.INVALID_SIGNATURE: "Content credentials whose signature does not verify",
    CredentialState.TAMPERED: "Content credentials, but the content was changed after signing",
    CredentialState.REMOTE: "Content credentials stored online (not fetched)",
    CredentialState.UNREADABLE: "Damaged content credentials",
    CredentialState.UNSUPPORTED: "No content credentials (not defined for this format)",
}
NO_METADATA = ProvenanceFinding(
    signal=TraceSignal.NO_METADATA, title="No metadata",
    evidence="no camera, software, date or generator tags",
    suggests="the metadata was stripped, as social networks, messaging apps, screenshots and "
             "many generators do",
    does_not_prove="Missing metadata is normal for files passed around online; it points "
                   "neither to a fake nor to a genuine file.")


def inspect_provenance(path: str | Path, *, trust_anchors: Path | None = None,
                       now: datetime | None = None) -> Provenance:
    """Content credentials (C2PA) and metadata traces of any image, video or audio file.

    Damaged or hostile blocks become ``problems`` in the result; only a missing, unreadable
    or empty file (``MediaError``) or unreadable trust anchors (``ConfigError``) raise.
    ``trust_anchors``: PEM root certificates whose signers count as trusted.
    """
    path = Path(path)
    check_readable(path)
    problems: list[ProvenanceProblem] = []
    try:
        credentials = read_credentials(path, trust_anchors)
    except ManifestError as exc:
        state = CredentialState.UNREADABLE
        credentials = ContentCredentials(state=state, summary=summary_of(state))
        problems.append(ProvenanceProblem(part="C2PA manifest", message=f"damaged or "
                                          f"malformed manifest: {exc}"))
    traces = read_traces(path)
    problems += traces.problems
    findings = single_findings(traces)
    ai_traces = any(f.signal is TraceSignal.AI_GENERATED for f in findings)
    findings += date_findings(traces, credentials, now)
    findings += combination_findings(traces, credentials, ai_traces)
    if not traces.fields and credentials.state in (CredentialState.NONE,
                                                   CredentialState.UNSUPPORTED):
        findings.append(NO_METADATA)
    return Provenance(summary=_summary(credentials, findings, problems),
                      credentials=credentials, findings=findings, metadata=traces.fields,
                      problems=problems)


def _signed_by(c: ContentCredentials) -> str:
    if not c.signer:
        return ""
    return f" by {c.signer}" + ("" if c.signer_trusted else " (an untrusted signer)")


def _summary(c: ContentCredentials, findings: list[ProvenanceFinding],
             problems: list[ProvenanceProblem]) -> str:
    if c.state in SIGNED:
        first = f"Content credentials signed{_signed_by(c)}" + (
            ", declaring it AI-generated" if c.ai_generated else "")
    else:
        first = HEADLINE[c.state]
    titles = [f.title for f in findings if f.signal is not TraceSignal.NO_METADATA]
    second = ("metadata: " + "; ".join(titles)) if titles else "no metadata traces of note"
    text = f"{first}; {second}."
    if problems:
        text += f" {len(problems)} damaged block{'s' if len(problems) > 1 else ''} skipped."
    return text


def reason_note(p: Provenance) -> str | None:
    """One sentence for the result's reason when provenance matters, else None."""
    c = p.credentials
    claim = f"signed as AI-generated{_signed_by(c)}" if c.ai_generated else ""
    if c.state is CredentialState.TAMPERED:
        note = (f"{claim}, but" if claim else "credentials present but") + \
            " the content was changed after signing"
    elif c.state is CredentialState.INVALID_SIGNATURE:
        note = (f"{claim}, but" if claim else "credentials present but") + \
            " they do not verify"
    elif c.state in SIGNED and claim:
        note = claim
    elif c.state is CredentialState.UNREADABLE:
        note = "a content-credentials manifest is present but damaged"
    elif ai := [f.title for f in p.findings if f.signal is TraceSignal.AI_GENERATED]:
        note = f"its metadata carries AI-generator traces ({'; '.join(ai)})"
    elif c.state is CredentialState.VALID:
        note = f"content credentials signed{_signed_by(c)}, with no AI-generation claim"
    else:
        return None
    return f"Provenance (not part of the score): {note}."
