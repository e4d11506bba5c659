from django.apps import AppConfig


class JadaConfig(AppConfig):
    name = "jada"
    verbose_name = "Pipeline and intake"
