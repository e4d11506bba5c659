from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("jada.api.urls")),
    path("crew/", include("crew.urls")),
    path("", include("guests.urls")),
]
