"""Tests of the device layer: protocols, drivers, simulators, tools."""
