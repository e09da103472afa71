"""Program insight: dashboards, equity views and exports of an organization's program (issue 20)."""
