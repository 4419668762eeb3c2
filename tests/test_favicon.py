"""Every page names the clinic's own icon, so no browser asks for a /favicon.ico that is
not there: the link is in the layout, and its address answers with an SVG."""

from __future__ import annotations

import re

from tests.helpers import PartnerBrowser, login

ICON = re.compile(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">')


def test_every_kind_of_page_links_the_icon(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    pages = {"sign-in": client.get("/clinic/login").text}
    login(client, owner.email)
    pages["dashboard"] = client.get("/clinic/").text
    pages["couple"] = client.get(f"/clinic/couples/{couple.id}").text
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    pages["partner"] = partner.get("about").text
    hrefs = {name: ICON.findall(html) for name, html in pages.items()}
    assert hrefs == {name: ["/clinic/static/favicon.svg"] for name in pages}


def test_the_icon_answers_with_an_svg(client):
    href = ICON.findall(client.get("/clinic/login").text)[0]
    response = client.get(href)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.data.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
