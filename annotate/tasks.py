"""
Background work, every task of it: spam checks, reports to Akismet, email,
moving annotations into a revised text, converting teachers' files, and upkeep.

Tasks run through django.tasks: right after the request on a laptop
(ImmediateBackend), in `manage.py db_worker` on a server. A task does the
talking to the outside world, the claiming and the retrying; what an answer
means for a post is decided in lifecycle.py. A task that fails for an
outside reason (Akismet, the mail server) records why and leaves its work
due again; the `run_maintenance` sweep (after posts, and from cron on a
server) takes up whatever is due, so nothing depends on one task surviving.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from . import lifecycle, notifications, revisions, scores, spam
from .background import backoff, enqueue, unclaimed
from .conversion import ConversionError, convert
from .lti import sync as lti_sync
from .lti.keys import retire_superseded
from .models import (
    LmsGrade,
    ModerationSettings,
    OutboundEmail,
    Post,
    PostEvent,
    Revision,
    SpamCheck,
    TextUpload,
)

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200
# How often the relocation task writes its progress on the revision.
PROGRESS_EVERY = 50


def claim_lease() -> timedelta:
    """How long a claim holds: longer than any one Akismet call, short enough to recover soon."""
    return timedelta(seconds=60 + 2 * settings.AKISMET_TIMEOUT)


# Spam checks ---------------------------------------------------------------


@task
def check_post(post_id: int, recheck_reason: str = "") -> str:
    """Ask Akismet about a post; lifecycle decides what its answer does."""
    now = timezone.now()
    claimable = SpamCheck.objects.filter(post_id=post_id).filter(
        unclaimed("check_claimed_until", now)
    )
    if recheck_reason == "cron_retry":
        claimable = claimable.filter(next_attempt_at__lte=now)
    # The claim is taken before the network call, so that two workers or two
    # sweeps never both ask Akismet about the same post.
    if not claimable.update(check_claimed_until=now + claim_lease()):
        return "not due" if SpamCheck.objects.filter(post_id=post_id).exists() else "gone"
    spam_check = SpamCheck.objects.select_related("post").get(post_id=post_id)
    if recheck_reason in ("", "cron_retry") and not spam_check.post.waiting_for_check:
        SpamCheck.objects.filter(post_id=post_id).update(check_claimed_until=None)
        return "already checked"
    try:
        result = spam.check(spam_check.payload, recheck_reason=recheck_reason)
    except spam.SpamCheckError as error:
        return _check_failed(post_id, str(error))
    with transaction.atomic():
        post = _locked_post(post_id)
        now = timezone.now()
        SpamCheck.objects.filter(post_id=post_id).update(
            attempts=F("attempts") + 1,
            checked_at=now,
            last_error="",
            next_attempt_at=None,
            check_claimed_until=None,
            final_at=Coalesce("final_at", Value(now)),
        )
        # Read again under the lock: an edit meanwhile changed what the rules judge.
        payload = SpamCheck.objects.values_list("payload", flat=True).get(post_id=post_id)
        return lifecycle.akismet_answered(post, result.verdict, payload)


def _locked_post(post_id: int) -> Post:
    """The post, locked until the transaction ends: a moderator deciding meanwhile waits."""
    return (
        Post.objects.select_for_update(of=("self",))
        .select_related("document", "author")
        .get(pk=post_id)
    )


def _check_failed(post_id: int, error: str) -> str:
    with transaction.atomic():
        post = _locked_post(post_id)
        spam_check = SpamCheck.objects.select_for_update().get(post_id=post_id)
        spam_check.attempts += 1
        spam_check.last_error = error
        spam_check.check_claimed_until = None
        was_waiting = post.waiting_for_check and not post.moderated
        spam_check.next_attempt_at = lifecycle.akismet_unreachable(
            post, error, attempts=spam_check.attempts
        )
        spam_check.save(
            update_fields=["attempts", "last_error", "check_claimed_until", "next_attempt_at"]
        )
        if spam_check.next_attempt_at is None:
            return "gave up" if was_waiting else "error recorded"
        enqueue(check_post, post_id, "cron_retry", run_after=spam_check.next_attempt_at)
        return "will retry"


# Reports to Akismet ------------------------------------------------------------


def report_to_akismet(post: Post, *, as_spam: bool) -> None:
    """Queue submit-spam or submit-ham with the snapshot the check saw."""
    if not spam.is_enabled():
        return
    updated = SpamCheck.objects.filter(post=post).update(
        submission="spam" if as_spam else "ham",
        submission_attempts=0,
        submission_next_at=timezone.now(),
    )
    if updated:
        enqueue(submit_report, post.pk)


@task
def submit_report(post_id: int) -> str:
    now = timezone.now()
    claimed = (
        SpamCheck.objects.filter(post_id=post_id)
        .exclude(submission="")
        .filter(unclaimed("submission_claimed_until", now))
        .update(submission_claimed_until=now + claim_lease())
    )
    if not claimed:
        return "nothing to send"
    spam_check = SpamCheck.objects.select_related("post").get(post_id=post_id)
    as_spam = spam_check.submission == "spam"
    try:
        spam.submit(spam_check.payload, as_spam=as_spam)
    except spam.SpamCheckError as error:
        attempts = spam_check.submission_attempts + 1
        next_at = timezone.now() + backoff(attempts)
        SpamCheck.objects.filter(pk=spam_check.pk).update(
            submission_attempts=attempts, submission_next_at=next_at, submission_claimed_until=None
        )
        spam_check.post.record(
            PostEvent.Kind.SUBMIT_ERROR,
            detail=f"submit-{spam_check.submission}: {error} Next attempt at {next_at:%H:%M} UTC.",
        )
        enqueue(submit_report, post_id, run_after=next_at)
        return "will retry"
    # A moderator who changed their mind meanwhile queued the other report: keep it.
    SpamCheck.objects.filter(pk=spam_check.pk, submission=spam_check.submission).update(
        submission="", submission_next_at=None
    )
    SpamCheck.objects.filter(pk=spam_check.pk).update(submission_claimed_until=None)
    spam_check.post.record(
        PostEvent.Kind.SUBMITTED_SPAM if as_spam else PostEvent.Kind.SUBMITTED_HAM
    )
    return "sent"


# Email -----------------------------------------------------------------------------


def email_lease() -> timedelta:
    """How long a claim on an email holds: longer than the mail server's own timeout."""
    timeout = settings.MAILERS["default"].get("OPTIONS", {}).get("timeout", 10)
    return timedelta(seconds=60 + 2 * timeout)


