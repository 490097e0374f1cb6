from django.urls import path

from . import classes, exports, history, teaching, views

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
    *(path(f"texts/<slug:slug>/{route}", view, name=name) for route, view, name in TEXT_PAGES),
    path("classes/", classes.my_classes, name="my_classes"),
    path("classes/<slug:class_slug>/", classes.classroom, name="classroom"),
    *(
        path(f"classes/<slug:class_slug>/texts/<slug:slug>/{route}", view, name=f"class_{name}")
        for route, view, name in TEXT_PAGES
    ),
    path("classes/<slug:class_slug>/join/", classes.join_by_domain, name="join_by_domain"),
    path("classes/<slug:class_slug>/join-link/", classes.join_link, name="join_link"),
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
    path("join/<str:token>/", classes.join, name="join"),
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
