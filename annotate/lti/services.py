"""
The LMS's services, called as background work: its roster (Names and Role
Provisioning Services) and its gradebook (Assignment and Grade Services),
through PyLTI1p3's service connector, which gets an OAuth2 access token
with a JWT signed by the tool's key and follows the roster's pages.
"""

from decimal import Decimal

import requests
from django.utils import timezone
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from .keys import tool_registration
from .launch import PlatformSession

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"

# Answers after which trying again, unchanged, cannot help.
REFUSALS = {400, 401, 403, 404, 405, 409, 410, 415, 422}


class ServiceError(Exception):
    """A call to the LMS failed; `passing` says whether it is worth trying again later."""

    def __init__(self, message: str, *, passing: bool):
        super().__init__(message)
        self.passing = passing


def connector(registration) -> ServiceConnector:
    return ServiceConnector(tool_registration(registration), requests_session=PlatformSession())


def _explained(error: Exception) -> ServiceError:
    if isinstance(error, LtiServiceException):
        status = error.response.status_code
        body = error.response.text.strip().replace("\n", " ")[:200]
        where = "its token endpoint" if "token" in error.response.url else "it"
        message = f"the LMS answered {status}" + (f" ({body})" if body else "")
        if status in (401, 403) and where == "its token endpoint":
            message += ": check the registration's client ID, token URL and the LMS's scopes"
        return ServiceError(message, passing=status not in REFUSALS)
    if isinstance(error, requests.RequestException):
        return ServiceError(f"the LMS could not be reached ({type(error).__name__})", passing=True)
    if isinstance(error, LtiException):
        return ServiceError(str(error), passing=False)
    return ServiceError(f"{type(error).__name__}: {error}", passing=True)


def roster(registration, memberships_url: str) -> list[dict]:
    """Every member of the course, all pages of them."""
    service = NamesRolesProvisioningService(
        connector(registration), {"context_memberships_url": memberships_url}
    )
    try:
        return service.get_members()
    except (LtiException, requests.RequestException, ValueError) as error:
        raise _explained(error) from error


def send_scores(registration, line_item_url: str, scores: list[tuple[str, Decimal, Decimal]]):
    """
    Post each (subject, points, maximum) to the line item; yields each
    subject with None once the LMS took it, or the `ServiceError` it met.
    One access token serves the whole batch.
    """
    service = AssignmentsGradesService(
        connector(registration), {"scope": [SCORE_SCOPE], "lineitem": line_item_url}
    )
    line_item = LineItem({"id": line_item_url})
    for subject, points, maximum in scores:
        grade = (
            Grade()
            .set_user_id(subject)
            .set_score_given(float(points))
            .set_score_maximum(float(maximum))
            .set_activity_progress("Completed")
            .set_grading_progress("FullyGraded")
            .set_timestamp(timezone.now().isoformat(timespec="milliseconds"))
        )
        try:
            service.put_grade(grade, line_item)
        except (LtiException, requests.RequestException, ValueError) as error:
            yield subject, _explained(error)
        else:
            yield subject, None
