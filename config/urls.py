from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "annotate moderation"
admin.site.site_title = "annotate admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("annotate.urls")),
]
