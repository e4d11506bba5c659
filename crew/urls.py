from django.urls import path

from crew import availability_views, offer_views, views

urlpatterns = [
    path("", views.portal, name="crew-portal"),
    path("assignments/<int:pk>/", views.assignment, name="crew-assignment"),
    path("assignments/<int:pk>/respond/", views.assignment_respond, name="crew-respond"),
    path("answer/<int:pk>/", views.answer, name="crew-answer"),
    path("checklist/<int:pk>/tick/", views.checklist_tick, name="crew-checklist-tick"),
    path("login/", views.login_view, name="crew-login"),
    path("login/new-link/", views.link_request, name="crew-link-request"),
    path("logout/", views.logout_view, name="crew-logout"),
    path("feed/<str:token>.ics", views.feed, name="crew-feed"),
    path("offers/<str:token>/", offer_views.offer, name="crew-offer"),
    path("availability/", availability_views.days, name="crew-availability"),
    path("availability/remove/", availability_views.day_remove, name="crew-availability-remove"),
]
