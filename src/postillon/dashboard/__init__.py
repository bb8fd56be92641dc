"""The web dashboard: server-rendered pages over the node's services, mounted at /dashboard.

Must not import the API package (a sibling edge); it calls services and storage directly.
"""

from postillon.dashboard.application import create_dashboard

__all__ = ["create_dashboard"]
