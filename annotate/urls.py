from django.urls import path

from . import (
    classes,
    exports,
    grading,
    groups,
    history,
    insights,
    instructor,
    readings,
    roster,
    teaching,
    terms,
    views,
)
from .lti import classes as lms
from .lti import views as lti

# A text's pages, at its public address and at each class's: named "document"
# and "class_document", and so on (models.text_url builds either).
TEXT_PAGES = [
    ("", views.document, "document"),
    ("posts/", views.create_post, "create_post"),
    ("revisions/<int:number>/", history.revision_diff, "revision_diff"),
    ("annotations.jsonld", views.annotations_jsonld, "annotations_jsonld"),
]

urlpatterns = [
    path("", views.home, name="home"),
    # Launches from a school's LMS over LTI 1.3 (annotate/lti/, docs/lms.md).
    path("lti/login/", lti.login_initiation, name="lti_login"),
    path("lti/login/<uuid:registration_uuid>/", lti.login_initiation, name="lti_login_for"),
    path("lti/launch/", lti.launch, name="lti_launch"),
    path("lti/link-account/", lti.link_account, name="lti_link_account"),
    path("lti/reading/", lti.pick_reading, name="lti_pick_reading"),
    path("lti/jwks.json", lti.jwks, name="lti_jwks"),
    path("lti/canvas.json", lti.canvas_config, name="lti_canvas_config"),
    path("classes/<slug:class_slug>/lms/roster/sync/", lms.sync_roster_now, name="lms_sync_roster"),
    path(
        "classes/<slug:class_slug>/texts/<slug:slug>/lms-grades/", lms.lms_grades, name="lms_grades"
    ),
    path(
        "classes/<slug:class_slug>/texts/<slug:slug>/lms-grades/send/",
        lms.send_grades_now,
        name="lms_send_grades",
    ),
    *(path(f"texts/<slug:slug>/{route}", view, name=name) for route, view, name in TEXT_PAGES),
    path("classes/", classes.my_classes, name="my_classes"),
    path("classes/<slug:class_slug>/", classes.classroom, name="classroom"),
    *(
        path(f"classes/<slug:class_slug>/texts/<slug:slug>/{route}", view, name=f"class_{name}")
        for route, view, name in TEXT_PAGES
    ),
    # A reading's heatmap, questions and activity, for its teaching staff (annotate/insights.py).
    path(
        "classes/<slug:class_slug>/texts/<slug:slug>/insights/",
        insights.insights,
        name="reading_insights",
    ),
    path("classes/<slug:class_slug>/join/", classes.join_by_domain, name="join_by_domain"),
    path("classes/<slug:class_slug>/join-link/", classes.join_link, name="join_link"),
    path("classes/<slug:class_slug>/settings/", classes.class_settings, name="class_settings"),
    path("classes/<slug:class_slug>/delete/", classes.delete_class, name="delete_class"),
    path(
        "classes/<slug:class_slug>/new-join-link/",
        classes.regenerate_join_link,
        name="regenerate_join_link",
    ),
    path(
        "classes/<slug:class_slug>/export/discussion.csv",
        exports.discussion_csv,
        name="export_discussion_csv",
    ),
    path(
        "classes/<slug:class_slug>/export/discussion.jsonld",
        exports.discussion_jsonld,
        name="export_discussion_jsonld",
    ),
    path(
        "classes/<slug:class_slug>/export/students.csv",
        exports.students_csv,
        name="export_students_csv",
    ),
    # Participation scores: the rubric, the gradebook, a student's scores (annotate/grading.py).
    path("classes/<slug:class_slug>/rubric/", grading.rubric, name="class_rubric"),
    path("classes/<slug:class_slug>/gradebook/", grading.gradebook, name="gradebook"),
    path(
        "classes/<slug:class_slug>/export/gradebook.csv",
        grading.gradebook_csv,
        name="export_gradebook_csv",
    ),
    path(
        "classes/<slug:class_slug>/students/<int:membership_id>/",
        grading.student_scores,
        name="student_scores",
    ),
    # Copying a class into a new term.
    path("classes/<slug:class_slug>/copy/", terms.copy_class_view, name="copy_class"),
    # A class's small groups (annotate/groups.py).
    path("classes/<slug:class_slug>/groups/", groups.groups_page, name="class_groups"),
    path("classes/<slug:class_slug>/groups/new/", groups.new_group, name="new_group"),
    path("classes/<slug:class_slug>/groups/members/", groups.move_members, name="move_members"),
    path("classes/<slug:class_slug>/groups/split/", groups.split_groups, name="split_groups"),
    path(
        "classes/<slug:class_slug>/groups/<int:group_id>/rename/",
        groups.rename_group,
        name="rename_group",
    ),
    path(
        "classes/<slug:class_slug>/groups/<int:group_id>/delete/",
        groups.delete_group,
        name="delete_group",
    ),
    # A class's readings, added and edited by its instructors (annotate/readings.py).
    path("classes/<slug:class_slug>/readings/new/", readings.new_reading, name="new_reading"),
    path(
        "classes/<slug:class_slug>/readings/uploads/<slug:token>/",
        readings.upload,
        name="reading_upload",
    ),
    path(
        "classes/<slug:class_slug>/readings/uploads/<slug:token>/status.json",
        readings.upload_status,
        name="reading_upload_status",
    ),
    path(
        "classes/<slug:class_slug>/readings/<slug:slug>/edit/",
        readings.edit_reading,
        name="edit_reading",
    ),
    path(
        "classes/<slug:class_slug>/readings/<slug:slug>/remove/",
        readings.remove_reading,
        name="remove_reading",
    ),
    path("join/<str:token>/", classes.join, name="join"),
    # The teaching staff's view of a reading (annotate/instructor.py).
    path(
        "classes/<slug:class_slug>/texts/<slug:slug>/remind/",
        instructor.remind,
        name="remind_reading",
    ),
    path("posts/<int:pk>/pick/", instructor.pick_post, name="pick_post"),
    # A class's roster, invitations by email, and its staff links (annotate/roster.py).
    path("classes/<slug:class_slug>/roster/", roster.roster, name="roster"),
    path("classes/<slug:class_slug>/roster/invite/", roster.invite_members, name="invite_members"),
    path(
        "classes/<slug:class_slug>/roster/<int:membership_id>/role/",
        roster.change_member_role,
        name="change_member_role",
    ),
    path(
        "classes/<slug:class_slug>/roster/<int:membership_id>/remove/",
        roster.remove_from_class,
        name="remove_member",
    ),
    path(
        "classes/<slug:class_slug>/new-staff-links/",
        roster.regenerate_staff_links,
        name="regenerate_staff_links",
    ),
    path("join/staff/<str:token>/", roster.join_as_staff, name="join_staff"),
    path("teaching/", teaching.teaching, name="teaching"),
    path("teaching/become-a-teacher/", teaching.become_teacher, name="become_teacher"),
    path("teaching/new-class/", teaching.new_class, name="new_class"),
    path(
        "teaching/invitations/<str:token>/",
        teaching.accept_invitation,
        name="accept_teacher_invitation",
    ),
    path("activity/", classes.my_activity, name="my_activity"),
    path("preferences/", classes.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", classes.unsubscribe, name="unsubscribe"),
    path("posts/<int:pk>/", views.post_permalink, name="post"),
    path("posts/<int:pk>/edit/", views.edit_post, name="edit_post"),
    path("posts/<int:pk>/delete/", views.delete_post, name="delete_post"),
    path("posts/<int:pk>/report/", views.flag_post, name="flag_post"),
    path("preview/", views.preview, name="preview"),
    path("privacy/", views.privacy, name="privacy"),
]
