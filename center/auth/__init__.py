"""Who may use the center: device tokens, staff PINs and sessions, roles."""
