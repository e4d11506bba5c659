from django.apps import AppConfig


class JadaConfig(AppConfig):
    name = "jada"
    verbose_name = "Pipeline and intake"

    def ready(self) -> None:
        # Crew code cannot reach the ledger's audit log; what a member changes is recorded here.
        from crew.signals import crew_changed_by_member, crew_changed_by_operator
        from jada.services import crew_change_by_member_record, crew_change_by_operator_record

        crew_changed_by_member.connect(crew_change_by_member_record, dispatch_uid="jada-audit")
        crew_changed_by_operator.connect(
            crew_change_by_operator_record, dispatch_uid="jada-audit-operator"
        )
