from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "JADA · charter operations"
admin.site.site_title = "JADA"
admin.site.index_title = "Bookings, crew and guest pages"
admin.site.site_url = None  # no public site behind "View site": the guest pages are elsewhere

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("jada.api.urls")),
    path("crew/", include("crew.urls")),
    path("", include("guests.urls")),
]
