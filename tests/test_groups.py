"""
Small groups: on a reading discussed in groups each student reads only their
group's posts and the teaching staff's, on every path a post is reached by;
the staff read everyone's and filter by group; instructors make the groups
by hand or at random, and teaching assistants only look.
"""

import random

import pytest
from django.core import mail

from annotate import groups as groups_module
from annotate.models import (
    ClassGroup,
    Classroom,
    Document,
    Membership,
    OutboundEmail,
    Post,
    Reading,
    User,
)
from annotate.notifications import notify_reply
from tests.factories import annotate, make_class, make_document, make_post, make_user, post_comment
from tests.test_classes import (
    csv_rows,
    messages_after,
    page_text,
    reading_counts_shown,
    reading_rows,
    soup,
)
from tests.test_page_queries import populate

TEXT = (
    "Words of the reading, in the first paragraph, for everyone to see.\n\n"
    "And more words in the second paragraph."
)
READING = "/classes/history/texts/grouped/"
GROUPS = "/classes/history/groups/"
FETCH = {"X-Annotate-Fragment": "1"}
NOTICE = "Your group’s notes appear here once you have posted your own."


@pytest.fixture
def grouped(db) -> Document:
    return make_document(TEXT, slug="grouped", title="Read in groups")


@pytest.fixture
def instructor(db) -> User:
    return make_user("Tess Teacher", "tess@example.com")


@pytest.fixture
def assistant(db) -> User:
    return make_user("Tia Assistant", "tia@example.com")


@pytest.fixture
def classroom(instructor, assistant, grouped) -> Classroom:
    classroom = make_class(instructor=instructor)
    Membership.objects.create(classroom=classroom, user=assistant, role=Membership.Role.ASSISTANT)
    Reading.objects.create(classroom=classroom, document=grouped, in_groups=True)
    return classroom


@pytest.fixture
def group_a(classroom) -> ClassGroup:
    return ClassGroup.objects.create(classroom=classroom, name="Group A")


@pytest.fixture
def group_b(classroom) -> ClassGroup:
    return ClassGroup.objects.create(classroom=classroom, name="Group B")


def join(classroom, name: str, group: ClassGroup | None) -> User:
    user = make_user(name, f"{name.split()[0].lower()}@example.com")
    Membership.objects.create(classroom=classroom, user=user, group=group)
    return user


@pytest.fixture
def people(classroom, group_a, group_b, instructor, assistant) -> dict[str, User]:
    """Ana and Abe in group A, Ben in group B, Una in none; the instructor and the TA."""
    return {
        "ana": join(classroom, "Ana Alpha", group_a),
        "abe": join(classroom, "Abe Alpha", group_a),
        "ben": join(classroom, "Ben Beta", group_b),
        "una": join(classroom, "Una None", None),
        "instructor": instructor,
        "assistant": assistant,
    }


@pytest.fixture
def posts(classroom, grouped, people) -> dict[str, Post]:
    def post(who, body, **fields):
        return make_post(grouped, people[who], body, classroom=classroom, **fields)

    ben = post("ben", "Ben's note.", passage="in the first paragraph")
    return {
        "ana": post("ana", "Ana's note.", passage="Words of the reading"),
        "abe": post("abe", "Abe's comment."),
        "ben": ben,
        # A teacher's reply in group B's thread: group A must not read it either.
        "ben_reply": post("instructor", "Tess answers Ben.", parent=ben),
        "staff": post("assistant", "Tia's word to all."),
        "una": post("una", "Una's comment."),
    }


SEES = {
    "ana": {"ana", "abe", "staff"},
    "abe": {"ana", "abe", "staff"},
    "ben": {"ben", "ben_reply", "staff"},
    "una": {"una", "staff"},
    "instructor": {"ana", "abe", "ben", "ben_reply", "staff", "una"},
    "assistant": {"ana", "abe", "ben", "ben_reply", "staff", "una"},
}


def shown_on_page(client, posts, url=READING) -> set[str]:
    page = page_text(client.get(url))
    return {name for name, post in posts.items() if post.body in page}


def in_jsonld(client, posts, url=READING + "annotations.jsonld") -> set[str]:
    bodies = {item["body"]["value"] for item in client.get(url).json()["first"]["items"]}
    return {name for name, post in posts.items() if post.body in bodies}


