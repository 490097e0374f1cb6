"""What every admin page needs to know about moderation: the queues and Akismet."""

from django import template

from annotate import spam
from annotate.admin.moderation import SPAM_FILTERING_OFF, Queue, moderation_queues

register = template.Library()


@register.simple_tag(takes_context=True)
def moderation_queue(context) -> list[Queue]:
    """The queues as the signed-in moderator sees them: their own classes only."""
    return moderation_queues(context["request"].user)


@register.simple_tag
def spam_filtering_off() -> str:
    """The banner's words when Akismet is not configured, else an empty string."""
    return "" if spam.is_enabled() else SPAM_FILTERING_OFF
