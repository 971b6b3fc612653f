"""Wire timing of an asynchronous serial line, and reply timeouts derived from it.

A byte on an 8N1 line is 10 bit times (start, 8 data, stop): 1.042 ms at 9600 baud,
0.0868 ms at 115200. A request/reply exchange cannot finish before

    (request bytes + reply bytes) × bits_per_byte / baud + turnaround

and the master waits that long plus ``latency_s`` (USB adapters deliver received bytes late:
the FTDI latency timer defaults to 16 ms) before it declares the attempt lost.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineTiming:
    """Timing parameters of one bus."""

    baudrate: int
    bits_per_byte: int = 10
    turnaround_s: float = 0.005
    """Longest time a device may take between the last request byte and its first reply byte."""
    latency_s: float = 0.020
    """Allowance for adapter and operating-system latency on the master side."""

    def __post_init__(self) -> None:
        if self.baudrate <= 0:
            raise ValueError(f"baud rate must be positive, got {self.baudrate}")

    @property
    def byte_time(self) -> float:
        """Seconds one byte occupies the wire."""
        return self.bits_per_byte / self.baudrate

    def wire_time(self, nbytes: int) -> float:
        """Seconds ``nbytes`` occupy the wire."""
        return nbytes * self.byte_time

    def exchange_time(self, request_len: int, reply_len: int) -> float:
        """Shortest possible time of one request/reply exchange (the wire-time limit)."""
        return self.wire_time(request_len + reply_len) + self.turnaround_s

    def reply_timeout(self, request_len: int, reply_len: int) -> float:
        """How long the master waits for a reply, counted from writing the request."""
        return self.exchange_time(request_len, reply_len) + self.latency_s

    def silence(self) -> float:
        """Inter-frame gap after which a device drops a partial frame (3.5 bytes, at least 2 ms)."""
        return max(3.5 * self.byte_time, 0.002)
