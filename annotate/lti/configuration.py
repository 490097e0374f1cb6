"""
What an LMS administrator pastes into the LMS: the tool's URLs, and for
Canvas the developer key's JSON. The same for every platform: one launch
URL, one JWKS, and a login initiation URL that finds the registration by the
issuer and client ID the LMS sends (or by a registration's own address, for
an LMS that sends no client ID).
"""

from django.urls import reverse

from ..site import SITE_NAME, absolute, site_domain

SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


def tool_urls(request=None, registration=None) -> dict[str, str]:
    login = (
        reverse("lti_login_for", args=[registration.uuid])
        if registration is not None
        else reverse("lti_login")
    )
    return {
        "login initiation": absolute(login, request),
        "launch (redirect URI)": absolute(reverse("lti_launch"), request),
        "deep linking": absolute(reverse("lti_launch"), request),
        "JWKS (public keys)": absolute(reverse("lti_jwks"), request),
        "Canvas developer key JSON": absolute(reverse("lti_canvas_config"), request),
    }


def canvas_configuration(request=None) -> dict:
    urls = tool_urls(request)
    launch = urls["launch (redirect URI)"]
    placements = [
        {
            "placement": placement,
            "message_type": "LtiDeepLinkingRequest",
            "target_link_uri": launch,
            "text": SITE_NAME,
        }
        for placement in ("assignment_selection", "link_selection")
    ]
    return {
        "title": SITE_NAME,
        "description": "Moderated annotation and discussion of a class's readings.",
        "oidc_initiation_url": urls["login initiation"],
        "target_link_uri": launch,
        "redirect_uris": [launch],
        "public_jwk_url": urls["JWKS (public keys)"],
        "scopes": SCOPES,
        "custom_fields": {"term": "$Canvas.term.name"},
        "extensions": [
            {
                "domain": site_domain().split(":")[0],
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {"text": SITE_NAME, "placements": placements},
            }
        ],
    }
