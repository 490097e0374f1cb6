import contextlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from . import instructor, lifecycle
from .discussion import THREAD_DEPTH, build_discussion
from .forms import EditForm, FlagForm, PostForm
from .fragments import changed_parts
from .history import render_past_revision
from .models import ModerationSettings, Post, Reading
from .moderation import closed_message, why_held
from .rendering import render_markdown
from .spaces import Space, get_space_for_reader, readable_documents, space_of
from .webannotation import annotation_collection, jsonld_response

FRAGMENT_HEADER = "X-Annotate-Fragment"


def wants_fragment(request: HttpRequest) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "1"


def plain_refusal(message: str, status: int = 400) -> HttpResponse:
    """What a fetch request gets back instead of a page: the reason, in words."""
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def form_errors_text(form) -> str:
    return " ".join(message for errors in form.errors.values() for message in errors)


def get_post_for_reader(request: HttpRequest, pk: int) -> tuple[Post, Space]:
    """A post the reader may see, in a discussion they may read, or 404."""
    post = get_object_or_404(
        Post.objects.visible_to(request.user).select_related("document", "classroom"), pk=pk
    )
    space = space_of(post, request.user)
    if space is None:
        raise Http404("No post here.")
    return post, space


def get_post_for_author(request: HttpRequest, pk: int) -> tuple[Post, Space]:
    """The reader's own post, still theirs to change, or 404/403."""
    post, space = get_post_for_reader(request, pk)
    if post.author_id != request.user.pk:
        raise PermissionDenied("Only the author of a post can change it.")
    if post.is_deleted:
        raise Http404("This post was deleted.")
    return post, space


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    documents = list(readable_documents(request.user).filter(is_public=True))
    classrooms = list(request.user.classrooms.all()) if request.user.is_authenticated else []
    if len(documents) == 1 and not classrooms:
        return redirect(documents[0])
    context = {"documents": documents, "classrooms": classrooms}
    return render(request, "annotate/home.html", context)


@require_safe
def document(request: HttpRequest, slug: str, class_slug: str | None = None) -> HttpResponse:
    if class_slug and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        space = get_space_for_reader(request, slug, class_slug)
    except Http404:
        # A class-only text at its public address: its readers go to their class's page.
        reading = _first_reading_of(request.user, slug) if class_slug is None else None
        if reading is None:
            raise
        return redirect(reading)
    revision = _int_or_none(request.GET.get("revision"))
    current = space.document.current_revision
    if revision and current and revision != current.number:
        return render_past_revision(request, space, revision)
    return render_document(request, space)


def _first_reading_of(user, slug: str) -> Reading | None:
    if not user.is_authenticated:
        return None
    return (
        Reading.objects.filter(classroom__members=user, document__slug=slug)
        .select_related("classroom", "document")
        .first()
    )


def render_document(
    request: HttpRequest,
    space: Space,
    *,
    form: PostForm | None = None,
    status: int = 200,
    template_name: str = "annotate/document.html",
) -> HttpResponse:
    document = space.document
    posts = space.posts_for(request.user).select_related("author")
    # The teaching staff's filters (?student=, ?show=): some threads only.
    posts = instructor.narrow_threads(posts, space) if space.filters_threads else list(posts)
    current_post = _int_or_none(request.GET.get("post"))
    discussion = build_discussion(
        document,
        request.user,
        posts,
        classroom=space.classroom,
        current_post=current_post,
        may_pick=space.may_pick,
    )
    reply_to_pk = _int_or_none(request.GET.get("replyto"))
    reply_to = discussion.posts_by_id.get(reply_to_pk)
    reply_to_root = discussion.root_of.get(reply_to_pk)
    comment_reply_to = (
        reply_to if reply_to and reply_to_root not in discussion.note_counts else None
    )
    context = {
        "document": document,
        "space": space,
        "hiding_classmates": space.hides_classmates_from(request.user),
        "discussion": discussion,
        "form": form
        or PostForm(initial={"parent": comment_reply_to.pk if comment_reply_to else None}),
        "reply_to": comment_reply_to,
        "thread_reply_to": reply_to,
        "reply_to_root": reply_to_root,
        "current_post": current_post,
        "current_root": discussion.root_of.get(current_post or reply_to_pk),
        "thread_depth": THREAD_DEPTH,
        "roll": instructor.staff_view(space),
    }
    return render(request, template_name, context, status=status)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@require_POST
