"""Provenance: where a file says it comes from, beside (never inside) the detectors' verdict.

Content credentials (C2PA: signer, actions, AI-generation assertions, ingredients and whether
the signature still holds) and metadata traces (EXIF, XMP, IPTC, PNG text chunks with
generator parameters, container tags), with what each finding suggests and does not prove.

    >>> from fakelens.provenance import inspect_provenance
    >>> inspect_provenance("photo.jpg").credentials.state
"""

from fakelens.provenance.check import inspect_provenance, reason_note

__all__ = ["inspect_provenance", "reason_note"]
