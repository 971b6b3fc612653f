"""Camera: frame sources (OpenCV), QR scanning off the GUI thread, signed appointment codes."""
