"""The demo content of Tessera: two organizations (GAEL, a professional association, and
Riverside USD, a school district) with complete, published credentials, a pathway and demo logins.

The content is plain data in ``gael``, ``riverside``, ``screencastify_quiz`` and ``people``;
``loader`` turns it into rows through the services. ``manage.py load_demo`` runs it.
"""

from .loader import DemoLogin, DemoResult, load_demo
from .people import DEMO_PASSWORD

__all__ = ["DEMO_PASSWORD", "DemoLogin", "DemoResult", "load_demo"]
