"""Printed reports. Every PDF is made by :func:`reconnect_clinic.reports.pdf.html_to_pdf`,
the only caller of WeasyPrint; see that package for what templates may reference."""

from .pdf import RenderError, RenderTimeout, html_to_pdf

__all__ = ["RenderError", "RenderTimeout", "html_to_pdf"]
