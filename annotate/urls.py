from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("texts/<slug:slug>/", views.document, name="document"),
    path("texts/<slug:slug>/posts/", views.create_post, name="create_post"),
    path(
        "texts/<slug:slug>/annotations.jsonld",
        views.annotations_jsonld,
        name="annotations_jsonld",
    ),
    path("posts/<int:pk>/", views.post_permalink, name="post"),
    path("posts/<int:pk>/edit/", views.edit_post, name="edit_post"),
    path("posts/<int:pk>/delete/", views.delete_post, name="delete_post"),
    path("posts/<int:pk>/report/", views.flag_post, name="flag_post"),
    path("preview/", views.preview, name="preview"),
    path("privacy/", views.privacy, name="privacy"),
]