@task
def send_email(email_id: int) -> str:
    """Send one email of the outbox (notifications.queue_email put it there)."""
    now = timezone.now()
    # The claim is taken before talking to the mail server, so that workers
    # and sweeps running at once send each email once.
    claimed = (
        OutboundEmail.objects.filter(pk=email_id, sent_at=None, withheld_at=None)
        .filter(unclaimed("claimed_until", now))
        .update(claimed_until=now + email_lease())
    )
    if not claimed:
        return "already sent"
    email = OutboundEmail.objects.select_related("recipient").get(pk=email_id)
    if not notifications.may_still_receive(email):
        email.withheld_at = timezone.now()
        email.next_attempt_at = None
        email.claimed_until = None
        email.last_error = "Not sent: the recipient is no longer allowed to read it."
        email.save(update_fields=["withheld_at", "next_attempt_at", "claimed_until", "last_error"])
        return "withheld"
    try:
        EmailMessage(
            subject=email.subject, body=email.body, to=email.to, headers=email.headers
        ).send()
    except Exception as error:  # any failure of the mail server: keep it and retry
        email.attempts += 1
        email.last_error = f"{type(error).__name__}: {error}"
        email.next_attempt_at = timezone.now() + backoff(email.attempts)
        email.claimed_until = None
        email.save(update_fields=["attempts", "last_error", "next_attempt_at", "claimed_until"])
        logger.warning("Email %s not sent (attempt %s): %s", email.pk, email.attempts, error)
        enqueue(send_email, email.pk, run_after=email.next_attempt_at)
        return "will retry"
    email.sent_at = timezone.now()
    email.attempts += 1
    email.next_attempt_at = None
    email.claimed_until = None
    email.last_error = ""
    fields = ["sent_at", "attempts", "next_attempt_at", "claimed_until", "last_error"]
    if email.erase_body_when_sent:
        email.body = "(erased once sent: it held a link that signs its reader in)"
        fields.append("body")
    email.save(update_fields=fields)
    return "sent"


