"""The hall screen (大屏): latest calls, waiting figures and window states on a TV (Qt).

``model`` (pure: events and snapshots in, an immutable ``ScreenState`` out), ``feed`` (the
center's event stream and status endpoint, delivered as Qt signals), ``presenter`` (owns the
model in the GUI thread), ``view`` (the 1920×1080 widget) and ``app`` (``hallq screen``).
Only ``model`` may be imported without PySide6. See docs/screen.md.
"""
