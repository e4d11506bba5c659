from django.contrib import admin
from django.urls import include, path

from jada import views
from jada.signin import AdminLoginForm

admin.site.site_header = "JADA · charter operations"
admin.site.site_title = "JADA"
admin.site.index_title = "Bookings, crew and guest pages"
admin.site.login_form = AdminLoginForm  # rate limited per account and per client
admin.site.site_url = None  # no public site behind "View site": the guest pages are elsewhere

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("jada.api.urls")),
    path("crew/", include("crew.urls")),
    path("calendar/", include("bookings.urls")),
    path("", include("guests.urls")),
    path("", views.home, name="home"),
]

# Under /api/ these answer JSON, like everything else the API says.
handler400 = "jada.api.views.bad_request"
# In the admin, a staff member without a permission reads the admin's own page saying so.
handler403 = "jada.views.permission_denied"
handler500 = "jada.api.views.server_error"
