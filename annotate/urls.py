from django.urls import path

from . import classes, exports, history, views

urlpatterns = [
    path("", views.home, name="home"),
    path("texts/<slug:slug>/", views.document, name="document"),
    path("texts/<slug:slug>/posts/", views.create_post, name="create_post"),
    path("texts/<slug:slug>/revisions/<int:number>/", history.revision_diff, name="revision_diff"),
    path(
        "texts/<slug:slug>/annotations.jsonld",
        views.annotations_jsonld,
        name="annotations_jsonld",
    ),
    path("classes/", classes.my_classes, name="my_classes"),
    path("classes/<slug:class_slug>/", classes.classroom, name="classroom"),
    path("classes/<slug:class_slug>/texts/<slug:slug>/", views.document, name="class_document"),
    path(
        "classes/<slug:class_slug>/texts/<slug:slug>/posts/",
        views.create_post,
        name="class_create_post",
    ),
    path(
        "classes/<slug:class_slug>/texts/<slug:slug>/annotations.jsonld",
        views.annotations_jsonld,
        name="class_annotations_jsonld",
    ),
    path(
        "classes/<slug:class_slug>/texts/<slug:slug>/revisions/<int:number>/",
        history.revision_diff,
        name="class_revision_diff",
    ),
    path("classes/<slug:class_slug>/join/", classes.join_by_domain, name="join_by_domain"),
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
