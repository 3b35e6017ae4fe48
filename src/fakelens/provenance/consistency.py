"""Checks across traces: dates that contradict each other or the calendar, a camera's tags
beside an editor's, converter's or generator's, credentials beside metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations

from fakelens.provenance.software import Kind, identify
from fakelens.provenance.traces import DateTrace, Traces, parse_date
from fakelens.types import ContentCredentials, ProvenanceFinding, TraceSignal

EARLIEST_YEAR = 1990  # digital media dated before this carry a reset or zero date
SLACK = timedelta(days=1)  # dates without a time zone may be a day off
CLOCKS = "Device clocks are often wrong or never set; a date says nothing about the content."


def _naive(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def _day(d: DateTrace) -> str:
    return f"{d.where} {d.when:%Y-%m-%d %H:%M}"


def _finding(signal: TraceSignal, title: str, evidence: str, suggests: str,
             does_not_prove: str) -> ProvenanceFinding:
    return ProvenanceFinding(signal=signal, title=title, evidence=evidence, suggests=suggests,
                             does_not_prove=does_not_prove)


def date_findings(traces: Traces, credentials: ContentCredentials,
                  now: datetime | None = None) -> list[ProvenanceFinding]:
    now = _naive(now or datetime.now(UTC))
    future = [d for d in traces.dates if _naive(d.when) > now + SLACK]
    zero = [d for d in traces.dates if _naive(d.when).year < EARLIEST_YEAR]
    sane = [d for d in traces.dates if d not in future and d not in zero]
    out = []
    if future:
        out.append(_finding(TraceSignal.INCONSISTENT, "Date in the future",
                            "; ".join(map(_day, future)),
                            "the clock of the device was wrong, or the date was edited", CLOCKS))
    if zero:
        out.append(_finding(TraceSignal.INCONSISTENT, "Placeholder date",
                            "; ".join(map(_day, zero)), "the date was never set or was reset "
                            "(1904 and 1970 are the zero dates of QuickTime and Unix)", CLOCKS))
    made = [d for d in sane if d.role in ("captured", "created")]
    for a, b in combinations(made, 2):
        if abs(_naive(a.when) - _naive(b.when)) > SLACK:
            out.append(_finding(
                TraceSignal.INCONSISTENT, "Creation dates disagree", f"{_day(a)}; {_day(b)}",
                "the blocks were written at different times: the file was saved again, "
                "re-encoded, or a date was edited",
                "Converters and apps often stamp their own time as the creation time."))
            break
    captured = next((d for d in sane if d.role == "captured"), None)
    modified = next((d for d in sane if d.role == "modified"), None)
    if captured and modified:
        gap = _naive(modified.when) - _naive(captured.when)
        if gap < -timedelta(minutes=1):
            out.append(_finding(TraceSignal.INCONSISTENT, "Modified before it was taken",
                                f"{_day(captured)}; {_day(modified)}",
                                "one of the dates was edited", CLOCKS))
        elif gap > SLACK:
            out.append(_finding(TraceSignal.EDITED, "Saved again after capture",
                                f"{_day(captured)}; {_day(modified)} ({gap.days} days later)",
                                "the file was opened and saved again well after it was taken",
                                "Saving again is routine (rotation, export, a caption); it "
                                "says nothing about what changed."))
    signed = parse_date(credentials.signed_at or "")
    if captured and signed and _naive(signed) < _naive(captured.when) - SLACK:
        out.append(_finding(TraceSignal.INCONSISTENT, "Signed before it was taken",
                            f"{_day(captured)}; credentials signed {signed:%Y-%m-%d %H:%M}",
                            "the capture date in the metadata was edited after signing",
                            CLOCKS))
    return out


def combination_findings(traces: Traces, credentials: ContentCredentials,
                         ai_traces: bool) -> list[ProvenanceFinding]:
    """``ai_traces``: the metadata itself carries AI-generator traces."""
    out = []
    camera = traces.camera
    declared = {a.digital_source_type for a in credentials.actions}
    signed_generated = "trainedAlgorithmicMedia" in declared
    if camera and (ai_traces or signed_generated):
        out.append(_finding(
            TraceSignal.INCONSISTENT, "Camera tags beside AI-generation traces",
            f"camera {camera} in a file "
            + ("signed as AI-generated" if signed_generated else "with AI-generator traces"),
            "camera tags were copied in to pass a generated image as a photo, or a photo was "
            "reworked with an AI tool (img2img, inpainting, upscaling)",
            "Unsigned tags can be written by anyone; the mix only shows that the file's story "
            "is not a simple one."))
    later = next(((where, p) for where, text in traces.software
                  if (p := identify(text)) and p.kind in (Kind.EDITOR, Kind.CONVERTER)), None)
    if camera and later:
        where, program = later
        out.append(_finding(
            TraceSignal.PROCESSED, "Not straight from the camera",
            f"camera {camera}; {where} names {program.name}",
            f"the camera's file was {'edited' if program.kind is Kind.EDITOR else 're-encoded'} "
            f"with {program.name} afterwards (cameras write their own software names)",
            "Re-encoding and re-saving happen in most uploads, trims and messaging apps; "
            "they do not say that the content changed."))
    if declared & {"digitalCapture", "computationalCapture"} and ai_traces:
        out.append(_finding(
            TraceSignal.INCONSISTENT, "Credentials say captured, metadata says generated",
            "a c2pa.created action with a capture source type beside AI-generator traces",
            "the file was reworked with an AI tool after it was signed as a capture",
            "Unsigned metadata can be written by anyone after signing."))
    return out
