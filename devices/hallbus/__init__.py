"""hallq's own RS-485 protocol: frames, messages, link, bus master, simulator."""
