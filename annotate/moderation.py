"""
WordPress's moderation rules, applied to a post before and after Akismet.

`rule_outcome` is pure apart from one query (has this reader had a post
approved?), so the rules read like the Discussion settings they mirror.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from .models import Document, HeldReason, ModerationSettings, Post
from .rendering import count_links

# A whole address, so that "https://www.example.com" counts once, not twice.
LINK = re.compile(r"(?:https?://|www\.|\bmailto:)[^\s<>()\[\]]*", re.IGNORECASE)


@dataclass(frozen=True)
class Outcome:
    status: str
    held_reason: str = ""
    detail: str = ""


PUBLISH = Outcome(Post.Status.PUBLISHED)


def keys(text: str) -> list[str]:
    return [line.strip().lower() for line in text.splitlines() if line.strip()]


def _match(words: list[str], haystacks: list[str]) -> str | None:
    for word in words:
        if any(word in haystack for haystack in haystacks):
            return word
    return None


def rule_outcome(
    post: Post,
    payload: dict,
    rules: ModerationSettings,
    *,
    trusted: bool,
) -> Outcome:
    """
    What the rules make of a post: spam (a disallowed key), held (links,
    moderation keys, a pre-moderated text, a first post) or published.
    Moderators and staff are exempt, as WordPress exempts editors. An edit
    is judged as a new post is.
    """
    if trusted:
        return PUBLISH
    haystacks = [
        (payload.get(field) or "").lower()
        for field in ("comment_content", "comment_author", "comment_author_email", "user_ip")
    ]
    if word := _match(keys(rules.disallowed_keys), haystacks):
        return Outcome(Post.Status.SPAM, detail=f"Contains the disallowed key “{word}”.")
    # Links as readers see them ("example.com" becomes one), or every address
    # written out, as WordPress counts them, even in code where none is a link.
    links = max(count_links(post.body), len(LINK.findall(post.body)))
    if rules.link_limit and links >= rules.link_limit:
        return Outcome(
            Post.Status.PENDING,
            HeldReason.LINKS,
            f"{links} links (the limit is {rules.link_limit}).",
        )
    if word := _match(keys(rules.moderation_keys), haystacks):
        return Outcome(
            Post.Status.PENDING, HeldReason.KEYWORD, f"Contains the moderation key “{word}”."
        )
    if post.document.premoderated:
        return Outcome(Post.Status.PENDING, HeldReason.PREMODERATED, "The text is pre-moderated.")
    if rules.hold_first_post and not _has_approved_post(post):
        return Outcome(
            Post.Status.PENDING,
            HeldReason.FIRST_POST,
            "First post: held until one of this reader’s posts is approved.",
        )
    return PUBLISH


def _has_approved_post(post: Post) -> bool:
    """Whether the reader has had a post approved: another one, or this one before an edit."""
    if post.first_published_at is not None:
        return True
    return (
        Post.objects.filter(author_id=post.author_id, status=Post.Status.PUBLISHED)
        .exclude(pk=post.pk)
        .exists()
    )


def seconds_until_allowed(user, rules: ModerationSettings, *, trusted: bool) -> int:
    """Flood control: how long `user` must wait before posting again (0: now)."""
    if trusted or not rules.flood_seconds:
        return 0
    since = timezone.now() - timedelta(seconds=rules.flood_seconds)
    last = (
        Post.objects.filter(author=user, created_at__gt=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        return 0
    wait = rules.flood_seconds - (timezone.now() - last).total_seconds()
    return max(1, int(wait + 0.999))


def closed_message(document: Document) -> str | None:
    if document.discussion_closed:
        closed_at = timezone.localtime(document.discussion_closes_at)
        return (
            f"Discussion of this text closed on {closed_at:%-d %B %Y at %H:%M}. "
            "You can still read everything posted."
        )
    return None


# What a held post's author is told about why it waits: plain words, never
# which word on the moderation list matched (that would teach spammers the list).
_WHY_HELD = {
    HeldReason.CHECKING: "It is being checked automatically, which usually takes a few seconds.",
    HeldReason.CHECK_FAILED: "The automatic check could not be reached; it is tried again shortly.",
    HeldReason.CHECK_ABANDONED: (
        "The automatic check could not finish, so a moderator will read it instead."
    ),
    HeldReason.LINKS: "It has several links, and posts with links wait for a moderator.",
    HeldReason.KEYWORD: ("It contains a word that this site asks a moderator to look at first."),
    HeldReason.FIRST_POST: (
        "First posts wait for a moderator. Once one of yours is approved, "
        "your posts appear straight away."
    ),
    HeldReason.PREMODERATED: "A moderator reads every post on this text before others see it.",
    HeldReason.FLAGS: "Readers reported it, so it is hidden until a moderator has looked at it.",
}
_WHY_HELD_OTHERWISE = "A moderator will read it before others see it."


def why_held(post: Post) -> str:
    """Why `post` waits for a moderator, as its author reads it (spam is not called spam)."""
    if post.status == Post.Status.SPAM:
        return _WHY_HELD_OTHERWISE
    return _WHY_HELD.get(post.held_reason, _WHY_HELD_OTHERWISE)
