from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from celery.signals import task_postrun, task_prerun
        from django.contrib.auth import get_user_model

        from . import context, recording

        # Deleting a user empties the owner of contacts, the assignee of tickets ...: changes to those too.
        recording.watch_deletions(get_user_model())

        tokens = {}

        # What a Celery task changes is the system's, also when the task runs in-process within a request.
        # (The import task says otherwise: it acts for the user who started the import.)
        def enter(task_id=None, **kwargs):
            tokens[task_id] = context.enter_system_task()

        def leave(task_id=None, **kwargs):
            token = tokens.pop(task_id, None)
            if token is not None:
                context.leave_system_task(token)

        task_prerun.connect(enter, weak=False, dispatch_uid="audit-task-prerun")
        task_postrun.connect(leave, weak=False, dispatch_uid="audit-task-postrun")
