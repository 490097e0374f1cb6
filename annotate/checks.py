from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def akismet_configured(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if settings.AKISMET_API_KEY:
        return []
    return [
        checks.Warning(
            "Spam filtering is off: AKISMET_API_KEY is not set.",
            hint="Set AKISMET_API_KEY (and AKISMET_SITE_URL) to check every post with "
            "Akismet. Until then posts follow the moderation rules alone.",
            id="annotate.W001",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def site_url_configured(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if settings.SITE_URL:
        return []
    from .site import site_url

    return [
        checks.Warning(
            f"SITE_URL is not set: links in emails fall back to {site_url()}.",
            hint="Set SITE_URL to the address people open the site at, e.g. "
            "SITE_URL=https://annotate.school.edu, so that every link in every email works.",
            id="annotate.W002",
        )
    ]
