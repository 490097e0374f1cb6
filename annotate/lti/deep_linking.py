"""
Deep linking: an instructor adds the tool to an assignment in the LMS,
picks one of the class's readings here, and the site answers with a resource
link to it that carries a line item, from which the LMS makes the
assignment's gradebook column.
"""

from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from .. import scores
from ..models import Reading

SETTINGS_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def answer(message, reading: Reading, launch_url: str) -> dict:
    """The signed deep linking response for `reading`, and where the browser posts it."""
    title = reading.document.title
    maximum = float(scores.most_points(scores.rubric_for(reading.classroom)))
    line_item = (
        LineItem()
        .set_label(title)
        .set_score_maximum(maximum)
        .set_resource_id(f"reading-{reading.pk}")
        .set_tag("participation")
    )
    resource = (
        DeepLinkResource()
        .set_url(launch_url)
        .set_title(title)
        .set_custom_params({"reading": reading.document.slug})
        .set_lineitem(line_item)
    )
    deep_link = message.get_deep_link()
    return {
        "return_url": message.claims[SETTINGS_CLAIM]["deep_link_return_url"],
        "jwt": deep_link.get_response_jwt([resource]),
        "reading": reading,
        "maximum": maximum,
    }
