"""Reports a journalist can attach and a moderator can file: HTML, PDF and JSON.

    >>> from fakelens.analysis.pipeline import analyze_detailed
    >>> from fakelens.reports import write_report
    >>> write_report(analyze_detailed("clip.mp4"), Path("clip-report.pdf"))
"""

from fakelens.reports.render import (
    FORMATS,
    build_context,
    html_to_pdf,
    render_html,
    render_json,
    render_pdf,
    report_format,
    write_report,
)

__all__ = ["FORMATS", "build_context", "html_to_pdf", "render_html", "render_json", "render_pdf",
           "report_format", "write_report"]