# What each person reads, on every path


@pytest.mark.parametrize("reader", list(SEES))
def test_each_reader_reads_their_group_and_the_staff_on_the_page_and_in_json_ld(
    client, people, posts, reader
):
    client.force_login(people[reader])

    assert shown_on_page(client, posts) == SEES[reader]
    assert in_jsonld(client, posts) == SEES[reader]


@pytest.mark.parametrize("reader", list(SEES))
def test_permalinks_and_report_pages_agree_with_the_page(client, people, posts, reader):
    user = people[reader]
    client.force_login(user)

    for name, post in posts.items():
        readable = name in SEES[reader]
        assert client.get(f"/posts/{post.pk}/").status_code == (302 if readable else 404), name
        report = client.get(f"/posts/{post.pk}/report/").status_code
        if post.author_id == user.pk:
            assert report == 403, name  # one's own post: edit or delete it instead
        else:
            assert report == (200 if readable else 404), name


@pytest.mark.parametrize(
    ("reader", "posts_count"), [("ana", 3), ("ben", 3), ("una", 2), ("instructor", 6)]
)
def test_the_class_page_counts_what_the_reading_page_shows(
    client, people, posts, reader, posts_count
):
    client.force_login(people[reader])

    [row] = reading_counts_shown(client.get("/classes/history/"))

    assert row[:2] == [str(posts_count), "1"]  # each of them wrote one


def test_a_student_cannot_reply_in_another_groups_thread(client, people, posts):
    client.force_login(people["ana"])

    response = post_comment(
        client,
        posts["ben"].document,
        "Sneaking in.",
        classroom=posts["ben"].classroom,
        parent=posts["ben"],
    )

    assert response.status_code == 400
    assert not Post.objects.filter(body="Sneaking in.").exists()


def test_a_fetched_annotation_gets_its_paragraph_without_another_groups_highlights(
    client, people, posts, grouped, classroom
):
    client.force_login(people["ana"])

    response = annotate(
        client, grouped, "for everyone", "Ana again.", classroom=classroom, headers=FETCH
    )

    html = response.content.decode()
    assert response.status_code == 200, html
    assert "Ana again." in html and "Ana's note." in html
    assert "Ben's note." not in html and "Tess answers Ben." not in html
    highlighted = {a["data-posts"] for a in soup(response).select("a.hl")}
    assert highlighted == {str(posts["ana"].pk), str(Post.objects.get(body="Ana again.").pk)}


def test_my_activity_still_lists_a_students_posts_after_a_move(client, people, posts, group_b):
    Membership.objects.filter(user=people["ana"]).update(group=group_b)
    client.force_login(people["ana"])

    assert "Ana's note." in page_text(client.get("/activity/"))


# Moving, having no group, hide-until-posted


def test_moving_a_student_changes_what_they_and_both_groups_read_from_then_on(
    client, people, posts, group_a, instructor
):
    client.force_login(instructor)
    ben = Membership.objects.get(user=people["ben"])
    students = Membership.objects.filter(role=Membership.Role.STUDENT)
    data = {f"student-{m.pk}": m.group_id or "" for m in students}
    data[f"student-{ben.pk}"] = group_a.pk

    response = client.post(GROUPS + "members/", data)

    assert response.status_code == 302
    assert "Saved: 1 student moved." in messages_after(client, response)[0]
    client.force_login(people["ben"])
    assert shown_on_page(client, posts) == {"ana", "abe", "ben", "ben_reply", "staff"}
    client.force_login(people["ana"])
    assert shown_on_page(client, posts) == {"ana", "abe", "ben", "ben_reply", "staff"}


def test_a_moved_student_can_still_delete_their_reply_in_the_old_groups_thread(
    client, classroom, grouped, people, posts, group_b
):
    reply = make_post(
        grouped, people["abe"], "Abe answers Ana.", classroom=classroom, parent=posts["ana"]
    )
    Membership.objects.filter(user=people["abe"]).update(group=group_b)
    client.force_login(people["abe"])

    assert "Abe answers Ana." not in page_text(client.get(READING))  # the thread is A's
    assert client.post(f"/posts/{reply.pk}/delete/").status_code == 302
    reply.refresh_from_db()
    assert reply.is_deleted


