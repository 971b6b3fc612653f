"""Device families: pure framing and protocol code, drivers over a transport, simulators."""
