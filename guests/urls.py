from django.urls import path

from guests import views

urlpatterns = [
    path("g/<str:session_id>", views.page, name="guests-page"),
]