@login_required
def create_post(request: HttpRequest, slug: str, class_slug: str | None = None) -> HttpResponse:
    space = get_space_for_reader(request, slug, class_slug)
    document = space.document
    form = PostForm(request.POST)

    def refuse(message: str, status: int = 400) -> HttpResponse:
        if wants_fragment(request):
            return plain_refusal(message, status)
        form.add_error(None, message)
        return render_document(request, space, form=form, status=status)

    if not form.is_valid():
        if wants_fragment(request):
            return refuse(form_errors_text(form))
        return render_document(request, space, form=form, status=400)

    rules = ModerationSettings.load()
    try:
        classroom_id = space.classroom.pk if space.classroom else None
        lifecycle.check_may_post(request.user, document, rules, classroom_id)
        post = lifecycle.draft(
            space,
            request.user,
            body=form.cleaned_data["body"],
            parent_id=form.cleaned_data["parent"],
            selection=form.selection(),
        )
    except lifecycle.Refused as refused:
        return refuse(refused.message, refused.http_status)
    lifecycle.create(request, post, honeypot=form.honeypot_filled(), rules=rules)
    # With background work run in-process the check has happened already.
    # The post is committed: if the database is gone now, answer with what it
    # was saved as, not an error that makes the reader post it again.
    with contextlib.suppress(DatabaseError):
        post.refresh_from_db(fields=["status", "held_reason"])
    return _after_change(request, post, space, "Posted.", created=True)


def _after_change(
    request: HttpRequest, post: Post, space: Space, announcement: str, *, created: bool = False
) -> HttpResponse:
    if post.is_held:
        announcement = f"Your post is awaiting moderation. {why_held(post)}"
    if wants_fragment(request):
        response = _changed_parts_response(request, space, post, created=created)
        response[FRAGMENT_HEADER + "-Post"] = str(post.pk)
        response[FRAGMENT_HEADER + "-Announce"] = announcement
        return response
    messages.success(request, announcement)
    return redirect(post.get_absolute_url())


def _changed_parts_response(
    request: HttpRequest, space: Space, post: Post, *, created: bool = False
) -> HttpResponse:
    """What fetch gets after a change: the parts of the page it touched (annotate/fragments.py)."""
    parts = changed_parts(request, space, post, created=created)
    if parts is None:  # the change reaches beyond a thread: the whole discussion
        return render_document(request, space, template_name="annotate/document.html#main")
    return HttpResponse(parts)


@login_required
def edit_post(request: HttpRequest, pk: int) -> HttpResponse:
    post, space = get_post_for_author(request, pk)
    if post.status == Post.Status.REMOVED:
        raise PermissionDenied("A moderator removed this post; it can no longer be edited.")
    if message := closed_message(post.document):
        if wants_fragment(request):
            return plain_refusal(message, status=403)
        raise PermissionDenied(message)
    # Bound on every POST, even an empty one, so that it is validated.
    form = EditForm(request.POST if request.method == "POST" else None, initial={"body": post.body})
    if request.method == "POST":
        if form.is_valid():
            body = form.cleaned_data["body"]
            if body != post.body:
                lifecycle.edit(post, body)
            return _after_change(request, post, space, "Saved.")
        if wants_fragment(request):
            return plain_refusal(form_errors_text(form))
    status = 400 if form.errors else 200
    return render(request, "annotate/edit_post.html", {"post": post, "form": form}, status=status)


@login_required
def delete_post(request: HttpRequest, pk: int) -> HttpResponse:
    post, space = get_post_for_author(request, pk)
    if request.method == "POST":
        lifecycle.delete(post)
        if wants_fragment(request):
            response = _changed_parts_response(request, space, post)
            response[FRAGMENT_HEADER + "-Announce"] = "Deleted."
            return response
        messages.success(request, "Your post was deleted.")
        return redirect(space.url)
    return render(request, "annotate/delete_post.html", {"post": post})


@require_POST
@login_required
def preview(request: HttpRequest) -> HttpResponse:
    form = EditForm(request.POST)
    if not form.is_valid():
        return plain_refusal(form_errors_text(form))
    return HttpResponse(render_markdown(form.cleaned_data["body"]))


@require_safe
def post_permalink(request: HttpRequest, pk: int) -> HttpResponse:
    post, _ = get_post_for_reader(request, pk)
    return redirect(post.get_absolute_url())


@require_safe
def annotations_jsonld(
    request: HttpRequest, slug: str, class_slug: str | None = None
) -> JsonResponse:
    space = get_space_for_reader(request, slug, class_slug)
    document = space.document
    posts = list(space.posts_for(request.user).select_related("author", "revision"))
    # Exactly what the page shows: no deleted posts, and no replies whose
    # thread is hidden (under a removed post or someone else's held one).
    shown = build_discussion(document, request.user, posts, classroom=space.classroom).posts_by_id
    return jsonld_response(
        annotation_collection(request, space, [p for p in posts if p.pk in shown])
    )


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "annotate/privacy.html")


@login_required
def flag_post(request: HttpRequest, pk: int) -> HttpResponse:
    post, space = get_post_for_reader(request, pk)
    if post.is_deleted:
        raise Http404("This post was deleted.")
    if post.author_id == request.user.pk:
        raise PermissionDenied("You cannot report your own post; edit or delete it instead.")
    form = FlagForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        reported = lifecycle.report(
            post,
            by=request.user,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
        messages.success(
            request,
            "Thank you: a moderator will look at this post."
            if reported
            else "You have already reported this post; a moderator will look at it.",
        )
        return redirect(space.url)
    status = 400 if form.errors else 200
    return render(request, "annotate/flag_post.html", {"post": post, "form": form}, status=status)