def test_a_student_in_no_group_is_told_so_and_the_staff_see_how_many(
    client, people, posts, instructor
):
    client.force_login(people["una"])
    assert "you’re in no group yet" in page_text(client.get(READING))

    client.force_login(instructor)
    page = page_text(client.get(READING))
    assert "1 student has no group" in page


def test_a_grouped_student_reads_whom_they_discuss_with_on_the_page_and_the_class_page(
    client, people, posts
):
    client.force_login(people["ana"])

    line = "You’re discussing this reading with your group, Group A."
    assert line in page_text(client.get(READING))
    class_page = page_text(client.get("/classes/history/"))
    assert "Your group: Group A" in class_page
    assert line in class_page


def test_hide_until_posted_inside_groups_shows_the_group_only_after_posting(
    client, classroom, grouped, people, posts, group_a
):
    Reading.objects.filter(document=grouped).update(hide_until_posted=True)
    amy = join(classroom, "Amy Alpha", group_a)
    client.force_login(amy)

    page = page_text(client.get(READING))
    assert NOTICE in page
    assert shown_on_page(client, posts) == {"staff"}
    assert client.get(f"/posts/{posts['ana'].pk}/report/").status_code == 404
    [row] = reading_rows(client.get("/classes/history/"))
    assert row[2] == "1"

    post_comment(client, grouped, "Amy's first words.", classroom=classroom)

    assert NOTICE not in page_text(client.get(READING))
    assert shown_on_page(client, posts) == {"ana", "abe", "staff"}
    assert client.get(f"/posts/{posts['ana'].pk}/report/").status_code == 200
    [row] = reading_rows(client.get("/classes/history/"))
    assert row[2] == "4"


def test_a_reading_not_discussed_in_groups_is_read_by_the_whole_class(
    client, grouped, people, posts
):
    Reading.objects.filter(document=grouped).update(in_groups=False)
    client.force_login(people["ana"])

    assert shown_on_page(client, posts) == set(posts)
    assert "discussing this reading with your group" not in page_text(client.get(READING))


# The staff's filter


@pytest.mark.parametrize("teacher", ["instructor", "assistant"])
def test_the_staff_filter_the_discussion_by_group_as_that_group_reads_it(
    client, people, posts, group_a, group_b, teacher
):
    client.force_login(people[teacher])

    assert shown_on_page(client, posts, f"{READING}?group={group_a.pk}") == SEES["ana"]
    assert shown_on_page(client, posts, f"{READING}?group={group_b.pk}") == SEES["ben"]
    url = f"{READING}annotations.jsonld?group={group_b.pk}"
    assert in_jsonld(client, posts, url) == SEES["ben"]
    page = soup(client.get(f"{READING}?group={group_a.pk}"))
    assert page.select_one("#group-filter option[selected]").get_text() == "Group A"
    # Highlights too: only group A's passage is marked.
    assert [a["data-posts"] for a in page.select("a.hl")] == [str(posts["ana"].pk)]


def test_a_post_sent_from_a_filtered_page_gets_back_the_filtered_discussion(
    client, people, posts, group_a, grouped, classroom
):
    client.force_login(people["instructor"])
    page = soup(client.get(f"{READING}?group={group_a.pk}"))
    action = page.select_one("form[data-comment-form]")["action"]

    response = client.post(action, {"body": "Well said, group A."}, headers=FETCH)

    html = response.content.decode()
    assert response.status_code == 200, html
    assert "Well said, group A." in html
    assert "Una's comment." not in html


@pytest.mark.parametrize("value", ["abc", "999999", "", "-1", "1e3", "²", "9" * 40])
def test_an_unknown_group_in_the_filter_shows_every_group(client, people, posts, value):
    client.force_login(people["instructor"])

    response = client.get(READING, {"group": value})

    assert response.status_code == 200
    assert shown_on_page(client, posts, f"{READING}?group={value}") == set(posts)


