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
