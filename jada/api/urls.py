from django.urls import path, re_path

from jada.api import views

urlpatterns = [
    path("bookings", views.bookings, name="api-bookings"),
    # A trailing slash is the same endpoint: a redirect would turn a POST into a GET.
    path("bookings/", views.bookings),
    # Any segment, so a malformed id gets the API's JSON 404 rather than the site's HTML one.
    re_path(r"^bookings/(?P<pk>[^/]+)/?$", views.booking, name="api-booking"),
    path("openapi.json", views.openapi, name="api-openapi"),
    re_path(r"^(?P<rest>[\s\S]*)$", views.not_found),
]
