"""Ticket rendering: the printed ticket as a 1-bit image any ESC/POS printer can print."""
