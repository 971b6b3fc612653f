"""The hall's web pages, served by the center: the staff console, the supervisor's live hall
and the citizen's QR rating page (plain HTML, CSS and JavaScript under ``static/``), and the
read models and pure rules behind them (alerts, per-window figures, rating links).
See docs/web.md.
"""