# Revised texts -----------------------------------------------------------------------


@task
def relocate_annotations(revision_id: int) -> dict:
    """Move each annotation of earlier revisions into this one, or orphan it."""
    revision = Revision.objects.select_related("document").get(pk=revision_id)
    document = revision.document
    if document.current_revision_id != revision.pk:
        # A newer revision exists; its own task moves everything there.
        Revision.objects.filter(pk=revision.pk).update(relocation=Revision.Relocation.DONE)
        return {"superseded": True}
    Revision.objects.filter(pk=revision.pk).update(relocation=Revision.Relocation.RUNNING)
    counts = {"moved": 0, "changed": 0, "orphaned": 0, "unchanged": 0}
    posts = list(revisions.annotations_to_move(document).select_related("revision", "author"))
    for done, post in enumerate(posts, start=1):
        counts[revisions.relocate_one(post, revision)] += 1
        if done % PROGRESS_EVERY == 0:
            Revision.objects.filter(pk=revision.pk).update(relocation_done=done)
    Revision.objects.filter(pk=revision.pk).update(
        relocation=Revision.Relocation.DONE,
        relocation_done=len(posts),
        moved=counts["moved"],
        changed=counts["changed"],
        orphaned=counts["orphaned"],
    )
    return counts


# Teachers' files -------------------------------------------------------------------------

# The progress bar moves in steps of this many percent at most once this
# often: a 5,000-page PDF writes a few dozen rows, not 5,000.
UPLOAD_PROGRESS_STEP = 5
UPLOAD_PROGRESS_SECONDS = 0.5

UNREADABLE_FILE = (
    "This file could not be read; it may be damaged. Open it, save a new copy, and upload "
    "that, or paste its text."
)


