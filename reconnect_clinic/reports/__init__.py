"""Printed reports. Every PDF is made by :func:`reconnect_clinic.reports.render.html_to_pdf`,
the only caller of WeasyPrint; see that module for what templates may reference."""

from .render import RenderError, RenderTimeout, html_to_pdf

__all__ = ["RenderError", "RenderTimeout", "html_to_pdf"]