def test_another_classs_group_does_not_filter_and_says_so(client, people, posts):
    other = make_class("Other class", "other")
    foreign = ClassGroup.objects.create(classroom=other, name="Elsewhere")
    client.force_login(people["instructor"])

    response = client.get(READING, {"group": foreign.pk})

    assert shown_on_page(client, posts, f"{READING}?group={foreign.pk}") == set(posts)
    assert "That group is not one of this class’s" in page_text(response)


def test_students_cannot_filter_their_way_into_another_group(client, people, posts, group_b):
    client.force_login(people["ana"])

    assert shown_on_page(client, posts, f"{READING}?group={group_b.pk}") == SEES["ana"]


# Reply emails


def test_a_reply_emails_its_author_only_when_they_can_read_it(
    classroom, grouped, people, posts, group_b, run_tasks
):
    same_group = make_post(
        grouped, people["abe"], "Abe answers Ana.", classroom=classroom, parent=posts["ana"]
    )
    run_tasks(notify_reply, same_group)
    assert [email.to for email in mail.outbox] == [[people["ana"].email]]

    # Ana moves to group B: a reply group A writes under her note is not hers to read.
    Membership.objects.filter(user=people["ana"]).update(group=group_b)
    other_group = make_post(
        grouped, people["abe"], "Abe again.", classroom=classroom, parent=posts["ana"]
    )
    run_tasks(notify_reply, other_group)
    assert OutboundEmail.objects.count() == 1


# Exports


def test_the_discussion_and_students_csv_carry_each_students_group(
    client, people, posts, instructor
):
    client.force_login(instructor)

    discussion = csv_rows(client.get("/classes/history/export/discussion.csv"))
    students = csv_rows(client.get("/classes/history/export/students.csv"))

    assert discussion[0][-1] == "group"
    group_of_body = {row[7]: row[-1] for row in discussion[1:]}
    assert group_of_body == {
        "Ana's note.": "Group A",
        "Abe's comment.": "Group A",
        "Ben's note.": "Group B",
        "Tess answers Ben.": "",
        "Tia's word to all.": "",
        "Una's comment.": "",
    }
    assert students[0][-1] == "group"
    assert {row[0]: row[-1] for row in students[1:]} == {
        "Abe Alpha": "Group A",
        "Ana Alpha": "Group A",
        "Ben Beta": "Group B",
        "Una None": "",
    }


def test_the_json_ld_export_names_the_group_as_each_posts_audience(
    client, people, posts, instructor
):
    client.force_login(instructor)

    collection = client.get("/classes/history/export/discussion.jsonld").json()

    audience = {
        item["body"]["value"]: item.get("audience", {}).get("name")
        for item in collection["first"]["items"]
    }
    assert audience["Ana's note."] == "Group A"
    assert audience["Ben's note."] == "Group B"
    assert audience["Tia's word to all."] is None


# The groups page


def test_the_groups_page_lists_each_group_with_its_members(client, people, posts, instructor):
    client.force_login(instructor)

    page = soup(client.get(GROUPS))

    cards = {
        card.h2.get_text(): [li.get_text() for li in card.select(".group-members li")]
        for card in page.select(".group-list .card")
    }
    assert cards == {"Group A": ["Abe Alpha", "Ana Alpha"], "Group B": ["Ben Beta"]}
    assert "1 student has no group: Una None." in page_text(client.get(GROUPS))
    una = Membership.objects.get(user=people["una"])
    assert page.select_one(f"label[for=id_student-{una.pk}]").get_text() == "Una None"


def test_teaching_assistants_see_the_groups_but_cannot_change_them(
    client, people, posts, assistant, group_a
):
    client.force_login(assistant)

    page = client.get(GROUPS)
    assert page.status_code == 200
    assert "Only the class’s instructors change its groups." in page_text(page)
    assert not soup(page).select("form[method=post]")
    for path, data in [
        ("new/", {"name": "Mine"}),
        (f"{group_a.pk}/rename/", {f"group-{group_a.pk}-name": "Mine"}),
        (f"{group_a.pk}/delete/", {}),
        ("split/", {"size": 2, "replace": "on"}),
        ("members/", {}),
    ]:
        assert client.post(GROUPS + path, data).status_code == 403, path
    assert list(ClassGroup.objects.values_list("name", flat=True)) == ["Group A", "Group B"]


