"""The kiosk's widgets: each screen takes the presenter in its constructor and only renders
what the presenter's signals carry; touches call presenter methods."""