@task
def convert_upload(upload_id: int) -> str:
    """Turn a teacher's uploaded file into a text for them to check (readings.py shows it)."""
    upload = TextUpload.claim(upload_id)
    if upload is None:
        return "not waiting"
    last_written = [0, time.monotonic()]

    def progress(done: int, total: int) -> None:
        percent = min(99, done * 100 // max(total, 1))
        now = time.monotonic()
        if (
            percent - last_written[0] >= UPLOAD_PROGRESS_STEP
            and now - last_written[1] >= UPLOAD_PROGRESS_SECONDS
        ):
            upload.record_progress(percent)
            last_written[:] = [percent, now]

    try:
        result = convert(
            upload.filename,
            bytes(upload.data),
            max_bytes=settings.READING_UPLOAD_MAX_BYTES,
            progress=progress,
        )
    except ConversionError as error:
        upload.fail(str(error))
        return "failed"
    except Exception:  # a converter's bug must not leave the teacher waiting for good
        logger.exception("Upload %s (%s) could not be converted", upload.pk, upload.filename)
        upload.fail(UNREADABLE_FILE)
        return "failed"
    upload.finish(title=result.title, text=result.text, warnings=result.warnings)
    return "ready"


# Participation scores ------------------------------------------------------------------


@task
def recompute_score(reading_id: int, student_id: int | None = None) -> str:
    """
    Work a student's participation score on a reading out again (scores.py);
    with no student, every student's on that reading, after the rubric changed.
    """
    if student_id is None:
        return f"{scores.recompute_reading(reading_id)} scores"
    return "scored" if scores.recompute(reading_id, student_id) else "no such reading or student"


# Akismet's own state -------------------------------------------------------------------


@task
def check_akismet_status() -> dict:
    """Verify the key and read usage, for the admin's Akismet page (which never waits on it)."""
    row = ModerationSettings.load()
    row.akismet_status = spam.status()
    row.akismet_checked_at = timezone.now()
    row.save(update_fields=["akismet_status", "akismet_checked_at"])
    return row.akismet_status


# Classes from an LMS (annotate/lti/sync.py) ------------------------------------------


@task
def sync_lms_roster(course_id: int) -> dict | str:
    """Bring the class's members in step with its LMS course's roster."""
    course = lti_sync.claim_roster(course_id, timezone.now())
    if course is None:
        return "already syncing"
    try:
        return lti_sync.sync_roster(course)
    except lti_sync.services.ServiceError as error:
        logger.warning("Roster of LMS course %s not synced: %s", course_id, error)
        return "failed"


@task
def send_lms_grades(link_id: int) -> dict:
    """Send an LMS link's waiting scores to its gradebook column; retries are queued."""
    done = lti_sync.send_grades(link_id, timezone.now())
    retry_at = (
        LmsGrade.objects.filter(link_id=link_id, status=LmsGrade.Status.WAITING)
        .exclude(next_attempt_at=None)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if done["more"]:
        enqueue(send_lms_grades, link_id)  # more than one batch was due
    elif done["retrying"] and retry_at is not None:
        enqueue(send_lms_grades, link_id, run_after=retry_at)
    return done


# Upkeep ------------------------------------------------------------------------


@task
def run_maintenance() -> dict:
    """
    Take up due retries, delete old spam, erase expired personal data, drop
    abandoned uploads, retire LTI keys superseded for longer than the overlap,
    sync LMS rosters a day old, and send LMS grades that are due (queueing
    those of readings whose due date has passed).

    Any number of sweeps may run at once, on any number of servers: each
    piece of work is claimed in the database before it is done, so each is
    done once, and the counts say what this sweep itself did.
    """
    now = timezone.now()
    rules = ModerationSettings.load()
    due_checks = SpamCheck.objects.filter(
        unclaimed("check_claimed_until", now),
        next_attempt_at__lte=now,
        post__status=Post.Status.PENDING,
        post__moderated_at=None,
    ).values_list("post_id", flat=True)[:SWEEP_BATCH]
    checks = sum(
        check_post.call(post_id, "cron_retry") not in NOTHING_DONE for post_id in list(due_checks)
    )
    due_reports = (
        SpamCheck.objects.exclude(submission="")
        .filter(unclaimed("submission_claimed_until", now), submission_next_at__lte=now)
        .values_list("post_id", flat=True)[:SWEEP_BATCH]
    )
    reports = sum(submit_report.call(post_id) not in NOTHING_DONE for post_id in list(due_reports))
    due_emails = OutboundEmail.objects.filter(
        unclaimed("claimed_until", now), sent_at=None, withheld_at=None, next_attempt_at__lte=now
    ).values_list("pk", flat=True)[:SWEEP_BATCH]
    emails = sum(send_email.call(email_id) not in NOTHING_DONE for email_id in list(due_emails))

    deleted = delete_old_spam(now - timedelta(days=rules.spam_retention_days))
    digests = notifications.send_digests()
    erased = erase_private_data(now - timedelta(days=rules.privacy_retention_days))
    abandoned = fail_abandoned_task_rows(now - ABANDONED_TASK_AFTER)
    uploads = drop_old_uploads(now - UPLOADS_KEPT_FOR)
    keys = retire_superseded()
    rosters = sum(
        isinstance(sync_lms_roster.call(pk), dict)
        for pk in list(lti_sync.rosters_due(now)[:SWEEP_BATCH])
    )
    for link in lti_sync.links_past_due(now)[:SWEEP_BATCH]:
        lti_sync.queue_grades(link)
    grades = sum(
        send_lms_grades.call(pk)["sent"]
        for pk in list(lti_sync.grades_due(timezone.now())[:SWEEP_BATCH])
    )
    return {
        "checks": checks,
        "reports": reports,
        "emails": emails,
        "spam_deleted": deleted,
        "digests": digests,
        "erased": erased,
        "abandoned_tasks": abandoned,
        "uploads_dropped": uploads,
        "lti_keys_retired": keys,
        "lms_rosters_synced": rosters,
        "lms_grades_sent": grades,
    }


# What a task answers when another worker had the work, or there was none.
NOTHING_DONE = {"not due", "gone", "already checked", "nothing to send", "already sent"}

# A task row still "running" after this long lost its worker (every task here
# finishes in seconds; a worker restarted with its --worker-id requeues its
# own rows at once, see the db_worker command).
ABANDONED_TASK_AFTER = timedelta(minutes=30)

# An upload is checked and saved within minutes; one left this long was
# abandoned, and its file (up to READING_UPLOAD_MAX_BYTES) or text goes.
UPLOADS_KEPT_FOR = timedelta(days=7)


def drop_old_uploads(cutoff) -> int:
    """Delete uploads older than `cutoff`, saved or not: a saved one is its text by now."""
    return TextUpload.objects.filter(created_at__lt=cutoff).delete()[0]


def fail_abandoned_task_rows(cutoff) -> int:
    """
    Close the rows of tasks whose worker died mid-run, so that the task list
    does not show them running for good. Their work itself is not lost: it
    is claimed in our own tables, and the sweep takes it up once the claim
    lapses.
    """
    return (
        DBTaskResult.objects.running()
        .filter(started_at__lt=cutoff)
        .update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path="annotate.tasks.WorkerLost",
            traceback="The worker stopped while running this task; the sweep took up its work.",
        )
    )


def delete_old_spam(cutoff) -> int:
    """
    Delete spam created (and, if a moderator judged it, judged) before
    `cutoff`; return how many posts went. A spam post with other posts
    beneath it that are not going too is kept: deleting it would take them
    with it, and a reader's reply is not spam because its parent was.
    """
    expired = (
        Post.objects.filter(status=Post.Status.SPAM, created_at__lt=cutoff)
        .filter(Q(moderated_at=None) | Q(moderated_at__lt=cutoff))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    deleted = 0
    after = 0
    while batch := list(expired.filter(pk__gt=after)[:SWEEP_BATCH]):
        after = batch[-1]
        doomed = set(batch)
        # A reply that stays keeps its parent, and so on up the thread.
        while kept := set(
            Post.objects.filter(parent_id__in=doomed)
            .exclude(pk__in=doomed)
            .values_list("parent_id", flat=True)
        ):
            doomed -= kept
        if doomed:
            _, counts = Post.objects.filter(pk__in=doomed).delete()
            deleted += counts.get(Post._meta.label, 0)
    return deleted


def erase_private_data(cutoff) -> int:
    erased = 0
    expired = SpamCheck.objects.filter(erased_at=None, final_at__lt=cutoff).select_related("post")
    for spam_check in expired[:SWEEP_BATCH]:
        with transaction.atomic():
            # Claimed by setting erased_at: a sweep running beside this one skips the row.
            if not SpamCheck.objects.filter(pk=spam_check.pk, erased_at=None).update(
                erased_at=timezone.now()
            ):
                continue
            for field in SpamCheck.PRIVATE_FIELDS:
                spam_check.payload[field] = ""
            spam_check.save(update_fields=["payload"])
            spam_check.post.record(
                PostEvent.Kind.ERASED, detail="IP address, user agent, referrer."
            )
        erased += 1
    return erased


def sweep_soon() -> None:
    """Run the upkeep sweep at most once a minute, riding on ordinary traffic."""
    if cache.add("annotate:maintenance", True, timeout=60):
        enqueue(run_maintenance)