def test_students_and_outsiders_do_not_find_the_groups_page(client, people, stranger):
    client.force_login(people["ana"])
    assert client.get(GROUPS).status_code == 404
    assert client.post(GROUPS + "new/", {"name": "Ours"}).status_code == 404
    client.force_login(stranger)
    assert client.get(GROUPS).status_code == 404
    client.logout()
    assert client.get(GROUPS).status_code == 302


def test_an_instructor_adds_renames_and_deletes_a_group(client, people, posts, instructor):
    client.force_login(instructor)

    response = client.post(GROUPS + "new/", {"name": "  Group C  "})
    assert response.status_code == 302
    group = ClassGroup.objects.get(name="Group C")

    response = client.post(GROUPS + f"{group.pk}/rename/", {f"group-{group.pk}-name": "Red"})
    assert messages_after(client, response)[-1] == "“Group C” is now called “Red”."

    ana = Membership.objects.get(user=people["ana"])
    a = ana.group
    response = client.post(GROUPS + f"{a.pk}/delete/")
    assert "Its 2 students are in no group now." in messages_after(client, response)[0]
    ana.refresh_from_db()
    assert ana.group is None
    assert Post.objects.filter(pk=posts["ana"].pk).exists()
    assert sorted(ClassGroup.objects.values_list("name", flat=True)) == ["Group B", "Red"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("group b", "This class already has a group called “group b”"),
        ("", "This field is required."),
        ("x" * 101, "at most 100 characters"),
    ],
)
def test_a_bad_group_name_is_refused_with_the_reason_and_the_words_kept(
    client, people, instructor, group_a, name, error
):
    client.force_login(instructor)

    response = client.post(GROUPS + "new/", {"name": name})
    renamed = client.post(GROUPS + f"{group_a.pk}/rename/", {f"group-{group_a.pk}-name": name})

    assert response.status_code == renamed.status_code == 400
    assert error in page_text(response)
    assert error in page_text(renamed)
    if name:
        assert soup(response).select_one("#id_name")["value"] == name
    assert sorted(ClassGroup.objects.values_list("name", flat=True)) == ["Group A", "Group B"]


def test_another_classs_group_cannot_be_renamed_deleted_or_joined_from_this_class(
    client, people, posts, instructor
):
    other = make_class("Other class", "other")
    foreign = ClassGroup.objects.create(classroom=other, name="Elsewhere")
    client.force_login(instructor)

    renamed = client.post(GROUPS + f"{foreign.pk}/rename/", {f"group-{foreign.pk}-name": "Mine"})
    assert messages_after(client, renamed) == [groups_module.GONE]
    deleted = client.post(GROUPS + f"{foreign.pk}/delete/")
    assert messages_after(client, deleted) == [groups_module.GONE]
    huge = client.post(GROUPS + f"{'9' * 30}/delete/")
    assert messages_after(client, huge) == [groups_module.GONE]
    ana = Membership.objects.get(user=people["ana"])
    moved = client.post(GROUPS + "members/", {f"student-{ana.pk}": foreign.pk})

    assert moved.status_code == 400
    assert "That group is not one of this class’s" in page_text(moved)
    foreign.refresh_from_db()
    assert foreign.name == "Elsewhere"
    assert Membership.objects.get(pk=ana.pk).group.name == "Group A"


# Splitting at random


@pytest.fixture
def seeded_shuffle(monkeypatch):
    monkeypatch.setattr(groups_module, "shuffle", random.Random(13).shuffle)


@pytest.mark.parametrize(("size", "sizes"), [(1, [1, 1, 1, 1]), (2, [2, 2]), (3, [2, 2]), (4, [4])])
def test_a_random_split_puts_every_student_in_one_group_none_larger_than_asked(
    client, people, posts, instructor, seeded_shuffle, size, sizes
):
    client.force_login(instructor)

    response = client.post(GROUPS + "split/", {"size": size, "replace": "on"})

    assert response.status_code == 302
    students = Membership.objects.filter(role=Membership.Role.STUDENT)
    assert all(membership.group is not None for membership in students)
    made = ClassGroup.objects.filter(classroom__slug="history")
    assert sorted((group.memberships.count() for group in made), reverse=True) == sizes
    assert [group.name for group in made] == [f"Group {n}" for n in range(1, len(sizes) + 1)]
    # The staff stay out of groups; the posts stay where they were.
    assert not Membership.objects.exclude(role=Membership.Role.STUDENT).exclude(group=None)
    assert Post.objects.count() == len(posts)


