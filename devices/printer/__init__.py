"""ESC/POS ticket printer: status parsing, a stream decoder, the driver and a simulator."""
