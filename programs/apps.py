from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "programs"

    def ready(self) -> None:
        from . import security  # noqa: F401 - connects the sign-in receiver (idle sessions)
