"""Jinja templates, mapped to ``reconnect_clinic.templates`` so an installed wheel carries them."""