def test_a_split_asks_before_replacing_the_groups(client, people, instructor):
    client.force_login(instructor)

    response = client.post(GROUPS + "split/", {"size": 2})

    assert response.status_code == 400
    assert "The class has 2 groups already: tick this box to replace them." in page_text(response)
    assert sorted(ClassGroup.objects.values_list("name", flat=True)) == ["Group A", "Group B"]


def test_a_class_without_groups_splits_without_being_asked(client, classroom, instructor):
    for name in ["Kim One", "Lee Two", "Max Three"]:
        join(classroom, name, None)
    client.force_login(instructor)
    assert "Replace the current groups" not in page_text(client.get(GROUPS))

    response = client.post(GROUPS + "split/", {"size": 2})

    assert response.status_code == 302
    assert "split into 2 groups" in messages_after(client, response)[0]


@pytest.mark.parametrize(
    ("size", "error"),
    [
        ("0", "A group needs at least one student."),
        ("-3", "A group needs at least one student."),
        ("5", "The class has 4 students: choose a size of at most 4."),
        ("two", "Enter a whole number."),
        ("", "This field is required."),
    ],
)
def test_a_bad_group_size_is_refused_with_the_reason(client, people, instructor, size, error):
    client.force_login(instructor)

    response = client.post(GROUPS + "split/", {"size": size, "replace": "on"})

    assert response.status_code == 400
    assert error in page_text(response)
    assert sorted(ClassGroup.objects.values_list("name", flat=True)) == ["Group A", "Group B"]


def test_a_class_with_no_students_has_nothing_to_split(client, classroom, instructor):
    client.force_login(instructor)

    page = page_text(client.get(GROUPS))
    response = client.post(GROUPS + "split/", {"size": 2})

    assert "The class has no students yet" in page
    assert response.status_code == 400
    assert "The class has no students to split yet." in page_text(response)


# What the reading page costs


@pytest.mark.parametrize("reader", ["ana", "instructor"])
def test_a_grouped_reading_costs_the_same_queries_for_ten_or_a_thousand_posts(
    client, classroom, grouped, people, reader, django_assert_num_queries
):
    client.force_login(people[reader])
    writers = [people[name] for name in ("ana", "abe", "ben", "una", "instructor")]

    def count_queries(size: int, seed: int) -> int:
        Post.objects.all().delete()
        populate(grouped, writers, people["ana"], size=size, seed=seed)
        Post.objects.filter(document=grouped).update(classroom=classroom)
        with django_assert_num_queries(GROUPED_QUERIES[reader]) as captured:
            assert client.get(READING).status_code == 200
        return len(captured.captured_queries)

    assert count_queries(10, 1) == count_queries(500, 2)


GROUPED_QUERIES = {
    # The session, the user, the class, the reader's membership with their
    # group, the reading, then every post they may read with its author.
    "ana": 6,
    # The same, plus the class's groups for the filter and how many students have none,
    # and the roll of who has posted (its students, their post counts: instructor.roll_of).
    "instructor": 10,
}


# In a browser: the pages fit a phone and a laptop, and axe finds nothing


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_the_groups_page_and_a_grouped_reading_fit_the_screen_and_pass_axe(
    page, people, posts, group_a, width
):
    from tests.browser import assert_no_axe_violations, sign_in

    page.set_viewport_size({"width": width, "height": 844})
    fits = "document.documentElement.scrollWidth <= window.innerWidth"
    sign_in(page, people["instructor"].email, next_path=GROUPS)
    for path in (GROUPS, f"{READING}?group={group_a.pk}"):
        page.goto(path)
        assert page.evaluate(fits), path
        assert_no_axe_violations(page)
        page.screenshot(path=f"/tmp/groups-{width}-{path.count('?')}.png", full_page=True)
    page.context.clear_cookies()
    sign_in(page, people["ana"].email, next_path=READING)
    assert page.evaluate(fits)
    assert_no_axe_violations(page)
    page.screenshot(path=f"/tmp/groups-{width}-student.png", full_page=True)
